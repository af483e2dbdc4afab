// The one connection loop of every listener (DESIGN.md "Protocols have three layers", STYLE.md
// habit 7): read, feed the session, step it, perform its actions, write. Each protocol supplies
// only a Protocol object (its session and action handlers); nothing else reads sockets.
//
//   struct MyProtocol {   // serve_session(&connection, &protocol)
//     std::string greeting();                     // sent first (may be empty)
//     void tls_started();                         // after the implicit-TLS handshake
//     bool feed(std::string_view bytes);          // false: unreadable input, close
//     asio::awaitable<Turn> step(Connection* c);  // the session's next answer, its action done
//     Turn failed(const std::string& what);       // an exception escaped step(): the protocol's
//                                                 //   temporary error (SMTP 451 4.3.0, IMAP NO
//                                                 //   [SERVERBUG] or * BYE, LDAP other, HTTP 503)
//     std::string goodbye();                      // at a stop (SMTP 421, IMAP * BYE, LDAP notice)
//     std::string too_many();                     // over a connection cap
//     bool busy() const;                          // in a transaction: a stop waits for it
//     std::chrono::seconds read_timeout() const;  // for the next read (pre-auth short, idle long)
//   };
//
// Guarantees: every step is guarded, so a failure is answered and logged, never a connection
// dropped without a reply; a stop ends a connection that waits between commands at once with
// the goodbye, lets one in a transaction finish it within the grace period, and after that
// cancels it, still sending the goodbye (within one second); a PROXY v2 header from an address
// that is not a configured balancer ends the connection. Include only from server code.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include "common/net/runtime.hpp"
#include "common/net/tls_socket.hpp"
#include "common/proxy_protocol.hpp"

namespace congvu::net {

// What the loop does after a step.
struct Turn {
  std::string out;  // bytes to send first
  enum Next { read, again, close } next = read;
};

// One client connection, as a protocol's action handlers see it.
class Connection {
 public:
  Connection(Accepted a, SSL_CTX* tls, const Deadlines& d, bool implicit_tls, LogFn log, std::size_t buffer);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  TlsSocket& socket() { return sock_; }
  const std::string& peer() const { return peer_; }
  bool proxied() const { return proxied_; }
  bool over_limit() const { return over_limit_; }
  bool implicit_tls() const { return implicit_tls_; }
  const Deadlines& deadlines() const { return deadlines_; }
  // A stop was announced: end at the next point between commands.
  bool stopping() const { return slot_->stopping(); }
  // While true, a stop cancels the pending wait at once (the client is between commands).
  void set_interruptible(bool on) { interruptible_ = on; }
  void log(const std::string& line) const {
    if (log_) log_(line);
  }
  // The read buffer; a protocol may shrink it while idle (IMAP IDLE) and grow it back.
  std::vector<char>& buffer() { return buf_; }

  // Coroutines take their parameters by value (.clang-tidy: no references that might not
  // outlive a co_await; GCC 12 also destroys temporaries bound to them too early).
  asio::awaitable<bool> send(std::string bytes);
  // The TLS handshake within the handshake deadline; true when done.
  asio::awaitable<bool> start_tls();

 private:
  TlsSocket sock_;
  std::string peer_;
  bool proxied_, over_limit_, implicit_tls_;
  std::shared_ptr<Slot> slot_;
  Deadlines deadlines_;
  LogFn log_;
  std::vector<char> buf_;
  bool interruptible_ = false;
};

namespace detail {
// The goodbye within one second, best effort (a stop must not wait for a slow reader).
asio::awaitable<void> say_goodbye(Connection* c, std::string bytes);
bool proxy_signature(std::string_view first_bytes);
}  // namespace detail

template <class P>
asio::awaitable<Turn> guarded_step(Connection* c, P* p) {
  std::string what;
  try {
    co_return co_await p->step(c);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  c->log(c->peer() + ": internal error: " + what);
  co_return p->failed(what);
}

template <class P>
asio::awaitable<void> serve_session(Connection* c, P* p) {
  if (c->over_limit()) {
    if (!c->implicit_tls() || co_await c->start_tls()) {
      const std::string refusal = p->too_many();
      co_await detail::say_goodbye(c, refusal);
    }
    co_await c->socket().shutdown();
    co_return;
  }
  if (c->implicit_tls()) {
    if (!co_await c->start_tls()) co_return;
    p->tls_started();
  }
  bool first = true;
  if (const std::string g = p->greeting(); !g.empty() && !co_await c->send(g)) co_return;
  for (bool open = true; open;) {
    // The session's answers until it needs input.
    for (;;) {
      Turn t = co_await guarded_step(c, p);
      if (!t.out.empty() && !co_await c->send(std::move(t.out))) t.next = Turn::close;
      if (t.next == Turn::again) continue;
      open = t.next == Turn::read;
      break;
    }
    if (!open) break;
    if (c->stopping() && !p->busy()) {
      const std::string bye = p->goodbye();
      co_await detail::say_goodbye(c, bye);
      break;
    }
    std::vector<char>& buf = c->buffer();
    c->set_interruptible(!p->busy());
    c->socket().expires_after(p->read_timeout());
    auto [ec, n] = co_await c->socket().read_some(buf.data(), buf.size());
    c->set_interruptible(false);
    if (ec) {
      if (c->stopping() && ec == asio::error::operation_aborted) {
        const std::string bye = p->goodbye();
        co_await detail::say_goodbye(c, bye);
      }
      break;
    }
    std::string_view bytes(buf.data(), n);
    if (first && detail::proxy_signature(bytes)) {
      c->log(c->peer() + ": closed: a PROXY header from an address that is not a configured balancer");
      break;
    }
    first = false;
    if (!p->feed(bytes)) break;
  }
  co_await c->socket().shutdown();
}

}  // namespace congvu::net
