// The SMTP listeners on the Runtime (STYLE.md habit 7: the one coroutine server shape): a
// coroutine per connection reads bytes, feeds the Session, writes its replies and performs its
// actions: the TLS handshake for STARTTLS (or at once on the implicit-TLS port), SASL steps
// on the worker pool (Argon2id must not stall the event loop), and deliveries into the mail
// store whose 250 is written only after the group commit that holds the message is durable.
// The connection loop is common/net/serve.hpp's: a step that throws answers 451 4.3.0 (421 while
// the message is still arriving), a stop answers 421 4.3.2 once the transaction in progress is
// done, a connection over a cap gets 421 4.7.0.
// Timeouts: command_timeout for every read on the MX and after AUTH, deadlines.pre_auth before
// AUTH on submission; deadlines.write and .handshake.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/net/runtime.hpp"
#include "common/workers.hpp"
#include "smtp/dns.hpp"
#include "smtp/recipients.hpp"
#include "smtp/session.hpp"

namespace congvu::net {
class TlsContext;
}

namespace congvu::directory {
class LoginThrottle;
}  // namespace congvu::directory

namespace congvu::smtp {

struct ServerContext {
  Recipients& recipients;
  std::shared_ptr<net::TlsContext> tls;
  Workers& workers;  // SASL (Argon2id) runs here
  std::chrono::seconds command_timeout{300};
  const DkimSigner* dkim = nullptr;
  std::shared_ptr<const DnsClient> dns;  // for SPF/DKIM/DMARC of inbound mail
  net::Deadlines deadlines{};
  net::LogFn log{};
  std::shared_ptr<directory::LoginThrottle> throttle{};  // every AUTH goes through it
};

net::Listener& listen_smtp(net::Runtime& rt, const std::string& host, std::uint16_t port, SessionConfig cfg,
                           std::shared_ptr<ServerContext> ctx, net::ListenerLimits limits = {});

}  // namespace congvu::smtp
