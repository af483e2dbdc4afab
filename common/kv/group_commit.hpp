// GroupCommitter: many writers, one write transaction and one fsync per batch.
// Callers submit jobs; one thread runs as many queued jobs as it finds (up to max_batch) in a
// single write transaction, commits it, and only then completes each job's future, so nobody is
// told "done" before the data is durable. A job that throws fails the batch; the committer then
// reruns each job of that batch alone, so one bad job never sinks the others (jobs must
// therefore be safe to run again: they must derive everything from the transaction).
// A before_commit hook runs after the batch's jobs and before the commit (the mail store makes
// the batch's blobs durable there, so the index never points at bytes that are not on disk).
// Thread-safe. The destructor finishes every queued job before it returns.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "common/kv/kv.hpp"

namespace congvu::kv {

// Gathering: writers may announce a job before they can submit it (expect(+1): an SMTP
// session has started a transaction). While announced jobs are on their way, a batch waits
// for them, so that one commit (and one fsync) serves every busy writer. The wait is bounded
// by twice the usual time from announcement to submission (measured, so it adapts to how
// fast clients and the machine are), within [min, max]. Nobody announced: the batch commits
// at once, so a lone writer pays nothing.
struct GatherPolicy {
  std::chrono::microseconds min{0}, max{0};
};

class GroupCommitter {
 public:
  using Job = std::function<void(WriteTxn&)>;
  // Called on the committer thread once the job's commit is durable (nullptr) or failed.
  using Done = std::function<void(std::exception_ptr)>;

  using Gather = GatherPolicy;
  explicit GroupCommitter(Store& store, std::size_t max_batch = 512, std::function<void()> before_commit = {},
                          Gather gather = {});
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // The future becomes ready after the commit that holds the job is durable; it carries the
  // job's exception if the job threw.
  std::future<void> submit(Job job);
  // The same with a callback instead of a future, for callers that must not block (the
  // coroutine servers): `done` runs on the committer thread and must be quick.
  void submit(Job job, Done done);
  // The same, fulfilling one announcement made with expect(+1) (atomically, so a batch never
  // sees the announcement gone before the job is queued).
  void submit_expected(Job job, Done done, std::chrono::steady_clock::time_point announced);
  // Announces (+1) or withdraws (-1) a job that is coming.
  void expect(int delta);
  // Runs `job` through the committer and waits for its commit.
  void run(Job job) { submit(std::move(job)).get(); }

  std::uint64_t commits() const;
  std::uint64_t jobs() const;

 private:
  struct Pending {
    Job job;
    Done done;
  };
  void commit(WriteTxn& txn);
  void loop();
  void run_batch(std::deque<Pending>& batch);

  Store& store_;
  std::size_t max_batch_;
  std::function<void()> before_commit_;
  Gather gather_;
  long expected_ = 0;    // announced, not yet submitted or withdrawn
  double lead_us_ = 0;   // moving average of the time from announcement to submission
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stop_ = false;
  std::uint64_t commits_ = 0, jobs_ = 0;
  std::thread thread_;
};

}  // namespace congvu::kv
