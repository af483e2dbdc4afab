// DNS lookups for mail (MX, A/AAAA, TXT) through c-ares. Calls block (each with its own c-ares
// channel, so they are safe from any thread): servers run them on the worker pool. `servers`
// is "host:port,host:port" (tests point it at their own dnsmasq on loopback); empty uses
// /etc/resolv.conf.
// Failures: not_found for NXDOMAIN or no record of the type (a definite answer), io for
// timeouts and server failures (try again later).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace congvu::smtp {

struct MxHost {
  int preference = 0;
  std::string host;  // "." is a null MX (RFC 7505: the domain takes no mail)
};

class Resolver {
 public:
  explicit Resolver(std::string servers = {}, std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : servers_(std::move(servers)), timeout_(timeout) {}

  Result<std::vector<MxHost>> mx(const std::string& domain) const;  // sorted by preference
  Result<std::vector<std::string>> addresses(const std::string& host) const;  // IPv4 then IPv6
  Result<std::vector<std::string>> txt(const std::string& name) const;  // strings of a record joined

 private:
  Result<std::string> query(const std::string& name, int type) const;
  std::string servers_;
  std::chrono::milliseconds timeout_;
};

}  // namespace congvu::smtp
