// The one coroutine server shape of Congvu (STYLE.md habit 7), written once:
// - Runtime: N threads, each running its own io_context; connections are spread over them.
// - Listener: accepts on one address and runs `handler(socket)` as a coroutine on the next
//   context; counts live connections.
// - Graceful stop: stop() closes every acceptor, lets live connections finish for a grace
//   period, then stops every context. run() returns after that.
// Include only from server code: this header brings in Asio.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace congvu::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

using ConnectionHandler = std::function<asio::awaitable<void>(tcp::socket)>;

class Runtime;

class Listener {
 public:
  Listener(Runtime& rt, const std::string& host, std::uint16_t port, ConnectionHandler handler);
  std::uint16_t port() const { return port_; }
  void close();

 private:
  asio::awaitable<void> accept_loop();
  Runtime& rt_;
  tcp::acceptor acceptor_;
  ConnectionHandler handler_;
  std::uint16_t port_ = 0;
};

class Runtime {
 public:
  explicit Runtime(unsigned threads);
  ~Runtime();

  asio::io_context& main() { return *contexts_.front(); }
  asio::io_context& next();

  // Binds now (so that errors surface before start-up completes) and accepts once run() runs.
  // Throws boost::system::system_error naming host:port when the bind fails.
  Listener& listen(const std::string& host, std::uint16_t port, ConnectionHandler handler);

  // Runs every context until stop() (or SIGTERM/SIGINT, when catch_signals is set).
  void run(bool catch_signals);
  // Thread-safe; may be called from a signal handler's coroutine or any thread.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  std::atomic<int>& live_connections() { return live_; }

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::atomic<unsigned> next_{0};
  std::atomic<int> live_{0};
  std::atomic<bool> stopping_{false};

  asio::awaitable<void> drain(std::chrono::milliseconds grace);
};

}  // namespace congvu::net
