#include "common/proxy_protocol.hpp"

#include <arpa/inet.h>

namespace congvu {

namespace {
ProxyHeader invalid(std::string why) {
  ProxyHeader h;
  h.error = std::move(why);
  return h;
}
std::uint16_t be16(std::string_view s, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(s[at]) << 8 | static_cast<unsigned char>(s[at + 1]));
}
}  // namespace

ProxyHeader parse_proxy_v2_fixed(std::string_view fixed) {
  if (fixed.size() < kProxyV2Fixed || fixed.substr(0, 12) != kProxyV2Signature)
    return invalid("not a PROXY protocol v2 header");
  auto ver_cmd = static_cast<unsigned char>(fixed[12]);
  if ((ver_cmd >> 4) != 2) return invalid("PROXY protocol version " + std::to_string(ver_cmd >> 4) + " (only 2 is read)");
  unsigned cmd = ver_cmd & 0x0F;
  if (cmd > 1) return invalid("unknown PROXY command " + std::to_string(cmd));
  ProxyHeader h;
  h.kind = cmd == 0 ? ProxyHeader::local : ProxyHeader::proxy;
  h.body = be16(fixed, 14);
  if (h.body > kProxyV2MaxBody) return invalid("PROXY header of " + std::to_string(h.body) + " bytes is too long");
  return h;
}

ProxyHeader parse_proxy_v2(std::string_view header) {
  ProxyHeader h = parse_proxy_v2_fixed(header);
  if (h.kind == ProxyHeader::invalid) return h;
  if (header.size() != kProxyV2Fixed + h.body) return invalid("PROXY header length does not match");
  if (h.kind == ProxyHeader::local) return h;
  auto fam = static_cast<unsigned char>(header[13]);
  std::string_view body = header.substr(kProxyV2Fixed);
  char text[INET6_ADDRSTRLEN] = {};
  if (fam == 0x11) {  // TCP over IPv4
    if (body.size() < 12) return invalid("PROXY header too short for IPv4 addresses");
    inet_ntop(AF_INET, body.data(), text, sizeof text);
    h.source_port = be16(body, 8);
  } else if (fam == 0x21) {  // TCP over IPv6
    if (body.size() < 36) return invalid("PROXY header too short for IPv6 addresses");
    inet_ntop(AF_INET6, body.data(), text, sizeof text);
    h.source_port = be16(body, 32);
  } else if ((fam >> 4) == 0) {  // UNSPEC: the balancer does not know; treat as its own
    h.kind = ProxyHeader::local;
    return h;
  } else {
    return invalid("PROXY address family " + std::to_string(fam) + " is not TCP over IPv4 or IPv6");
  }
  h.source = text;
  return h;
}

}  // namespace congvu
