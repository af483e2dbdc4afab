// The one connection stream of every listener (SMTP, IMAP, LDAP, HTTPS): a TCP socket that may
// switch to TLS (server side), with OpenSSL driven directly on the non-blocking descriptor.
// Asio's ssl::stream keeps two 17 KiB buffers and a 2 x 17 KiB BIO pair per connection, about
// 70 KiB whether or not anything moves; this keeps only what OpenSSL holds (its record buffers
// are released while idle: SSL_MODE_RELEASE_BUFFERS), so 10 000 idle IMAP connections fit in a
// few hundred MB.
// It is an Asio AsyncReadStream and AsyncWriteStream (async_read_some, async_write_some with any
// completion token), so Beast's HTTP reader and writer run on it as on a tcp_stream.
// One operation of each kind at a time (one read and one write may overlap). A deadline closes
// the socket, which ends the pending operations with an error; cancel() ends them with
// operation_aborted and leaves the socket usable (graceful stop). Include only from server code.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <string_view>
#include <utility>

namespace congvu::net {

class TlsSocket {
 public:
  using tcp = boost::asio::ip::tcp;
  using error_code = boost::system::error_code;
  using executor_type = tcp::socket::executor_type;

  TlsSocket(tcp::socket s, SSL_CTX* ctx);
  ~TlsSocket();
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  executor_type get_executor() { return sock_.get_executor(); }
  bool tls() const { return ssl_ != nullptr && handshaken_; }
  // The OpenSSL connection once TLS started (peer certificate, verify result); null before.
  SSL* native() const { return ssl_; }
  tcp::socket& socket() { return sock_; }
  // The socket is closed when this much time passes before the next call (or cancel).
  void expires_after(std::chrono::steady_clock::duration d);
  // Ends pending operations with operation_aborted; the connection stays usable.
  void cancel();

  // One result of a non-blocking attempt: bytes moved, or the readiness to wait for.
  struct Attempt {
    std::size_t n = 0;
    error_code ec;
    enum Wait { none, read, write } wait = none;
  };
  Attempt try_read(char* data, std::size_t size);
  Attempt try_write(const char* data, std::size_t size);

  // AsyncReadStream / AsyncWriteStream: void(error_code, std::size_t).
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    auto b = first_buffer<boost::asio::mutable_buffer>(buffers);
    return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
        Op<false>{this, static_cast<char*>(b.data()), b.size()}, token, sock_);
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    auto b = first_buffer<boost::asio::const_buffer>(buffers);
    return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
        Op<true>{this, const_cast<char*>(static_cast<const char*>(b.data())), b.size()}, token, sock_);
  }

  boost::asio::awaitable<bool> handshake();
  boost::asio::awaitable<std::pair<error_code, std::size_t>> read_some(char* data, std::size_t size);
  boost::asio::awaitable<error_code> write_all(std::string_view data);
  // handshake() and write_all() with the socket closed when they take longer than `limit`;
  // true when done.
  boost::asio::awaitable<bool> handshake_within(std::chrono::steady_clock::duration limit);
  boost::asio::awaitable<bool> send_within(std::string_view data, std::chrono::steady_clock::duration limit);
  // Decrypted bytes that a read would return at once.
  bool pending() const;
  // Calls `fn` when the socket becomes readable (or fails); does not consume anything.
  void on_readable(std::function<void(error_code)> fn);
  // Sends close_notify (best effort), shuts the sending side, drops what the client still sends
  // (until it closes, 64 KiB or 1 s: a lingering close, so no reset destroys our last answer)
  // and closes.
  boost::asio::awaitable<void> shutdown();
  void close();

 private:
  // The first non-empty buffer of a sequence (an empty one when all are).
  template <class Buffer, class Buffers>
  static Buffer first_buffer(const Buffers& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
      Buffer b = *it;
      if (b.size() > 0) return b;
    }
    return Buffer{};
  }

  // A read or a write: attempt, else wait for the readiness OpenSSL (or the socket) asks for.
  template <bool Write>
  struct Op {
    TlsSocket* s;
    char* data;
    std::size_t size;
    template <class Self>
    void operator()(Self& self, error_code ec = {}) {
      if (ec) return self.complete(ec, 0);
      if (size == 0) return self.complete(error_code{}, 0);
      Attempt a = Write ? s->try_write(data, size) : s->try_read(data, size);
      if (a.wait == Attempt::none) return self.complete(a.ec, a.n);
      s->sock_.async_wait(a.wait == Attempt::read ? tcp::socket::wait_read : tcp::socket::wait_write, std::move(self));
    }
  };

  tcp::socket sock_;
  SSL_CTX* ctx_;
  SSL* ssl_ = nullptr;
  bool handshaken_ = false;
  boost::asio::steady_timer deadline_;
};

}  // namespace congvu::net
