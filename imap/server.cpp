#include "imap/server.hpp"

#include <zlib.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/net/completion.hpp"
#include "common/net/tls_context.hpp"
#include "common/net/tls_socket.hpp"

namespace congvu::imap {

namespace {

namespace asio = boost::asio;
using asio::use_awaitable;
using net::tcp;
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
constexpr std::chrono::seconds kIoLimit{60};  // for a handshake or a write

class Connection {
 public:
  Connection(tcp::socket s, SessionConfig cfg, std::shared_ptr<ServerContext> ctx, Peer peer)
      : sock_(std::move(s), ctx->tls->ctx.native_handle()), ctx_(std::move(ctx)),
        session_(std::move(cfg), Context{ctx_->dir, ctx_->store}, peer), buf_(kBuffer) {}

  asio::awaitable<void> run(bool implicit_tls) {
    if (implicit_tls && !co_await sock_.handshake_within(kIoLimit)) co_return;
    const std::string greeting = session_.greeting();
    if (!co_await send(greeting)) co_return;
    for (;;) {
      sock_.expires_after(ctx_->idle_timeout);
      auto [ec, n] = co_await sock_.read_some(buf_.data(), buf_.size());
      if (ec) break;
      if (!take(n)) break;
      if (!co_await drive()) break;
    }
    co_await sock_.shutdown();
  }

 private:
  // Feeds what was read (inflated when COMPRESS is on); false on corrupt compressed input.
  bool take(std::size_t n) {
    std::string_view raw(buf_.data(), n);
    if (!deflate_) {
      session_.feed(raw);
      return true;
    }
    std::string plain;
    if (!deflate_->decompress(raw, plain)) return false;
    session_.feed(plain);
    return true;
  }

  // Runs Session::next() (or idle_poll()) on the worker pool; the result lands in step_.
  asio::awaitable<void> next() {
    std::function<void()> work = [this] { step_ = guarded([this] { return session_.next(system_now_ms()); }); };
    co_await net::run_on(ctx_->workers, sock_.socket().get_executor(), work);
  }
  asio::awaitable<void> poll() {
    std::function<void()> work = [this] { step_ = guarded([this] { return session_.idle_poll(system_now_ms()); }); };
    co_await net::run_on(ctx_->workers, sock_.socket().get_executor(), work);
  }
  template <class F>
  static Step guarded(F&& f) {
    try {
      return f();
    } catch (const std::exception&) {
      return Step{"* BYE internal error\r\n", Close{}};
    }
  }

  // Runs the session until it needs input; false when the connection must end.
  asio::awaitable<bool> drive() {
    for (;;) {
      co_await next();
      Step st = std::move(step_);
      if (!st.out.empty() && !co_await send(st.out)) co_return false;
      if (std::holds_alternative<NeedInput>(st.action)) {
        if (st.more) continue;
        co_return true;
      }
      if (std::holds_alternative<Close>(st.action)) co_return false;
      if (std::holds_alternative<StartTls>(st.action)) {
        if (!co_await sock_.handshake_within(kIoLimit)) co_return false;
        session_.tls_started();
      } else if (std::holds_alternative<Compress>(st.action)) {
        deflate_ = std::make_unique<Deflate>();
      } else if (auto* idle = std::get_if<Idle>(&st.action)) {
        Idle what = *idle;
        if (!co_await idle_wait(what)) co_return false;
      }
    }
  }

  // IDLE: waits for the client's next bytes, reporting mailbox changes meanwhile.
  asio::awaitable<bool> idle_wait(Idle what) {
    // An idling connection holds little: a small read buffer (DONE is 6 bytes), no session
    // buffers, no TLS buffers (SSL_MODE_RELEASE_BUFFERS).
    buf_.resize(kIdleBuffer);
    buf_.shrink_to_fit();
    session_.shrink();
    auto sig = std::make_shared<IdleSignal>(sock_.socket().get_executor());
    std::uint64_t token = 0;
    if (what.mailbox) token = watch(sig, *what.mailbox);
    wait_readable(sig);
    bool alive = true;
    while (!sig->readable) {
      if (what.shared)
        sig->timer.expires_after(std::chrono::seconds(2));
      else
        sig->timer.expires_at(asio::steady_timer::time_point::max());
      auto [ec] = co_await sig->timer.async_wait(kTuple);
      bool poll_now = sig->changed || (!ec && what.shared);
      if (sig->readable) break;
      if (!poll_now || !alive) continue;
      sig->changed = false;
      co_await poll();
      Step st = std::move(step_);
      if (!st.out.empty() && !co_await send(st.out)) alive = false;
      if (std::holds_alternative<Close>(st.action)) alive = false;
      if (!alive) sock_.close();  // ends the pending wait
      sock_.expires_after(ctx_->idle_timeout + std::chrono::minutes(1));
    }
    if (token) ctx_->store.unwatch(token);
    if (!alive || sig->read_ec) co_return false;
    // Readable: the client's bytes (normally DONE). A TLS record that carries no data makes
    // this read wait for the next one.
    auto [ec, n] = co_await sock_.read_some(buf_.data(), buf_.size());
    if (ec) co_return false;
    bool ok = take(n);
    buf_.resize(kBuffer);
    co_return ok;
  }

  std::uint64_t watch(const std::shared_ptr<IdleSignal>& sig, mailstore::MailboxId id) {
    std::weak_ptr<IdleSignal> weak = sig;
    auto ex = sock_.socket().get_executor();
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
    sock_.expires_after(ctx_->idle_timeout + std::chrono::minutes(1));
    sock_.on_readable([sig](boost::system::error_code ec) {
      sig->readable = true;
      sig->read_ec = ec;
      sig->timer.cancel();
    });
  }

  // Callers pass named objects only: GCC 12 destroys temporaries passed to coroutines too early.
  asio::awaitable<bool> send(const std::string& plain) {
    const std::string packed = deflate_ ? deflate_->compress(plain) : std::string();
    const std::string& bytes = deflate_ ? packed : plain;
    bool ok = co_await sock_.send_within(bytes, kIoLimit);
    co_return ok;
  }

  net::TlsSocket sock_;
  std::shared_ptr<ServerContext> ctx_;
  Session session_;
  Step step_;
  std::vector<char> buf_;
  std::unique_ptr<Deflate> deflate_;
};

}  // namespace

net::Listener& listen_imap(net::Runtime& rt, const std::string& host, std::uint16_t port, SessionConfig cfg,
                           bool implicit_tls, std::shared_ptr<ServerContext> ctx) {
  return rt.listen(host, port, [cfg, ctx, implicit_tls](tcp::socket s) -> asio::awaitable<void> {
    boost::system::error_code ec;
    auto ep = s.remote_endpoint(ec);
    Peer peer{ec ? std::string("unknown") : ep.address().to_string(), implicit_tls};
    SessionConfig c = cfg;
    c.starttls = !implicit_tls;
    c.plaintext_ok = cfg.plaintext_ok && !ec && ep.address().is_loopback();
    auto conn = std::make_unique<Connection>(std::move(s), c, ctx, peer);
    co_await conn->run(implicit_tls);
  });
}

}  // namespace congvu::imap
