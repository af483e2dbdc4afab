// The kv::Store contract, run against LMDB and the in-memory store.
#include <gtest/gtest.h>

#include "tests/support/stores.hpp"

namespace congvu::test {
namespace {

class KvContract : public testing::TestWithParam<Backend> {
 protected:
  StoreHolder h{GetParam(), {"a", "b"}};
  kv::Store& s = h.store();
  static constexpr kv::TableId A = 0, B = 1;

  std::vector<std::string> keys(kv::TableId t, std::string_view prefix) {
    auto r = s.read();
    std::vector<std::string> out;
    kv::scan_prefix(*r, t, prefix, [&](std::string_view k, std::string_view) {
      out.emplace_back(k);
      return true;
    });
    return out;
  }
};

TEST_P(KvContract, PutGetCommit) {
  {
    auto w = s.write();
    w->put(A, "k1", "v1");
    EXPECT_EQ(w->get(A, "k1"), "v1");  // a transaction sees its own writes
    w->commit();
  }
  auto r = s.read();
  EXPECT_EQ(r->get(A, "k1"), "v1");
  EXPECT_FALSE(r->get(A, "k2"));
  EXPECT_FALSE(r->get(B, "k1")) << "tables are independent";
}

TEST_P(KvContract, UncommittedWritesRollBack) {
  {
    auto w = s.write();
    w->put(A, "keep", "1");
    w->commit();
  }
  {
    auto w = s.write();
    w->put(A, "gone", "x");
    w->put(A, "keep", "changed");
    EXPECT_TRUE(w->del(A, "keep"));
  }  // destroyed without commit
  auto r = s.read();
  EXPECT_FALSE(r->get(A, "gone"));
  EXPECT_EQ(r->get(A, "keep"), "1");
}

TEST_P(KvContract, OverwriteAndDelete) {
  auto w = s.write();
  w->put(A, "k", "1");
  w->put(A, "k", "2");
  EXPECT_EQ(w->get(A, "k"), "2");
  EXPECT_TRUE(w->del(A, "k"));
  EXPECT_FALSE(w->del(A, "k"));
  EXPECT_FALSE(w->get(A, "k"));
  w->commit();
}

TEST_P(KvContract, CursorOrderSeekAndPrefix) {
  {
    auto w = s.write();
    for (auto k : {"b\x01", "a", "b", "ba", "c"}) w->put(A, k, "v");
    w->put(A, std::string("b\0z", 3), "nul");
    w->commit();
  }
  // Byte order, NUL bytes included.
  EXPECT_EQ(keys(A, ""), (std::vector<std::string>{"a", "b", std::string("b\0z", 3), "b\x01", "ba", "c"}));
  EXPECT_EQ(keys(A, "b"), (std::vector<std::string>{"b", std::string("b\0z", 3), "b\x01", "ba"}));
  EXPECT_TRUE(keys(A, "d").empty());
  EXPECT_TRUE(keys(B, "").empty());
  auto r = s.read();
  auto c = r->cursor(A);
  ASSERT_TRUE(c->seek("bb"));
  EXPECT_EQ(c->key(), "c");
  EXPECT_FALSE(c->next());
  EXPECT_FALSE(c->seek("d"));
}

TEST_P(KvContract, ScanStopsWhenAsked) {
  {
    auto w = s.write();
    for (int i = 0; i < 10; ++i) w->put(A, "k" + std::to_string(i), "v");
    w->commit();
  }
  auto r = s.read();
  int seen = 0;
  kv::scan_prefix(*r, A, "k", [&](std::string_view, std::string_view) { return ++seen < 3; });
  EXPECT_EQ(seen, 3);
}

TEST_P(KvContract, BinaryValuesAndLargeValues) {
  std::string big(200000, 'x');
  big[100] = '\0';
  {
    auto w = s.write();
    w->put(A, "big", big);
    w->put(A, "empty", "");
    w->commit();
  }
  auto r = s.read();
  EXPECT_EQ(r->get(A, "big"), big);
  ASSERT_TRUE(r->get(A, "empty"));
  EXPECT_EQ(r->get(A, "empty")->size(), 0u);
}

TEST_P(KvContract, CountsEntriesPerTable) {
  {
    auto w = s.write();
    for (int i = 0; i < 5; ++i) w->put(A, "k" + std::to_string(i), "v");
    w->put(A, "k0", "again");  // overwriting adds nothing
    w->put(B, "x", "v");
    EXPECT_EQ(w->count(A), 5u);
    w->commit();
  }
  auto r = s.read();
  EXPECT_EQ(r->count(A), 5u);
  EXPECT_EQ(r->count(B), 1u);
}

TEST_P(KvContract, ReaderSeesCommittedStateOnly) {
  {
    auto w = s.write();
    w->put(A, "x", "1");
    w->commit();
  }
  {
    auto r = s.read();
    EXPECT_EQ(r->get(A, "x"), "1");
  }
  {
    auto w = s.write();
    w->put(A, "x", "2");
    w->commit();
  }
  EXPECT_EQ(s.read()->get(A, "x"), "2");
}

INSTANTIATE_TEST_SUITE_P(Backends, KvContract, testing::Values(Backend::lmdb, Backend::memory), backend_name);

TEST(LmdbStore, DataSurvivesReopen) {
  TempDir d;
  {
    auto s = kv::open_lmdb(d.path() + "/x.mdb", {"t"});
    auto w = s->write();
    w->put(0, "k", "v");
    w->commit();
  }
  auto s = kv::open_lmdb(d.path() + "/x.mdb", {"t"});
  EXPECT_EQ(s->read()->get(0, "k"), "v");
  EXPECT_GT(s->stats().file_bytes, 0u);
}

TEST(LmdbStore, OpenFailureNamesThePath) {
  try {
    kv::open_lmdb("/nonexistent-dir/x.mdb", {"t"});
    FAIL() << "expected kv::Error";
  } catch (const kv::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.mdb"), std::string::npos);
  }
}

}  // namespace
}  // namespace congvu::test
