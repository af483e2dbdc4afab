// The PROXY protocol version 2 header (haproxy's proxy-protocol.txt, section 2.2) that a load
// balancer (haproxy `send-proxy-v2`) puts before a connection's first byte, naming the client.
// A pure parser over bytes, fuzzed (tests/fuzz/proxy_fuzz.cpp); the listener reads exactly the
// 16 fixed bytes, then exactly the length they announce, so nothing of the stream is consumed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace congvu {

inline constexpr std::string_view kProxyV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
inline constexpr std::size_t kProxyV2Fixed = 16;     // signature, version/command, family, length
inline constexpr std::size_t kProxyV2MaxBody = 1024;  // addresses and TLVs we accept

struct ProxyHeader {
  enum Kind { invalid, local, proxy } kind = invalid;
  std::string source;        // the client's address (kind == proxy), as text
  std::uint16_t source_port = 0;
  std::size_t body = 0;      // bytes that follow the 16 fixed ones (from parse_proxy_v2_fixed)
  std::string error;         // why it is invalid
};

// The 16 fixed bytes: kind local/proxy with `body` set, or invalid with the reason.
ProxyHeader parse_proxy_v2_fixed(std::string_view fixed);
// The whole header (16 + body bytes): the client address for PROXY over TCP/IPv4 or IPv6;
// LOCAL (the balancer's own health check) and UNSPEC families name nobody (kind local).
ProxyHeader parse_proxy_v2(std::string_view header);

}  // namespace congvu
