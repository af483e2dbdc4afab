#include "smtp/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "common/net/tls_context.hpp"
#include "common/net/completion.hpp"
#include "directory/sasl.hpp"

namespace congvu::smtp {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using asio::use_awaitable;
using net::tcp;
using net::Completion;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

class Connection {
 public:
  Connection(tcp::socket s, SessionConfig cfg, std::shared_ptr<ServerContext> ctx, Peer peer)
      : stream_(std::move(s), ctx->tls->ctx), ctx_(std::move(ctx)), host_(cfg.hostname),
        session_(std::move(cfg), ctx_->recipients, peer, ctx_->dkim) {}

  asio::awaitable<void> run(bool implicit_tls) {
    if (implicit_tls && !co_await handshake()) co_return;
    const std::string greeting = session_.greeting();
    if (!co_await send(greeting)) co_return;
    std::array<char, 16384> buf;
    for (;;) {
      beast::get_lowest_layer(stream_).expires_after(ctx_->command_timeout);
      auto [ec, n] = tls_ ? co_await stream_.async_read_some(asio::buffer(buf), kTuple)
                          : co_await stream_.next_layer().async_read_some(asio::buffer(buf), kTuple);
      if (ec) break;  // closed, reset, or silent past command_timeout (beast closes the socket)
      session_.feed(std::string_view(buf.data(), n));
      if (!co_await drive()) break;
    }
    co_await close();
  }

 private:

  // Runs the session until it needs input; false when the connection must end.
  asio::awaitable<bool> drive() {
    for (;;) {
      Step st = session_.next(system_now_ms());
      if (!st.reply.empty() && !co_await send(st.reply)) co_return false;
      if (std::holds_alternative<NeedInput>(st.action)) co_return true;
      if (std::holds_alternative<Close>(st.action)) co_return false;
      if (std::holds_alternative<StartTls>(st.action)) {
        if (!co_await handshake()) co_return false;
        session_.tls_started();
      } else if (auto* d = std::get_if<Deliver>(&st.action)) {
        auto done = std::make_shared<Completion<Result<mailstore::Receipt>>>(stream_.get_executor());
        ctx_->recipients.store().deliver(
            d->delivery, [done](Result<mailstore::Receipt> r) { Completion<Result<mailstore::Receipt>>::set(done, std::move(r)); },
            std::move(d->expected));
        while (!done->value) co_await done->timer.async_wait(kTuple);
        session_.delivered(*done->value);
      } else if (auto* c = std::get_if<CheckAuth>(&st.action)) {
        auto done = std::make_shared<Completion<InboundAuth>>(stream_.get_executor());
        run_check(done, std::move(*c));
        while (!done->value) co_await done->timer.async_wait(kTuple);
        session_.auth_checked(*done->value, system_now_ms());
      } else if (std::holds_alternative<SaslStart>(st.action) || std::holds_alternative<SaslStep>(st.action)) {
        // GCC 12 mishandles lambdas created inside a co_await expression (double destruction),
        // so the job is built here and handed to a plain function.
        if (!sasl_) sasl_ = directory::SaslEngine::get().connect(ctx_->recipients.directory(), "smtp", host_);
        auto done = std::make_shared<Completion<directory::SaslResult>>(stream_.get_executor());
        std::variant<SaslStart, SaslStep> request;
        if (auto* a = std::get_if<SaslStart>(&st.action))
          request = std::move(*a);
        else
          request = std::move(std::get<SaslStep>(st.action));
        run_sasl(done, sasl_, std::move(request));
        while (!done->value) co_await done->timer.async_wait(kTuple);
        session_.sasl_result(*done->value);
      }
    }
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

  // Runs a SASL step on the worker pool (Argon2id takes tens of milliseconds); `done` wakes
  // the connection. The job holds the SASL connection, so it stays valid even if this
  // connection ends first.
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

  // Callers pass named objects only: GCC 12 destroys temporaries passed to coroutines too early.
  asio::awaitable<bool> send(const std::string& bytes) {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(60));
    auto [ec, n] = tls_ ? co_await asio::async_write(stream_, asio::buffer(bytes), kTuple)
                        : co_await asio::async_write(stream_.next_layer(), asio::buffer(bytes), kTuple);
    co_return !ec;
  }

  asio::awaitable<bool> handshake() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(60));
    auto [ec] = co_await stream_.async_handshake(ssl::stream_base::server, kTuple);
    if (ec) co_return false;
    tls_ = true;
    co_return true;
  }

  asio::awaitable<void> close() {
    if (tls_) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      auto [ignored] = co_await stream_.async_shutdown(kTuple);  // named: see send()
      (void)ignored;
    }
    boost::system::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(stream_).close();
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  std::shared_ptr<ServerContext> ctx_;
  std::string host_;  // our name, for SASL
  Session session_;
  bool tls_ = false;
  std::shared_ptr<directory::SaslConn> sasl_;
};

}  // namespace

net::Listener& listen_smtp(net::Runtime& rt, const std::string& host, std::uint16_t port, SessionConfig cfg,
                           std::shared_ptr<ServerContext> ctx) {
  return rt.listen(host, port, [cfg, ctx](tcp::socket s) -> asio::awaitable<void> {
    boost::system::error_code ec;
    auto ep = s.remote_endpoint(ec);
    Peer peer{ec ? std::string("unknown") : ep.address().to_string(), cfg.kind == Listener::submissions};
    auto conn = std::make_unique<Connection>(std::move(s), cfg, ctx, peer);
    co_await conn->run(cfg.kind == Listener::submissions);
  });
}

}  // namespace congvu::smtp
