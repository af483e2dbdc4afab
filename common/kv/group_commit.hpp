// GroupCommitter: many writers, one write transaction and one fsync per batch.
// Callers submit jobs; one thread runs as many queued jobs as it finds (up to max_batch) in a
// single write transaction, commits it, and only then completes each job's future, so nobody is
// told "done" before the data is durable. A job that throws fails the batch; the committer then
// reruns each job of that batch alone, so one bad job never sinks the others (jobs must
// therefore be safe to run again: they must derive everything from the transaction).
// Thread-safe. The destructor finishes every queued job before it returns.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "common/kv/kv.hpp"

namespace congvu::kv {

class GroupCommitter {
 public:
  using Job = std::function<void(WriteTxn&)>;

  explicit GroupCommitter(Store& store, std::size_t max_batch = 512);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // The future becomes ready after the commit that holds the job is durable; it carries the
  // job's exception if the job threw.
  std::future<void> submit(Job job);
  // Runs `job` through the committer and waits for its commit.
  void run(Job job) { submit(std::move(job)).get(); }

  std::uint64_t commits() const;
  std::uint64_t jobs() const;

 private:
  struct Pending {
    Job job;
    std::promise<void> done;
  };
  void loop();
  void run_batch(std::deque<Pending>& batch);

  Store& store_;
  std::size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stop_ = false;
  std::uint64_t commits_ = 0, jobs_ = 0;
  std::thread thread_;
};

}  // namespace congvu::kv
