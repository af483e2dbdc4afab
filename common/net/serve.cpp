#include "common/net/serve.hpp"

namespace congvu::net {

Connection::Connection(Accepted a, SSL_CTX* tls, const Deadlines& d, bool implicit_tls, LogFn log, std::size_t buffer)
    : sock_(std::move(a.socket), tls), peer_(std::move(a.peer)), proxied_(a.proxied), over_limit_(a.over_limit),
      implicit_tls_(implicit_tls), slot_(std::move(a.slot)), deadlines_(d), log_(std::move(log)), buf_(buffer) {
  slot_->on_stop([this](bool hard) {
    if (hard || interruptible_) sock_.cancel();
  });
}

Connection::~Connection() { slot_->on_stop({}); }

asio::awaitable<bool> Connection::send(std::string bytes) {
  bool ok = co_await sock_.send_within(bytes, deadlines_.write);
  co_return ok;
}

asio::awaitable<bool> Connection::start_tls() {
  bool ok = co_await sock_.handshake_within(deadlines_.handshake);
  co_return ok;
}

namespace detail {

asio::awaitable<void> say_goodbye(Connection* c, std::string bytes) {
  if (bytes.empty()) co_return;
  bool sent = co_await c->socket().send_within(bytes, std::chrono::seconds(1));
  (void)sent;
}

bool proxy_signature(std::string_view first_bytes) {
  std::size_t n = std::min(first_bytes.size(), kProxyV2Signature.size());
  return n >= 5 && first_bytes.substr(0, n) == kProxyV2Signature.substr(0, n);
}

}  // namespace detail

}  // namespace congvu::net
