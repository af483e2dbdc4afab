// Folded-name search: diacritics, case, order of words, prefixes, unit subtrees and status.
#include "tests/support/directory_fixture.hpp"

namespace congvu::test {
namespace {

using namespace directory;

class Search : public DirectoryTest {
 protected:
  void SetUp() override { import_province(); }
  std::vector<std::string> find(SearchQuery q) {
    std::vector<std::string> out;
    for (auto& p : dir_.read([&](Snapshot& s) { return s.search(q); })) out.push_back(p.staff_no);
    return out;
  }
  std::vector<std::string> find(const std::string& text) { return find(SearchQuery{text}); }
};

TEST_P(Search, DiacriticAndCaseInsensitiveAnyOrder) {
  auto expected = std::vector<std::string>{"T001", "T004"};
  EXPECT_EQ(find("nguyen van an"), expected);
  EXPECT_EQ(find("Nguyễn Văn An"), expected);
  EXPECT_EQ(find("an nguyen"), expected);
  EXPECT_EQ(find("AN NGUYỄN"), expected);
  EXPECT_EQ(find("đức"), (std::vector<std::string>{"T003"}));
  EXPECT_EQ(find("duc dang"), (std::vector<std::string>{"T003"}));
}

TEST_P(Search, PrefixesAndExactMatchesFirst) {
  auto r = find("ngu");
  EXPECT_EQ(r.size(), 3u);  // two Nguyễn Văn An and Nguyễn Thị Thu Hà
  auto an = find("an");
  ASSERT_GE(an.size(), 3u);  // An, An, Anh (Tuấn's middle name) ...
  EXPECT_EQ(an[0], "T001") << "exact token before prefix";
  EXPECT_EQ(an[1], "T004");
  EXPECT_TRUE(find("nguyen van anh").empty()) << "every word must match";
  EXPECT_TRUE(find("zzz").empty());
}

TEST_P(Search, ByLogin) {
  EXPECT_EQ(find("annv2"), (std::vector<std::string>{"T004"}));
  EXPECT_EQ(find("hantt"), (std::vector<std::string>{"T002"}));
}

TEST_P(Search, UnitSubtreeAndStatusFilters) {
  SearchQuery q{"nguyen"};
  q.unit = "000.01.02.H99";
  EXPECT_EQ(find(q), (std::vector<std::string>{"T001", "T002"}));
  q.unit = "000.00.02.H99";  // the department: its divisions are included
  EXPECT_EQ(find(q).size(), 3u);
  q.subtree = false;
  EXPECT_TRUE(find(q).empty());
  q.unit = "";
  q.subtree = true;
  q.limit = 1;
  EXPECT_EQ(find(q).size(), 1u);

  auto p = who("T004");
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.retire(p.id, "2026-07-01", "7/QĐ"); }));
  EXPECT_EQ(find("nguyen van an"), (std::vector<std::string>{"T001"})) << "active only by default";
  SearchQuery any{"nguyen van an"};
  any.status.reset();
  EXPECT_EQ(find(any).size(), 2u);
  SearchQuery retired{"an"};
  retired.status = PersonStatus::retired;
  EXPECT_EQ(find(retired), (std::vector<std::string>{"T004"}));
}

TEST_P(Search, EmptyQueryListsUnitMembers) {
  SearchQuery q{""};
  q.unit = "000.02.02.H99";
  EXPECT_EQ(find(q).size(), 2u);
  EXPECT_EQ(find(SearchQuery{""}).size(), 6u);
}

TEST_P(Search, FollowsRenamesOfStatusAndUnitAfterTransfer) {
  auto p = who("T003");
  MoveSpec m{p.id, "001.01.00.H99", "Công chức Tư pháp - Hộ tịch", "", "2026-06-01", "1/QĐ", AssignmentKind::rotation, ""};
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.move(m); }));
  SearchQuery q{"duc"};
  q.unit = "001.01.00.H99";
  EXPECT_EQ(find(q), (std::vector<std::string>{"T003"}));
  q.unit = "000.02.02.H99";
  EXPECT_TRUE(find(q).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, Search, testing::Values(Backend::lmdb, Backend::memory), backend_name);

}  // namespace
}  // namespace congvu::test
