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

TEST_P(GroupCommit, AnnouncedJobsShareOneCommit) {
  StoreHolder h(GetParam(), {"t"});
  kv::GroupCommitter gc(h.store(), 512, {}, kv::GatherPolicy{std::chrono::milliseconds(200), std::chrono::milliseconds(200)});
  // Three writers announce; the first submits at once, the others 30 ms later: the commit
  // waits for them (within the window) and all three share it.
  for (int i = 0; i < 3; ++i) gc.expect(+1);
  auto now = std::chrono::steady_clock::now();
  std::vector<std::future<void>> fs;
  auto submit = [&](int i) {
    auto p = std::make_shared<std::promise<void>>();
    fs.push_back(p->get_future());
    gc.submit_expected([i](kv::WriteTxn& w) { w.put(0, "k" + std::to_string(i), "v"); },
                       [p](std::exception_ptr) { p->set_value(); }, now);
  };
  submit(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  submit(1);
  submit(2);
  for (auto& f : fs) f.get();
  EXPECT_EQ(gc.commits(), 1u);
  // A withdrawn announcement does not hold a lone writer back.
  gc.expect(+1);
  gc.expect(-1);
  auto t0 = std::chrono::steady_clock::now();
  gc.run([](kv::WriteTxn& w) { w.put(0, "lone", "v"); });
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(150));
  EXPECT_EQ(gc.commits(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, GroupCommit, testing::Values(Backend::lmdb, Backend::memory), backend_name);

}  // namespace
}  // namespace congvu::test
