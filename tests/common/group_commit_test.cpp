#include "common/kv/group_commit.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "tests/support/stores.hpp"

namespace congvu::test {
namespace {

class GroupCommit : public testing::TestWithParam<Backend> {};

TEST_P(GroupCommit, ManyWritersShareCommitsAndAllAreDurableWhenTold) {
  StoreHolder h(GetParam(), {"t"});
  std::atomic<int> wrong{0};
  {
    kv::GroupCommitter gc(h.store());
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 100; ++i) {
          std::string key = std::to_string(t) + "/" + std::to_string(i);
          gc.run([&](kv::WriteTxn& w) { w.put(0, key, "v"); });
          // Told done: a fresh reader must see it.
          if (!h.store().read()->get(0, key)) ++wrong;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(gc.jobs(), 800u);
    EXPECT_LE(gc.commits(), 800u);
  }
  EXPECT_EQ(wrong, 0);
  int n = 0;
  auto r = h.store().read();
  kv::scan_prefix(*r, 0, "", [&](std::string_view, std::string_view) { return ++n, true; });
  EXPECT_EQ(n, 800);
}

TEST_P(GroupCommit, AFailingJobFailsAloneAndLeavesNoTrace) {
  StoreHolder h(GetParam(), {"t"});
  kv::GroupCommitter gc(h.store());
  // Queue several jobs at once so that they land in one batch.
  std::vector<std::future<void>> fs;
  for (int i = 0; i < 20; ++i) {
    fs.push_back(gc.submit([i](kv::WriteTxn& w) {
      w.put(0, "k" + std::to_string(i), "v");
      if (i == 7) throw std::runtime_error("job 7 fails");
    }));
  }
  for (int i = 0; i < 20; ++i) {
    if (i == 7) EXPECT_THROW(fs[i].get(), std::runtime_error);
    else EXPECT_NO_THROW(fs[i].get());
  }
  auto r = h.store().read();
  EXPECT_FALSE(r->get(0, "k7")) << "the failed job's write must be rolled back";
  EXPECT_TRUE(r->get(0, "k6"));
  EXPECT_TRUE(r->get(0, "k8"));
}

INSTANTIATE_TEST_SUITE_P(Backends, GroupCommit, testing::Values(Backend::lmdb, Backend::memory), backend_name);

}  // namespace
}  // namespace congvu::test
