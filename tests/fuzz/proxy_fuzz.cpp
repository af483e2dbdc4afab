// PROXY protocol v2 headers (a balancer's first bytes): the parser must never crash, must only
// name a client for a well-formed PROXY command over TCP/IPv4 or IPv6, and the fixed part must
// agree with the whole header on its length.
#include <arpa/inet.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/proxy_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto fixed = congvu::parse_proxy_v2_fixed(in);
  auto whole = congvu::parse_proxy_v2(in);
  if (whole.kind != congvu::ProxyHeader::invalid) {
    if (fixed.kind == congvu::ProxyHeader::invalid || congvu::kProxyV2Fixed + fixed.body != size) std::abort();
    if (whole.kind == congvu::ProxyHeader::proxy) {
      unsigned char buf[16];
      if (inet_pton(AF_INET, whole.source.c_str(), buf) != 1 && inet_pton(AF_INET6, whole.source.c_str(), buf) != 1)
        std::abort();
    }
  }
  return 0;
}
