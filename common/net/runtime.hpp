// The runtime under every listener (STYLE.md habit 7), written once:
// - Runtime: N threads, each running its own io_context; connections are spread over them.
// - Listener: accepts on one address, reads the PROXY protocol v2 header from the configured
//   balancer addresses (refusing it from anyone else), enforces the connection caps (total per
//   listener, and per client address, the one behind the balancer), and hands each accepted
//   connection to its handler as a coroutine on the next context. On EMFILE, ENFILE, ENOMEM or
//   ENOBUFS it backs off (100 ms doubling to 1 s, logged once per episode) instead of spinning.
// - Graceful stop: stop() closes every acceptor and tells every connection through its Slot:
//   connections waiting between commands end at once (with the protocol's goodbye), those in
//   the middle of a transaction finish it; when the grace period ends the rest are cancelled
//   (the goodbye is still sent, briefly), then every context stops. run() returns after that.
// Protocol code does not use this directly: common/net/serve.hpp drives a session on it.
// Include only from server code: this header brings in Asio.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace congvu::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Runtime;
class Listener;

// Per-operation deadlines ([limits] in the config).
struct Deadlines {
  std::chrono::seconds handshake{30};
  std::chrono::seconds write{60};
  std::chrono::seconds pre_auth{60};      // each command before authentication
  std::chrono::seconds command{300};      // each command after it (SMTP: RFC 5321 4.5.3.2)
  std::chrono::seconds idle{30 * 60};     // an authenticated IMAP client (RFC 9051 5.4), IDLE
};

// Caps and trust of one listener (config [limits] and [listen] proxy_from).
struct ListenerLimits {
  std::size_t max_connections = 20000;  // live connections on this listener
  std::size_t max_per_source = 3000;    // live connections from one client address
  // Balancers (haproxy send-proxy-v2) whose connections start with a PROXY v2 header naming
  // the client; the header is required from them and refused from everybody else.
  std::vector<asio::ip::address> proxy_from;
  std::chrono::seconds proxy_header_timeout{10};
};

// One live connection as the runtime sees it: counted while it exists, and told of a stop.
// Lives on its connection's executor; notify() is posted there.
class Slot {
 public:
  Slot(Runtime& rt, Listener& l, std::string source, bool counted, asio::any_io_executor ex);
  ~Slot();
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

  bool stopping() const { return stopping_; }
  // What the connection does when told of a stop (hard: the grace period is over). Set while
  // the connection is served, cleared (set to {}) before the connection goes.
  void on_stop(std::function<void(bool hard)> fn) { on_stop_ = std::move(fn); }
  void notify(bool hard);
  const asio::any_io_executor& executor() const { return ex_; }

 private:
  friend class Runtime;
  Runtime& rt_;
  Listener& listener_;
  std::string source_;
  bool counted_;
  asio::any_io_executor ex_;
  bool stopping_ = false;
  std::function<void(bool)> on_stop_;
};

// An accepted connection, handed to the protocol: the socket, the client's address (from the
// PROXY header when a balancer sent one) and whether it is over a cap (the protocol then
// answers with its "too many connections" reply and closes).
struct Accepted {
  tcp::socket socket;
  std::string peer;
  bool proxied = false;
  bool over_limit = false;
  std::shared_ptr<Slot> slot;
};

using ConnectionHandler = std::function<asio::awaitable<void>(Accepted)>;
using LogFn = std::function<void(const std::string&)>;

class Listener {
 public:
  Listener(Runtime& rt, const std::string& name, const std::string& host, std::uint16_t port, ListenerLimits limits,
           ConnectionHandler handler);
  std::uint16_t port() const { return port_; }
  const std::string& name() const { return name_; }
  void close();

 private:
  friend class Slot;
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> admit(tcp::socket s);
  // Counts a connection from `source`; false when a cap is reached (nothing counted then).
  bool enter(const std::string& source);
  void leave(const std::string& source);

  Runtime& rt_;
  std::string name_;
  tcp::acceptor acceptor_;
  ListenerLimits limits_;
  ConnectionHandler handler_;
  std::uint16_t port_ = 0;
  std::mutex mu_;
  std::size_t live_ = 0;
  std::unordered_map<std::string, std::size_t> per_source_;
};

class Runtime {
 public:
  explicit Runtime(unsigned threads, LogFn log = {});
  ~Runtime();

  asio::io_context& main() { return *contexts_.front(); }
  asio::io_context& next();

  // Binds now (so that errors surface before start-up completes) and accepts once run() runs.
  // Throws boost::system::system_error naming host:port when the bind fails.
  Listener& listen(const std::string& name, const std::string& host, std::uint16_t port, ListenerLimits limits,
                   ConnectionHandler handler);

  // From now on SIGTERM/SIGINT stop the runtime with `grace`; a signal that arrives before
  // run() waits for it. Call it before announcing readiness (a ready file): a test that stops
  // the server at once must not meet the default action of SIGTERM.
  void catch_signals(std::chrono::milliseconds grace);
  // Runs every context until stop() (or SIGTERM/SIGINT, when catch_signals is set here or was
  // called before: a stop with `grace`).
  void run(bool catch_signals, std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Thread-safe; may be called from a signal handler's coroutine or any thread.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  bool stopping() const { return stopping_; }

  int live_connections() const { return live_; }
  void log(const std::string& line) const {
    if (log_) log_(line);
  }

 private:
  friend class Slot;
  friend class Listener;
  void enrol(Slot* s);
  void leave(Slot* s);
  // Posts notify(hard) to every live connection's executor.
  void notify_all(bool hard);
  asio::awaitable<void> drain(std::chrono::milliseconds grace);

  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  struct Signals;
  std::unique_ptr<Signals> signals_;
  LogFn log_;
  std::atomic<unsigned> next_{0};
  std::atomic<int> live_{0};
  std::atomic<bool> stopping_{false};
  std::mutex slots_mu_;
  std::unordered_set<Slot*> slots_;
};

}  // namespace congvu::net
