#include "common/net/tls_socket.hpp"

#include <openssl/err.h>

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace congvu::net {

namespace asio = boost::asio;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

TlsSocket::TlsSocket(tcp::socket s, SSL_CTX* ctx) : sock_(std::move(s)), ctx_(ctx), deadline_(sock_.get_executor()) {
  error_code ec;
  sock_.non_blocking(true, ec);         // reads and writes below attempt, then wait for readiness
  sock_.native_non_blocking(true, ec);  // OpenSSL works on the descriptor itself
}

TlsSocket::~TlsSocket() {
  if (ssl_) SSL_free(ssl_);
}

void TlsSocket::expires_after(std::chrono::steady_clock::duration d) {
  deadline_.expires_after(d);
  // The handler only touches the socket when the timer really expired; an aborted wait (the
  // timer was re-armed or destroyed) does nothing.
  deadline_.async_wait([this](const error_code& ec) {
    if (!ec) {
      error_code ignored;
      sock_.close(ignored);
    }
  });
}

void TlsSocket::cancel() {
  error_code ec;
  sock_.cancel(ec);
}

void TlsSocket::close() {
  error_code ec;
  deadline_.cancel();
  sock_.shutdown(tcp::socket::shutdown_both, ec);
  sock_.close(ec);
}

TlsSocket::Attempt TlsSocket::try_read(char* data, std::size_t size) {
  Attempt a;
  if (!sock_.is_open()) {
    a.ec = asio::error::bad_descriptor;
    return a;
  }
  if (!tls()) {
    a.n = sock_.read_some(asio::buffer(data, size), a.ec);
    if (a.ec == asio::error::would_block || a.ec == asio::error::try_again) {
      a.ec = {};
      a.wait = Attempt::read;
    }
    return a;
  }
  ERR_clear_error();
  int r = SSL_read(ssl_, data, static_cast<int>(std::min<std::size_t>(size, INT32_MAX)));
  if (r > 0) {
    a.n = static_cast<std::size_t>(r);
    return a;
  }
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ: a.wait = Attempt::read; break;
    case SSL_ERROR_WANT_WRITE: a.wait = Attempt::write; break;
    case SSL_ERROR_ZERO_RETURN: a.ec = asio::error::eof; break;
    default: a.ec = asio::error::connection_reset; break;
  }
  return a;
}

TlsSocket::Attempt TlsSocket::try_write(const char* data, std::size_t size) {
  Attempt a;
  if (!sock_.is_open()) {
    a.ec = asio::error::bad_descriptor;
    return a;
  }
  if (!tls()) {
    a.n = sock_.write_some(asio::buffer(data, size), a.ec);
    if (a.ec == asio::error::would_block || a.ec == asio::error::try_again) {
      a.ec = {};
      a.wait = Attempt::write;
    }
    return a;
  }
  ERR_clear_error();
  // OpenSSL wants the same buffer again after WANT_*: the caller's buffer stays put until done.
  int r = SSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(size, 1 << 20)));
  if (r > 0) {
    a.n = static_cast<std::size_t>(r);
    return a;
  }
  switch (SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_WRITE: a.wait = Attempt::write; break;
    case SSL_ERROR_WANT_READ: a.wait = Attempt::read; break;
    default: a.ec = asio::error::connection_reset; break;
  }
  return a;
}

asio::awaitable<bool> TlsSocket::handshake() {
  ssl_ = SSL_new(ctx_);
  if (!ssl_ || SSL_set_fd(ssl_, static_cast<int>(sock_.native_handle())) != 1) co_return false;
  for (;;) {
    ERR_clear_error();
    int r = SSL_accept(ssl_);
    if (r == 1) break;
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) {
      auto [wec] = co_await sock_.async_wait(tcp::socket::wait_read, kTuple);
      if (wec) co_return false;
    } else if (e == SSL_ERROR_WANT_WRITE) {
      auto [wec] = co_await sock_.async_wait(tcp::socket::wait_write, kTuple);
      if (wec) co_return false;
    } else {
      co_return false;
    }
  }
  handshaken_ = true;
  co_return true;
}

asio::awaitable<std::pair<TlsSocket::error_code, std::size_t>> TlsSocket::read_some(char* data, std::size_t size) {
  auto [ec, n] = co_await async_read_some(asio::buffer(data, size), kTuple);
  co_return std::make_pair(ec, n);
}

asio::awaitable<bool> TlsSocket::handshake_within(std::chrono::steady_clock::duration limit) {
  expires_after(limit);
  bool ok = co_await handshake();
  co_return ok;
}

asio::awaitable<bool> TlsSocket::send_within(std::string_view data, std::chrono::steady_clock::duration limit) {
  expires_after(limit);
  auto ec = co_await write_all(data);
  co_return !ec;
}

asio::awaitable<TlsSocket::error_code> TlsSocket::write_all(std::string_view data) {
  auto [ec, n] = co_await asio::async_write(*this, asio::buffer(data.data(), data.size()), kTuple);
  (void)n;
  co_return ec;
}

bool TlsSocket::pending() const { return tls() && SSL_pending(ssl_) > 0; }

void TlsSocket::on_readable(std::function<void(error_code)> fn) {
  if (pending()) {
    asio::post(sock_.get_executor(), [fn = std::move(fn)] { fn(error_code{}); });
    return;
  }
  sock_.async_wait(tcp::socket::wait_read, [fn = std::move(fn)](const error_code& ec) { fn(ec); });
}

asio::awaitable<void> TlsSocket::shutdown() {
  if (tls() && sock_.is_open()) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // our close_notify; the peer's is not awaited
  }
  // A lingering close: closing with unread input makes the kernel send a reset, which can
  // destroy our last answer (a BYE, a 421) before the client reads it. So the sending side is
  // shut first and what still arrives is read and dropped, until the client closes, 64 KiB, or
  // a second passes.
  error_code ec;
  if (sock_.is_open()) sock_.shutdown(tcp::socket::shutdown_send, ec);
  if (!ec && sock_.is_open()) {
    expires_after(std::chrono::seconds(1));
    char sink[4096];
    for (std::size_t drained = 0; drained < 64 * 1024;) {
      auto [wec] = co_await sock_.async_wait(tcp::socket::wait_read, kTuple);
      if (wec) break;
      std::size_t n = sock_.read_some(asio::buffer(sink), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
      if (ec || n == 0) break;
      drained += n;
    }
  }
  close();
}

}  // namespace congvu::net
