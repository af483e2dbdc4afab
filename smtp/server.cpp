#include "smtp/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/faults.hpp"
#include "common/net/completion.hpp"
#include "common/net/serve.hpp"
#include "common/net/tls_context.hpp"
#include "directory/sasl.hpp"
#include "directory/throttle.hpp"

namespace congvu::smtp {

namespace {

namespace asio = boost::asio;
using net::Completion;
using net::Turn;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// SMTP on the shared connection loop (common/net/serve.hpp): the session's actions are the
// TLS handshake, deliveries (250 only after the group commit), SASL steps and SPF/DKIM/DMARC
// checks on the worker pool.
class Protocol {
 public:
  Protocol(net::Connection& c, SessionConfig cfg, std::shared_ptr<ServerContext> ctx)
      : c_(c), ctx_(std::move(ctx)), host_(cfg.hostname), submission_(cfg.kind != Listener::mx),
        session_(std::move(cfg), ctx_->recipients, Peer{c.peer(), c.implicit_tls()}, ctx_->dkim) {}

  std::string greeting() { return session_.greeting(); }
  void tls_started() {}
  bool feed(std::string_view bytes) {
    session_.feed(bytes);
    return true;
  }
  bool busy() const { return session_.in_transaction(); }
  std::chrono::seconds read_timeout() const {
    // The MX waits RFC 5321's five minutes; submission before AUTH gets the short deadline.
    return submission_ && !session_.authenticated() ? c_.deadlines().pre_auth : ctx_->command_timeout;
  }
  Turn failed(const std::string&) {
    sasl_.reset();
    return turn(session_.internal_error());
  }
  std::string goodbye() { return "421 4.3.2 " + host_ + " Service shutting down, try again later\r\n"; }
  std::string too_many() { return "421 4.7.0 " + host_ + " Too many connections, try again later\r\n"; }

  asio::awaitable<Turn> step(net::Connection* c) {
    Step st = session_.next(system_now_ms());
    if (std::holds_alternative<NeedInput>(st.action) || std::holds_alternative<Close>(st.action)) co_return turn(std::move(st));
    // An action: its reply goes out first (STARTTLS's 220), then the action is performed.
    if (!st.reply.empty() && !co_await c->send(st.reply)) co_return Turn{"", Turn::close};
    if (std::holds_alternative<StartTls>(st.action)) {
      if (!co_await c->start_tls()) co_return Turn{"", Turn::close};
      session_.tls_started();
    } else if (auto* d = std::get_if<Deliver>(&st.action)) {
      faults::point("smtp.deliver");
      auto done = std::make_shared<Completion<Result<mailstore::Receipt>>>(c->socket().get_executor());
      start_delivery(done, std::move(*d));
      while (!done->value) co_await done->timer.async_wait(kTuple);
      session_.delivered(*done->value);
    } else if (auto* a = std::get_if<CheckAuth>(&st.action)) {
      auto done = std::make_shared<Completion<InboundAuth>>(c->socket().get_executor());
      run_check(done, std::move(*a));
      while (!done->value) co_await done->timer.async_wait(kTuple);
      session_.auth_checked(*done->value, system_now_ms());
    } else {
      // GCC 12 mishandles lambdas created inside a co_await expression (double destruction),
      // so the job is built here and handed to a plain function.
      if (!sasl_)
        sasl_ = directory::SaslEngine::get().connect(ctx_->recipients.directory(), "smtp", host_, ctx_->throttle.get(),
                                                     c->peer());
      auto done = std::make_shared<Completion<directory::SaslResult>>(c->socket().get_executor());
      std::variant<SaslStart, SaslStep> request;
      if (auto* s = std::get_if<SaslStart>(&st.action))
        request = std::move(*s);
      else
        request = std::move(std::get<SaslStep>(st.action));
      run_sasl(done, sasl_, std::move(request));
      while (!done->value) co_await done->timer.async_wait(kTuple);
      session_.sasl_result(*done->value);
      if (done->value->kind == directory::SaslResult::failure &&
          session_.auth_failures() == directory::LoginThrottle::kConnectionFailures && ctx_->throttle)
        ctx_->throttle->disconnected(c->peer(), "smtp", session_.auth_failures());
    }
    co_return Turn{"", Turn::again};
  }

 private:
  static Turn turn(Step st) {
    return Turn{std::move(st.reply), std::holds_alternative<Close>(st.action) ? Turn::close : Turn::read};
  }

  // Hands the message to the mail store, whose group commit calls back once it is durable.
  void start_delivery(std::shared_ptr<Completion<Result<mailstore::Receipt>>> done, Deliver d) {
    ctx_->recipients.store().deliver(
        d.delivery, [done](Result<mailstore::Receipt> r) { Completion<Result<mailstore::Receipt>>::set(done, std::move(r)); },
        std::move(d.expected));
  }

  // SPF, DKIM and DMARC of mail from outside, on the worker pool (blocking DNS).
  void run_check(std::shared_ptr<Completion<InboundAuth>> done, CheckAuth c) {
    ctx_->workers.post([done = std::move(done), c = std::move(c), dns = ctx_->dns] {
      InboundAuth a;
      try {
        a = check_inbound(*dns, InboundMessage{c.client_ip, c.helo, c.mail_from, *c.message, system_now_ms()});
      } catch (const std::exception&) {
        a.spf = a.dmarc = AuthResult::temperror;
      }
      Completion<InboundAuth>::set(done, std::move(a));
    });
  }

  // A SASL step on the worker pool (Argon2id takes tens of milliseconds); `done` wakes the
  // connection. The job holds the SASL connection, so it stays valid if the connection ends.
  void run_sasl(std::shared_ptr<Completion<directory::SaslResult>> done, std::shared_ptr<directory::SaslConn> conn,
                std::variant<SaslStart, SaslStep> action) {
    ctx_->workers.post([done = std::move(done), conn = std::move(conn), action = std::move(action)] {
      directory::SaslResult r;
      try {
        if (auto* a = std::get_if<SaslStart>(&action))
          r = conn->start(a->mechanism, a->initial, system_now_ms());
        else
          r = conn->step(std::get<SaslStep>(action).response, system_now_ms());
      } catch (const std::exception& e) {
        r.reason = e.what();
      }
      Completion<directory::SaslResult>::set(done, std::move(r));
    });
  }

  net::Connection& c_;
  std::shared_ptr<ServerContext> ctx_;
  std::string host_;  // our name, for SASL
  bool submission_;
  Session session_;
  std::shared_ptr<directory::SaslConn> sasl_;
};

asio::awaitable<void> serve(net::Accepted a, SessionConfig cfg, std::shared_ptr<ServerContext> ctx) {
  bool implicit = cfg.kind == Listener::submissions;
  auto c = std::make_unique<net::Connection>(std::move(a), ctx->tls->ctx.native_handle(), ctx->deadlines, implicit,
                                             ctx->log, 16384);
  auto p = std::make_unique<Protocol>(*c, std::move(cfg), ctx);
  co_await net::serve_session(c.get(), p.get());
}

}  // namespace

net::Listener& listen_smtp(net::Runtime& rt, const std::string& host, std::uint16_t port, SessionConfig cfg,
                           std::shared_ptr<ServerContext> ctx, net::ListenerLimits limits) {
  std::string name = listener_name(cfg.kind);
  return rt.listen(name, host, port, std::move(limits),
                   [cfg, ctx](net::Accepted a) { return serve(std::move(a), cfg, ctx); });
}

}  // namespace congvu::smtp
