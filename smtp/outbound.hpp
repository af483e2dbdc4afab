// The outbound queue runner: delivers queued mail to other domains (RFC 5321 5: MX lookup,
// or a configured smart host), with opportunistic STARTTLS (RFC 7435: encrypt when offered,
// no certificate check), retries with backoff on temporary failures, and a DSN (RFC 3464) to
// the sender for recipients that fail permanently or time out.
// One coroutine on the runtime's main context polls the queue (mailstore::Mailstore::queue)
// every second; each due entry is attempted by its own coroutine (at most `parallel` at once);
// DNS lookups run on the worker pool. Every outcome is written back to the queue before the
// next attempt, so a crash repeats at most the delivery in flight (SMTP is at-least-once).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/net/runtime.hpp"
#include "common/workers.hpp"
#include "smtp/dns.hpp"
#include "smtp/recipients.hpp"

namespace congvu::smtp {

struct OutboundConfig {
  std::string hostname = "mail.tinhmau.test";  // EHLO name, Reporting-MTA
  std::string smarthost;                       // "host:port": all mail goes there; empty: MX
  std::uint16_t port = 25;                     // remote port for MX delivery
  std::string dns_servers;                     // Resolver servers; empty: /etc/resolv.conf
  std::vector<std::chrono::seconds> retry = {std::chrono::seconds(60), std::chrono::seconds(300),
                                             std::chrono::seconds(900), std::chrono::seconds(1800),
                                             std::chrono::seconds(3600)};  // then every hour
  std::chrono::seconds give_up{5 * 24 * 3600};  // then bounce (4.4.7)
  std::chrono::seconds timeout{120};            // per reply (10 min after the data)
  std::size_t parallel = 10;
};

class Outbound {
 public:
  Outbound(net::Runtime& rt, Recipients& recipients, Workers& workers, OutboundConfig cfg);
  ~Outbound();
  // Starts polling the queue on the runtime's main context (call before Runtime::run).
  void start();
  // Attempts currently running (for logs and tests).
  std::size_t busy() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// When the next attempt is due after `attempts` attempts (the schedule, then its last step).
std::chrono::seconds retry_delay(const OutboundConfig& cfg, std::uint32_t attempts);

}  // namespace congvu::smtp
