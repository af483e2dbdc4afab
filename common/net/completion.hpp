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
#include <exception>
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
inline void post_work(Workers& workers, std::shared_ptr<Completion<std::exception_ptr>> done, std::function<void()> work) {
  workers.post([done = std::move(done), work = std::move(work)] {
    std::exception_ptr failure;
    try {
      work();
    } catch (...) {
      failure = std::current_exception();
    }
    Completion<std::exception_ptr>::set(done, failure);
  });
}
}  // namespace detail

// Runs `work` on the pool and resumes on `ex` once it returned; an exception it threw is thrown
// again here. What `work` touches must outlive the wait (the calling coroutine's frame does).
// Pass a named std::function (GCC 12).
inline boost::asio::awaitable<void> run_on(Workers* workers, boost::asio::any_io_executor ex, std::function<void()> work) {
  auto done = std::make_shared<Completion<std::exception_ptr>>(ex);
  detail::post_work(*workers, done, std::move(work));
  while (!done->value) co_await done->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  if (*done->value) std::rethrow_exception(*done->value);
}

}  // namespace congvu::net
