// DNS lookups for mail (MX, A/AAAA, TXT) through c-ares. Calls block (each with its own c-ares
// channel, so they are safe from any thread): servers run them on the worker pool. `servers`
// is "host:port,host:port" (tests point it at their own dnsmasq on loopback); empty uses
// /etc/resolv.conf.
// Failures: not_found for NXDOMAIN or no record of the type (a definite answer), io for
// timeouts and server failures (try again later).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace congvu::smtp {

struct MxHost {
  int preference = 0;
  std::string host;  // "." is a null MX (RFC 7505: the domain takes no mail)
};

// What mail code asks DNS. Resolver is the real one; tests of SPF/DKIM/DMARC logic use
// StaticDns, a fixed table.
class DnsClient {
 public:
  virtual ~DnsClient() = default;
  virtual Result<std::vector<MxHost>> mx(const std::string& domain) const = 0;  // by preference
  virtual Result<std::vector<std::string>> addresses(const std::string& host) const = 0;  // v4, v6
  virtual Result<std::vector<std::string>> txt(const std::string& name) const = 0;  // one string per record
};

class StaticDns final : public DnsClient {
 public:
  std::map<std::string, std::vector<MxHost>> mx_records;
  std::map<std::string, std::vector<std::string>> address_records, txt_records;
  Result<std::vector<MxHost>> mx(const std::string& domain) const override;
  Result<std::vector<std::string>> addresses(const std::string& host) const override;
  Result<std::vector<std::string>> txt(const std::string& name) const override;
};

class Resolver final : public DnsClient {
 public:
  explicit Resolver(std::string servers = {}, std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : servers_(std::move(servers)), timeout_(timeout) {}

  Result<std::vector<MxHost>> mx(const std::string& domain) const override;
  Result<std::vector<std::string>> addresses(const std::string& host) const override;
  Result<std::vector<std::string>> txt(const std::string& name) const override;

 private:
  Result<std::string> query(const std::string& name, int type) const;
  std::string servers_;
  std::chrono::milliseconds timeout_;
};

}  // namespace congvu::smtp
