// The IMAP listeners on the Runtime (STYLE.md habit 7): a coroutine per connection reads bytes,
// feeds the Session and writes what it answers. Session::next() runs on the IMAP worker pool
// (it waits for group commits and Argon2id), one call at a time per connection; the event
// loops only move bytes. Actions: the TLS handshake (STARTTLS, or at once on 2993), DEFLATE
// after COMPRESS (RFC 4978: raw deflate, a sync flush after each write), and IDLE: the
// connection waits for the client's DONE and for the mail store's change feed, and asks the
// session for updates when the mailbox changes (and every 2 s on a unit's official inbox, so
// that a transfer out of the position ends access at once).
// TLS runs through net::TlsSocket (OpenSSL on the descriptor, no Asio stream buffers), so an
// idle connection costs about 22 KiB (docs/BENCHMARKS.md: 10 000 IDLE in 221 MiB).
// The connection loop is common/net/serve.hpp's: a step that throws answers * BYE [SERVERBUG],
// a stop answers * BYE [UNAVAILABLE] once the command in progress is done (IDLE included), a
// connection over a cap gets * BYE [UNAVAILABLE] Too many connections.
// Timeouts: deadlines.pre_auth before login, deadlines.idle after it (RFC 9051 5.4: at least 30
// minutes) and a minute more in IDLE; deadlines.write, .handshake.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/net/runtime.hpp"
#include "common/workers.hpp"
#include "imap/session.hpp"

namespace congvu::net {
class TlsContext;
}

namespace congvu::imap {

struct ServerContext {
  directory::Directory& dir;
  mailstore::Mailstore& store;
  std::shared_ptr<net::TlsContext> tls;
  Workers& workers;  // runs Session::next()
  net::Deadlines deadlines{};
  net::LogFn log{};
  std::shared_ptr<directory::LoginThrottle> throttle{};  // shared by every credential check
};

// `implicit_tls`: the IMAPS port. cfg.plaintext_ok is applied only to loopback peers.
net::Listener& listen_imap(net::Runtime& rt, const std::string& host, std::uint16_t port, SessionConfig cfg,
                           bool implicit_tls, std::shared_ptr<ServerContext> ctx, net::ListenerLimits limits = {});

}  // namespace congvu::imap
