// A TCP socket that may switch to TLS (server side), with OpenSSL driven directly on the
// non-blocking descriptor. Asio's ssl::stream keeps two 17 KiB buffers and a 2 x 17 KiB BIO
// pair per connection, about 70 KiB whether or not anything moves; this keeps only what
// OpenSSL holds (its record buffers are released while idle: SSL_MODE_RELEASE_BUFFERS), so
// 10 000 idle IMAP connections fit in a few hundred MB. Used by the IMAP server.
// One operation of each kind at a time (one read and one write may overlap); a timeout closes
// the socket, which ends the pending operations with an error. Include only from server code.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/awaitable.hpp>
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

  TlsSocket(tcp::socket s, SSL_CTX* ctx);
  ~TlsSocket();
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  bool tls() const { return ssl_ != nullptr && handshaken_; }
  // The OpenSSL connection once TLS started (peer certificate, verify result); null before.
  SSL* native() const { return ssl_; }
  tcp::socket& socket() { return sock_; }
  // The socket is closed when this much time passes before the next call (or cancel).
  void expires_after(std::chrono::steady_clock::duration d);

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
  // Sends close_notify (best effort) and closes.
  boost::asio::awaitable<void> shutdown();
  void close();

 private:
  tcp::socket sock_;
  SSL_CTX* ctx_;
  SSL* ssl_ = nullptr;
  bool handshaken_ = false;
  boost::asio::steady_timer deadline_;
};

}  // namespace congvu::net
