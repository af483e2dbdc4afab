#include "common/kv/group_commit.hpp"

namespace congvu::kv {

GroupCommitter::GroupCommitter(Store& store, std::size_t max_batch)
    : store_(store), max_batch_(max_batch), thread_([this] { loop(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::future<void> GroupCommitter::submit(Job job) {
  Pending p{std::move(job), {}};
  auto f = p.done.get_future();
  {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(p));
  }
  cv_.notify_one();
  return f;
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
    txn->commit();
    {
      std::lock_guard lk(mu_);
      ++commits_;
      jobs_ += batch.size();
    }
    for (auto& p : batch) p.done.set_value();
    return;
  } catch (...) {
    if (batch.size() == 1) {
      batch.front().done.set_exception(std::current_exception());
      return;
    }
  }
  // One job (or the commit) failed: run each alone so the failure lands on its owner.
  for (auto& p : batch) {
    try {
      auto txn = store_.write();
      p.job(*txn);
      txn->commit();
      {
        std::lock_guard lk(mu_);
        ++commits_;
        ++jobs_;
      }
      p.done.set_value();
    } catch (...) {
      p.done.set_exception(std::current_exception());
    }
  }
}

}  // namespace congvu::kv
