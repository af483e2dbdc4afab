#include "common/net/runtime.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/proxy_protocol.hpp"

#include <cerrno>

namespace congvu::net {

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Accept failures that mean "out of a resource": retrying at once would spin.
bool resource_exhausted(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_memory || ec == asio::error::no_buffer_space ||
         ec.value() == ENFILE;
}

// Closes `s` when `timer` expires (not when it is cancelled or destroyed first).
void close_on_expiry(asio::steady_timer& timer, tcp::socket& s, std::chrono::steady_clock::duration after) {
  timer.expires_after(after);
  timer.async_wait([&s](const boost::system::error_code& e) {
    if (!e) {
      boost::system::error_code ignored;
      s.close(ignored);
    }
  });
}

// The text of those errors without a virtual call: out of descriptors, UBSan's check of a
// vptr (the clang test build) needs a pipe, fails, and reports the call as undefined.
const char* exhausted_text(const boost::system::error_code& ec) {
  switch (ec.value()) {
    case EMFILE: return "Too many open files";
    case ENFILE: return "Too many open files in system";
    case ENOMEM: return "Cannot allocate memory";
    case ENOBUFS: return "No buffer space available";
    default: return "out of resources";
  }
}

std::string address_text(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
  return a.to_string();
}
}  // namespace

// --- Slot -------------------------------------------------------------------------------

Slot::Slot(Runtime& rt, Listener& l, std::string source, bool counted, asio::any_io_executor ex)
    : rt_(rt), listener_(l), source_(std::move(source)), counted_(counted), ex_(std::move(ex)) {
  rt_.enrol(this);
}

Slot::~Slot() {
  rt_.leave(this);
  if (counted_) listener_.leave(source_);
}

void Slot::notify(bool hard) {
  stopping_ = true;
  if (on_stop_) on_stop_(hard);
}

// --- Listener ---------------------------------------------------------------------------

Listener::Listener(Runtime& rt, const std::string& name, const std::string& host, std::uint16_t port,
                   ListenerLimits limits, ConnectionHandler handler)
    : rt_(rt), name_(name), acceptor_(rt.main()), limits_(std::move(limits)), handler_(std::move(handler)) {
  tcp::endpoint ep(asio::ip::make_address(host), port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  boost::system::error_code ec;
  acceptor_.bind(ep, ec);
  if (ec) throw boost::system::system_error(ec, "cannot listen on " + host + ":" + std::to_string(port));
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(rt.main(), accept_loop(), asio::detached);
}

void Listener::close() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
}

bool Listener::enter(const std::string& source) {
  std::lock_guard lk(mu_);
  if (live_ >= limits_.max_connections) return false;
  auto& n = per_source_[source];
  if (n >= limits_.max_per_source) {
    if (n == 0) per_source_.erase(source);
    return false;
  }
  ++n;
  ++live_;
  return true;
}

void Listener::leave(const std::string& source) {
  std::lock_guard lk(mu_);
  auto it = per_source_.find(source);
  if (it == per_source_.end()) return;
  --live_;
  if (--it->second == 0) per_source_.erase(it);
}

asio::awaitable<void> Listener::accept_loop() {
  asio::steady_timer backoff(rt_.main());
  auto pause = std::chrono::milliseconds(100);
  bool exhausted = false;
  for (;;) {
    auto& ctx = rt_.next();
    auto [ec, socket] = co_await acceptor_.async_accept(ctx, kTuple);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec && resource_exhausted(ec)) {
      // The pending connection stays in the backlog; try again after a pause, not at once.
      if (!exhausted) rt_.log(name_ + ": cannot accept: " + exhausted_text(ec) + "; backing off");
      exhausted = true;
      backoff.expires_after(pause);
      co_await backoff.async_wait(kTuple);
      pause = std::min(pause * 2, std::chrono::milliseconds(1000));
      continue;
    }
    if (exhausted) {
      rt_.log(name_ + ": accepting again");
      exhausted = false;
      pause = std::chrono::milliseconds(100);
    }
    if (ec) continue;  // the client went away before we took it (ECONNABORTED and the like)
    auto& live = rt_.live_;
    ++live;
    asio::co_spawn(ctx, admit(std::move(socket)), [&live](std::exception_ptr) { --live; });
  }
}

asio::awaitable<void> Listener::admit(tcp::socket s) {
  boost::system::error_code ec;
  auto remote = s.remote_endpoint(ec);
  if (ec) co_return;
  std::string peer = address_text(remote.address());
  bool balancer = false;
  for (const auto& a : limits_.proxy_from) balancer = balancer || a == remote.address();
  bool proxied = false;
  if (balancer) {
    // Exactly the header: 16 fixed bytes, then the length they announce; the stream's own bytes
    // (a TLS ClientHello, an SMTP command) stay in the socket.
    asio::steady_timer deadline(s.get_executor());
    close_on_expiry(deadline, s, limits_.proxy_header_timeout);
    std::string header(kProxyV2Fixed, '\0');
    auto [rec, n] = co_await asio::async_read(s, asio::buffer(header), kTuple);
    ProxyHeader h = rec ? ProxyHeader{} : parse_proxy_v2_fixed(header);
    if (h.kind != ProxyHeader::invalid && h.body > 0) {
      std::string body(h.body, '\0');
      auto [bec, bn] = co_await asio::async_read(s, asio::buffer(body), kTuple);
      h = bec ? ProxyHeader{} : parse_proxy_v2(header + body);
    } else if (h.kind != ProxyHeader::invalid) {
      h = parse_proxy_v2(header);
    }
    deadline.cancel();
    if (h.kind == ProxyHeader::invalid) {
      rt_.log(name_ + ": " + peer + ": closed: no valid PROXY v2 header from a balancer" +
              (h.error.empty() ? std::string() : " (" + h.error + ")"));
      co_return;
    }
    if (h.kind == ProxyHeader::proxy) {
      peer = h.source;
      proxied = true;
    }
  }
  bool admitted = enter(peer);
  auto slot = std::make_shared<Slot>(rt_, *this, peer, admitted, s.get_executor());
  if (!admitted) rt_.log(name_ + ": " + peer + ": refused: too many connections");
  Accepted a{std::move(s), peer, proxied, !admitted, slot};
  co_await handler_(std::move(a));
}

// --- Runtime ----------------------------------------------------------------------------

Runtime::Runtime(unsigned threads, LogFn log) : log_(std::move(log)) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) contexts_.push_back(std::make_unique<asio::io_context>(1));
}

Runtime::~Runtime() { listeners_.clear(); }

asio::io_context& Runtime::next() { return *contexts_[next_++ % contexts_.size()]; }

Listener& Runtime::listen(const std::string& name, const std::string& host, std::uint16_t port, ListenerLimits limits,
                          ConnectionHandler handler) {
  listeners_.push_back(std::make_unique<Listener>(*this, name, host, port, std::move(limits), std::move(handler)));
  return *listeners_.back();
}

void Runtime::enrol(Slot* s) {
  std::lock_guard lk(slots_mu_);
  slots_.insert(s);
  if (stopping_) s->stopping_ = true;  // accepted while the stop was being announced
}

void Runtime::leave(Slot* s) {
  std::lock_guard lk(slots_mu_);
  slots_.erase(s);
}

void Runtime::notify_all(bool hard) {
  std::lock_guard lk(slots_mu_);
  for (Slot* s : slots_) {
    // Runs on the connection's own thread, where the slot is destroyed too: if it is still
    // enrolled then, it is alive.
    asio::post(s->executor(), [this, s, hard] {
      {
        std::lock_guard lk2(slots_mu_);
        if (!slots_.count(s)) return;
      }
      s->notify(hard);
    });
  }
}

void Runtime::stop(std::chrono::milliseconds grace) {
  asio::post(main(), [this, grace] {
    if (stopping_.exchange(true)) return;
    for (auto& l : listeners_) l->close();
    notify_all(false);
    asio::co_spawn(main(), drain(grace), asio::detached);
  });
}

asio::awaitable<void> Runtime::drain(std::chrono::milliseconds grace) {
  // Connections between commands have been told to end; those in a transaction get the grace
  // period, then are cancelled and given a moment to send their goodbye.
  asio::steady_timer timer(main());
  auto deadline = std::chrono::steady_clock::now() + grace;
  bool cancelled = false;
  for (;;) {
    if (live_ == 0) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      if (cancelled) break;
      log(std::to_string(live_) + " connections still busy after the grace period: cancelled");
      notify_all(true);
      cancelled = true;
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    }
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(kTuple);
  }
  for (auto& c : contexts_) c->stop();
}

struct Runtime::Signals {
  explicit Signals(asio::io_context& io) : set(io, SIGTERM, SIGINT) {}
  asio::signal_set set;
};

void Runtime::catch_signals(std::chrono::milliseconds grace) {
  if (signals_) return;
  signals_ = std::make_unique<Signals>(main());
  signals_->set.async_wait([this, grace](boost::system::error_code ec, int sig) {
    if (ec) return;
    log(std::string(sig == SIGTERM ? "SIGTERM" : "SIGINT") + ": stopping (grace period " +
        std::to_string(grace.count() / 1000) + " s)");
    stop(grace);
  });
}

void Runtime::run(bool catch_signals, std::chrono::milliseconds grace) {
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& c : contexts_) guards.emplace_back(c->get_executor());
  if (catch_signals) this->catch_signals(grace);
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([c = contexts_[i].get()] { c->run(); });
  main().run();
  for (auto& c : contexts_) c->stop();
  for (auto& t : threads) t.join();
}

}  // namespace congvu::net
