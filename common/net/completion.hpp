// For server code (smtp/, imap/): lets a coroutine wait, on its own executor, for a result that
// another thread (the mail store's committer, the worker pool) produces.
//   auto done = std::make_shared<Completion<T>>(executor);
//   start_work(done);                 // later, on any thread: Completion<T>::set(done, value)
//   while (!done->value) co_await done->timer.async_wait(as_tuple(use_awaitable));
// (Build the work's callbacks outside co_await expressions: GCC 12 mishandles lambdas created
// inside them.)
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>

namespace congvu::net {

template <class T>
struct Completion {
  explicit Completion(boost::asio::any_io_executor ex) : timer(ex) {
    timer.expires_at(boost::asio::steady_timer::time_point::max());
  }
  boost::asio::steady_timer timer;
  std::optional<T> value;
  // Called from any thread; the value is stored and the waiter woken on the timer's executor.
  static void set(std::shared_ptr<Completion> c, T v) {
    auto ex = c->timer.get_executor();
    boost::asio::post(ex, [c = std::move(c), v = std::move(v)]() mutable {
      c->value.emplace(std::move(v));
      c->timer.cancel();
    });
  }
};

}  // namespace congvu::net
