#include "imap/server.hpp"

#include <zlib.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/faults.hpp"
#include "common/net/completion.hpp"
#include "common/net/serve.hpp"
#include "common/net/tls_context.hpp"
#include "common/net/tls_socket.hpp"

namespace congvu::imap {

namespace {

namespace asio = boost::asio;
using asio::use_awaitable;
using net::Turn;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

// RFC 4978: raw DEFLATE both ways, every write flushed with Z_SYNC_FLUSH.
class Deflate {
 public:
  Deflate() {
    deflateInit2(&out_, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    inflateInit2(&in_, -15);
  }
  ~Deflate() {
    deflateEnd(&out_);
    inflateEnd(&in_);
  }
  Deflate(const Deflate&) = delete;
  Deflate& operator=(const Deflate&) = delete;

  std::string compress(std::string_view s) {
    std::string out;
    out_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(s.data()));
    out_.avail_in = static_cast<uInt>(s.size());
    char buf[16384];
    do {
      out_.next_out = reinterpret_cast<Bytef*>(buf);
      out_.avail_out = sizeof buf;
      deflate(&out_, Z_SYNC_FLUSH);
      out.append(buf, sizeof buf - out_.avail_out);
    } while (out_.avail_out == 0);
    return out;
  }
  // False on corrupt input.
  bool decompress(std::string_view s, std::string& out) {
    in_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(s.data()));
    in_.avail_in = static_cast<uInt>(s.size());
    char buf[16384];
    do {
      in_.next_out = reinterpret_cast<Bytef*>(buf);
      in_.avail_out = sizeof buf;
      int rc = inflate(&in_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) return false;
      out.append(buf, sizeof buf - in_.avail_out);
    } while (in_.avail_out == 0);
    return true;
  }

 private:
  z_stream out_{}, in_{};
};

// What the change feed and the IDLE read tell the waiting connection (shared with callbacks
// that may outlive the wait).
struct IdleSignal {
  explicit IdleSignal(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  bool changed = false;
  bool readable = false;
  boost::system::error_code read_ec;
};

constexpr std::size_t kBuffer = 8192, kIdleBuffer = 256;

// IMAP on the shared connection loop (common/net/serve.hpp). Session::next() runs on the IMAP
// worker pool; the actions are the TLS handshake, COMPRESS and IDLE.
class Protocol {
 public:
  Protocol(net::Connection& c, SessionConfig cfg, std::shared_ptr<ServerContext> ctx, Peer peer)
      : c_(c), ctx_(std::move(ctx)), session_(std::move(cfg), Context{ctx_->dir, ctx_->store, ctx_->throttle.get()}, std::move(peer)) {}

  std::string greeting() { return session_.greeting(); }
  void tls_started() {}
  // Feeds what was read (inflated when COMPRESS is on); false on corrupt compressed input.
  bool feed(std::string_view raw) {
    if (!deflate_) {
      session_.feed(raw);
      return true;
    }
    std::string plain;
    if (!deflate_->decompress(raw, plain)) return false;
    session_.feed(plain);
    return true;
  }
  bool busy() const { return session_.mid_command(); }
  std::chrono::seconds read_timeout() const {
    return session_.authenticated() ? c_.deadlines().idle : c_.deadlines().pre_auth;
  }
  Turn failed(const std::string&) { return Turn{pack("* BYE [SERVERBUG] Internal error, try again later\r\n"), Turn::close}; }
  std::string goodbye() { return pack("* BYE [UNAVAILABLE] Server shutting down, reconnect later\r\n"); }
  std::string too_many() { return "* BYE [UNAVAILABLE] Too many connections, try again later\r\n"; }

  asio::awaitable<Turn> step(net::Connection* c) {
    co_await next();
    Step st = std::move(step_);
    std::string out = pack(st.out);
    if (std::holds_alternative<NeedInput>(st.action)) co_return Turn{std::move(out), st.more ? Turn::again : Turn::read};
    if (std::holds_alternative<Close>(st.action)) co_return Turn{std::move(out), Turn::close};
    if (!out.empty() && !co_await c->send(std::move(out))) co_return Turn{"", Turn::close};
    if (std::holds_alternative<StartTls>(st.action)) {
      if (!co_await c->start_tls()) co_return Turn{"", Turn::close};
      session_.tls_started();
    } else if (std::holds_alternative<Compress>(st.action)) {
      deflate_ = std::make_unique<Deflate>();
    } else if (auto* idle = std::get_if<Idle>(&st.action)) {
      Idle what = *idle;
      co_return co_await idle_wait(c, what);
    }
    co_return Turn{"", Turn::again};
  }

 private:
  std::string pack(const std::string& plain) { return deflate_ ? deflate_->compress(plain) : plain; }

  // Runs Session::next() (or idle_poll()) on the worker pool; the result lands in step_.
  asio::awaitable<void> next() {
    std::function<void()> work = [this] {
      if (session_.mid_command()) faults::point("imap.command");
      step_ = session_.next(system_now_ms());
    };
    co_await net::run_on(&ctx_->workers, c_.socket().get_executor(), work);
  }
  asio::awaitable<void> poll() {
    std::function<void()> work = [this] { step_ = session_.idle_poll(system_now_ms()); };
    co_await net::run_on(&ctx_->workers, c_.socket().get_executor(), work);
  }

  // IDLE: waits for the client's next bytes, reporting mailbox changes meanwhile; a stop ends
  // it with BYE.
  asio::awaitable<Turn> idle_wait(net::Connection* c, Idle what) {
    // An idling connection holds little: a small read buffer (DONE is 6 bytes), no session
    // buffers, no TLS buffers (SSL_MODE_RELEASE_BUFFERS).
    auto& buf = c->buffer();
    buf.resize(kIdleBuffer);
    buf.shrink_to_fit();
    session_.shrink();
    auto sig = std::make_shared<IdleSignal>(c->socket().get_executor());
    std::uint64_t token = 0;
    if (what.mailbox) token = watch(sig, *what.mailbox);
    wait_readable(sig);
    bool alive = true;
    while (!sig->readable && !c->stopping()) {
      if (what.shared)
        sig->timer.expires_after(std::chrono::seconds(2));
      else
        sig->timer.expires_at(asio::steady_timer::time_point::max());
      c->set_interruptible(true);
      auto [ec] = co_await sig->timer.async_wait(kTuple);
      c->set_interruptible(false);
      bool poll_now = sig->changed || (!ec && what.shared);
      if (sig->readable || c->stopping()) break;
      if (!poll_now || !alive) continue;
      sig->changed = false;
      co_await poll();
      Step st = std::move(step_);
      const std::string out = pack(st.out);
      if (!out.empty() && !co_await c->send(out)) alive = false;
      if (std::holds_alternative<Close>(st.action)) alive = false;
      if (!alive) c->socket().close();  // ends the pending wait
      c->socket().expires_after(c->deadlines().idle + std::chrono::minutes(1));
    }
    if (token) ctx_->store.unwatch(token);
    buf.resize(kBuffer);
    if (alive && c->stopping()) co_return Turn{goodbye(), Turn::close};
    if (!alive || sig->read_ec) co_return Turn{"", Turn::close};
    // Readable: the client's bytes (normally DONE), read by the loop. A TLS record that carries
    // no data makes that read wait for the next one.
    co_return Turn{"", Turn::read};
  }

  std::uint64_t watch(const std::shared_ptr<IdleSignal>& sig, mailstore::MailboxId id) {
    std::weak_ptr<IdleSignal> weak = sig;
    auto ex = c_.socket().get_executor();
    return ctx_->store.watch(id, [weak, ex](mailstore::MailboxId, mailstore::ModSeq) {
      asio::post(ex, [weak] {
        if (auto s = weak.lock()) {
          s->changed = true;
          s->timer.cancel();
        }
      });
    });
  }

  void wait_readable(const std::shared_ptr<IdleSignal>& sig) {
    c_.socket().expires_after(c_.deadlines().idle + std::chrono::minutes(1));
    c_.socket().on_readable([sig](boost::system::error_code ec) {
      sig->readable = true;
      sig->read_ec = ec;
      sig->timer.cancel();
    });
  }

  net::Connection& c_;
  std::shared_ptr<ServerContext> ctx_;
  Session session_;
  Step step_;
  std::unique_ptr<Deflate> deflate_;
};

asio::awaitable<void> serve(net::Accepted a, SessionConfig cfg, bool implicit_tls, std::shared_ptr<ServerContext> ctx) {
  boost::system::error_code ec;
  auto ep = a.socket.remote_endpoint(ec);
  Peer peer{a.peer, implicit_tls};
  cfg.starttls = !implicit_tls;
  // Plaintext LOGIN on loopback only: the socket's own peer, never one a balancer names.
  cfg.plaintext_ok = cfg.plaintext_ok && !ec && ep.address().is_loopback() && !a.proxied;
  auto c = std::make_unique<net::Connection>(std::move(a), ctx->tls->ctx.native_handle(), ctx->deadlines, implicit_tls,
                                             ctx->log, kBuffer);
  auto p = std::make_unique<Protocol>(*c, std::move(cfg), ctx, std::move(peer));
  co_await net::serve_session(c.get(), p.get());
}

}  // namespace

net::Listener& listen_imap(net::Runtime& rt, const std::string& host, std::uint16_t port, SessionConfig cfg,
                           bool implicit_tls, std::shared_ptr<ServerContext> ctx, net::ListenerLimits limits) {
  return rt.listen(implicit_tls ? "imaps" : "imap", host, port, std::move(limits),
                   [cfg, ctx, implicit_tls](net::Accepted a) { return serve(std::move(a), cfg, implicit_tls, ctx); });
}

}  // namespace congvu::imap
