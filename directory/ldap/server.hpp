// The LDAP listeners on the Runtime (STYLE.md habit 7): a coroutine per connection reads bytes,
// feeds the Session and writes what it answers. A bind (Argon2id) runs on the worker pool;
// other requests are answered on the event loop (an in-memory search takes microseconds).
// TLS: StartTLS on the ldap port, implicit on ldaps, through net::TlsSocket; the LDAP TLS
// context asks for (does not require) a client certificate, verified against the client CA,
// which SASL EXTERNAL maps to a person: the certificate's e-mail address (subjectAltName
// rfc822Name or the subject's emailAddress), else its UID or CN, must name an active person.
// The connection loop is common/net/serve.hpp's: a request that throws ends the connection with
// a notice of disconnection (other), a stop with one (unavailable) once the request in progress
// is answered, a connection over a cap with one (busy).
// Timeouts: deadlines.pre_auth before a bind, idle_timeout after it; deadlines.write, .handshake.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/net/runtime.hpp"
#include "common/workers.hpp"
#include "directory/ldap/session.hpp"

namespace congvu::net {
class TlsContext;
}

namespace congvu::directory::ldap {

struct ServerContext {
  Directory& dir;
  Dit& dit;
  std::shared_ptr<LoginThrottle> throttle;
  std::shared_ptr<net::TlsContext> tls;
  Workers& workers;
  std::function<void(const std::string&)> log;
  std::chrono::seconds idle_timeout{15 * 60};
  net::Deadlines deadlines{};
};

// A TLS context for LDAP: the server certificate and key, and client certificates requested
// and checked against `client_ca` (PEM file; empty: none are asked for).
std::shared_ptr<net::TlsContext> make_ldap_tls(const std::string& cert_chain, const std::string& key,
                                               const std::string& client_ca);

net::Listener& listen_ldap(net::Runtime& rt, const std::string& host, std::uint16_t port, SessionConfig cfg,
                           bool implicit_tls, std::shared_ptr<ServerContext> ctx, net::ListenerLimits limits = {});

}  // namespace congvu::directory::ldap
