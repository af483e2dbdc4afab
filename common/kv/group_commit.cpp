#include "common/kv/group_commit.hpp"

#include <algorithm>

namespace congvu::kv {

GroupCommitter::GroupCommitter(Store& store, std::size_t max_batch, std::function<void()> before_commit, Gather gather)
    : store_(store), max_batch_(max_batch), before_commit_(std::move(before_commit)), gather_(gather), thread_([this] { loop(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::future<void> GroupCommitter::submit(Job job) {
  auto promise = std::make_shared<std::promise<void>>();
  auto f = promise->get_future();
  submit(std::move(job), [promise](std::exception_ptr e) {
    if (e)
      promise->set_exception(e);
    else
      promise->set_value();
  });
  return f;
}

void GroupCommitter::submit(Job job, Done done) {
  {
    std::lock_guard lk(mu_);
    queue_.push_back(Pending{std::move(job), std::move(done)});
  }
  cv_.notify_one();
}

void GroupCommitter::submit_expected(Job job, Done done, std::chrono::steady_clock::time_point announced) {
  double lead = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - announced).count();
  {
    std::lock_guard lk(mu_);
    queue_.push_back(Pending{std::move(job), std::move(done)});
    --expected_;
    lead_us_ = lead_us_ == 0 ? lead : 0.9 * lead_us_ + 0.1 * lead;
  }
  cv_.notify_one();
}

void GroupCommitter::expect(int delta) {
  {
    std::lock_guard lk(mu_);
    expected_ += delta;
  }
  if (delta < 0) cv_.notify_one();
}

void GroupCommitter::commit(WriteTxn& txn) {
  if (before_commit_) before_commit_();
  txn.commit();
}

std::uint64_t GroupCommitter::commits() const {
  std::lock_guard lk(mu_);
  return commits_;
}

std::uint64_t GroupCommitter::jobs() const {
  std::lock_guard lk(mu_);
  return jobs_;
}

void GroupCommitter::loop() {
  for (;;) {
    std::deque<Pending> batch;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and drained
      if (gather_.max.count() > 0 && expected_ > 0 && !stop_) {
        auto window = std::clamp(std::chrono::microseconds(static_cast<long>(2 * lead_us_)), gather_.min, gather_.max);
        auto until = std::chrono::steady_clock::now() + window;
        cv_.wait_until(lk, until, [&] { return stop_ || expected_ <= 0 || queue_.size() >= max_batch_; });
      }
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    run_batch(batch);
  }
}

void GroupCommitter::run_batch(std::deque<Pending>& batch) {
  try {
    auto txn = store_.write();
    for (auto& p : batch) p.job(*txn);
    commit(*txn);
    {
      std::lock_guard lk(mu_);
      ++commits_;
      jobs_ += batch.size();
    }
    for (auto& p : batch) p.done(nullptr);
    return;
  } catch (...) {
    if (batch.size() == 1) {
      batch.front().done(std::current_exception());
      return;
    }
  }
  // One job (or the commit) failed: run each alone so the failure lands on its owner.
  for (auto& p : batch) {
    try {
      auto txn = store_.write();
      p.job(*txn);
      commit(*txn);
      {
        std::lock_guard lk(mu_);
        ++commits_;
        ++jobs_;
      }
    } catch (...) {
      p.done(std::current_exception());
      continue;
    }
    p.done(nullptr);
  }
}

}  // namespace congvu::kv
