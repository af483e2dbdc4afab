#include "common/net/runtime.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace congvu::net {

Listener::Listener(Runtime& rt, const std::string& host, std::uint16_t port, ConnectionHandler handler)
    : rt_(rt), acceptor_(rt.main()), handler_(std::move(handler)) {
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

asio::awaitable<void> Listener::accept_loop() {
  for (;;) {
    auto& ctx = rt_.next();
    auto [ec, socket] = co_await acceptor_.async_accept(ctx, asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) continue;  // e.g. EMFILE: drop this one, keep accepting
    auto& live = rt_.live_connections();
    ++live;
    asio::co_spawn(ctx, handler_(std::move(socket)), [&live](std::exception_ptr) { --live; });
  }
}

Runtime::Runtime(unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) contexts_.push_back(std::make_unique<asio::io_context>(1));
}

Runtime::~Runtime() { listeners_.clear(); }

asio::io_context& Runtime::next() { return *contexts_[next_++ % contexts_.size()]; }

Listener& Runtime::listen(const std::string& host, std::uint16_t port, ConnectionHandler handler) {
  listeners_.push_back(std::make_unique<Listener>(*this, host, port, std::move(handler)));
  return *listeners_.back();
}

void Runtime::stop(std::chrono::milliseconds grace) {
  asio::post(main(), [this, grace] {
    if (stopping_.exchange(true)) return;
    for (auto& l : listeners_) l->close();
    asio::co_spawn(main(), drain(grace), asio::detached);
  });
}

asio::awaitable<void> Runtime::drain(std::chrono::milliseconds grace) {
  // Let live connections finish, up to the grace period, then stop every context.
  auto deadline = std::chrono::steady_clock::now() + grace;
  asio::steady_timer timer(main());
  while (live_ > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(50));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  for (auto& c : contexts_) c->stop();
}

void Runtime::run(bool catch_signals) {
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& c : contexts_) guards.emplace_back(c->get_executor());
  std::unique_ptr<asio::signal_set> signals;
  if (catch_signals) {
    signals = std::make_unique<asio::signal_set>(main(), SIGTERM, SIGINT);
    signals->async_wait([this](boost::system::error_code ec, int) {
      if (!ec) stop();
    });
  }
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([c = contexts_[i].get()] { c->run(); });
  main().run();
  for (auto& c : contexts_) c->stop();
  for (auto& t : threads) t.join();
}

}  // namespace congvu::net
