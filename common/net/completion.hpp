// For server code (smtp/, imap/): lets a coroutine wait, on its own executor, for a result that
// another thread (the mail store's committer, the worker pool) produces.
//   auto done = std::make_shared<Completion<T>>(executor);
//   start_work(done);                 // later, on any thread: Completion<T>::set(done, value)
//   while (!done->value) co_await done->timer.async_wait(as_tuple(use_awaitable));
// (Build the work's callbacks outside co_await expressions: GCC 12 mishandles lambdas created
// inside them.)
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>

#include "common/workers.hpp"

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

namespace detail {
inline void post_work(Workers& workers, std::shared_ptr<Completion<bool>> done, std::function<void()> work) {
  workers.post([done = std::move(done), work = std::move(work)] {
    work();
    Completion<bool>::set(done, true);
  });
}
}  // namespace detail

// Runs `work` on the pool and resumes on `ex` once it returned. What `work` touches must outlive
// the wait (the calling coroutine's frame does). Pass a named std::function (GCC 12).
inline boost::asio::awaitable<void> run_on(Workers& workers, boost::asio::any_io_executor ex, std::function<void()> work) {
  auto done = std::make_shared<Completion<bool>>(ex);
  detail::post_work(workers, done, std::move(work));
  while (!done->value) co_await done->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

}  // namespace congvu::net
