// Hiring, the address collision rule, transfers and their invariants, status changes, role
// mailboxes, groups and authentication, on LMDB and on the in-memory store.
#include <thread>

#include "common/crypto.hpp"
#include "tests/support/directory_fixture.hpp"

namespace congvu::test {
namespace {

using namespace directory;

class People : public DirectoryTest {
 protected:
  void SetUp() override { import_province(); }

  Result<Person> hire(const std::string& staff_no, const std::string& name,
                      const std::string& unit = "000.01.02.H99", const std::string& date = "2026-03-01") {
    HireSpec h{staff_no, name, {}, "", "", unit, "Chuyên viên", date, "1/QĐ-SNV", AssignmentKind::hire};
    return dir_.write(actor_, kNow, [&](Change& c) { return c.hire(h); });
  }
  Result<Person> transfer(const Person& p, const std::string& to, const std::string& date,
                          const std::string& expect_from = "") {
    MoveSpec m{p.id, to, "Chuyên viên chính", expect_from, date, "99/QĐ-UBND", AssignmentKind::transfer, ""};
    return dir_.write(actor_, kNow, [&](Change& c) { return c.move(m); });
  }
};

TEST_P(People, ImportDerivesAddressesWithTheCollisionRule) {
  EXPECT_EQ(who("T001").address, "annv@tinhmau.test");
  EXPECT_EQ(who("T004").address, "annv2@tinhmau.test") << "second Nguyễn Văn An, in order of creation";
  EXPECT_EQ(who("T002").login, "hantt");
  EXPECT_EQ(who("T003").login, "ducdv");
  EXPECT_EQ(who("T002").full_name, "Nguyễn Thị Thu Hà");
  EXPECT_EQ(who("T002").folded, "nguyen thi thu ha");
}

TEST_P(People, AddressesAreNeverReused) {
  auto first = who("T001");
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.retire(first.id, "2026-05-01", "5/QĐ"); }));
  auto third = hire("T100", "Nguyễn Văn An");
  ASSERT_TRUE(third) << third.error().message;
  EXPECT_EQ(third->login, "annv3") << "annv stays with its retired owner";
  EXPECT_EQ(who("annv@tinhmau.test").staff_no, "T001");
  // Someone else's base never collides with a numbered address.
  auto other = hire("T101", "Lê Văn Annv");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->login, "annvlv");
}

TEST_P(People, LookupsAcceptIdLoginAddressAndStaffNumberInAnyCase) {
  auto p = who("T003");
  EXPECT_EQ(who(p.id.str()).staff_no, "T003");
  EXPECT_EQ(who("DUCDV").staff_no, "T003");
  EXPECT_EQ(who("DucDV@TinhMau.Test").staff_no, "T003");
  EXPECT_FALSE(dir_.read([](Snapshot& s) { return s.resolve("nobody"); }));
}

TEST_P(People, TransferChangesUnitAndPositionAndNothingElse) {
  auto before = who("T003");
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_password(before.id, "mật-khẩu-cũ-2026"); }));
  auto cred_before = dir_.read([&](Snapshot& s) { return s.credential(before.id); });
  auto hist_before = dir_.read([&](Snapshot& s) { return s.history(before.id); });
  auto audit_before = dir_.read([](Snapshot& s) { return s.audit_log("", 1000000); });

  auto r = transfer(before, "000.01.02.H99", "2026-06-01", "000.02.02.H99");
  ASSERT_TRUE(r) << r.error().message;
  auto after = who("T003");
  EXPECT_EQ(after.id, before.id);
  EXPECT_EQ(after.address, before.address);
  EXPECT_EQ(after.login, before.login);
  EXPECT_EQ(after.staff_no, before.staff_no);
  EXPECT_EQ(after.unit, "000.01.02.H99");
  EXPECT_EQ(after.position, "Chuyên viên chính");
  auto cred_after = dir_.read([&](Snapshot& s) { return s.credential(before.id); });
  EXPECT_EQ(cred_after->password_hash, cred_before->password_hash);
  EXPECT_EQ(cred_after->scram_sha256, cred_before->scram_sha256);

  auto hist = dir_.read([&](Snapshot& s) { return s.history(before.id); });
  ASSERT_EQ(hist.size(), hist_before.size() + 1);
  EXPECT_EQ(hist[0].unit, "000.02.02.H99");
  EXPECT_EQ(hist[0].from, hist_before[0].from) << "the old assignment keeps its start";
  EXPECT_EQ(hist[0].to, "2026-06-01");
  EXPECT_EQ(hist[0].closed_by, "99/QĐ-UBND");
  EXPECT_EQ(hist[1].from, "2026-06-01");
  EXPECT_TRUE(hist[1].to.empty());
  EXPECT_EQ(hist[1].kind, AssignmentKind::transfer);

  // The audit chain only grew: every earlier record is byte-for-byte the same.
  auto audit = dir_.read([](Snapshot& s) { return s.audit_log("", 1000000); });
  ASSERT_EQ(audit.size(), audit_before.size() + 1);
  for (std::size_t i = 0; i < audit_before.size(); ++i) EXPECT_EQ(audit[i].hash, audit_before[i].hash);
  EXPECT_EQ(audit.back().action, "person.transfer");
  EXPECT_EQ(audit.back().reason, "99/QĐ-UBND");
  EXPECT_TRUE(dir_.read([](Snapshot& s) { return s.verify_audit(); }).ok);
  EXPECT_TRUE(dir_.read([](Snapshot& s) { return s.check(); }).empty());

  // Membership follows the unit.
  auto old_members = dir_.read([](Snapshot& s) { return s.members("000.02.02.H99", false); });
  auto new_members = dir_.read([](Snapshot& s) { return s.members("000.01.02.H99", false); });
  auto has = [&](const std::vector<Person>& v) {
    return std::any_of(v.begin(), v.end(), [&](const Person& p) { return p.id == before.id; });
  };
  EXPECT_FALSE(has(old_members));
  EXPECT_TRUE(has(new_members));
}

TEST_P(People, RefusedChangesWriteNothing) {
  auto p = who("T003");
  auto audit = audit_records();
  auto wrong_from = transfer(p, "000.01.02.H99", "2026-06-01", "000.01.02.H99");
  ASSERT_FALSE(wrong_from);
  EXPECT_EQ(wrong_from.error().code, Errc::conflict);
  EXPECT_NE(wrong_from.error().message.find("is in unit 000.02.02.H99"), std::string::npos);
  EXPECT_FALSE(transfer(p, "999.99.99.H99", "2026-06-01"));
  EXPECT_FALSE(transfer(p, "000.01.02.H99", "2026-02-30"));
  ASSERT_TRUE(transfer(p, "000.01.02.H99", "2026-06-01"));
  auto backwards = transfer(who("T003"), "000.02.02.H99", "2026-05-01");
  ASSERT_FALSE(backwards) << "a date before the current assignment began";
  EXPECT_EQ(audit_records(), audit + 1);
  EXPECT_EQ(who("T003").assignments, 2u);
}

TEST_P(People, RetiredPeopleCannotMoveButKeepEverything) {
  auto p = who("T002");
  auto r = dir_.write(actor_, kNow, [&](Change& c) { return c.retire(p.id, "2026-07-01", "7/QĐ"); });
  ASSERT_TRUE(r);
  auto q = who("T002");
  EXPECT_EQ(q.status, PersonStatus::retired);
  EXPECT_TRUE(q.unit.empty());
  EXPECT_EQ(q.address, p.address);
  auto moved = transfer(q, "000.02.02.H99", "2026-08-01");
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code, Errc::conflict);
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& c) { return c.retire(p.id, "2026-08-01", "8/QĐ"); }));
  EXPECT_TRUE(dir_.read([](Snapshot& s) { return s.check(); }).empty());
}

TEST_P(People, ReappointmentToTheSamePositionOpensANewAssignment) {
  auto p = who("T005");
  MoveSpec m{p.id, "", "Giám đốc", "", "2026-09-01", "12/QĐ-UBND", AssignmentKind::appointment, ""};
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.move(m); }));
  auto hist = dir_.read([&](Snapshot& s) { return s.history(p.id); });
  ASSERT_EQ(hist.size(), 2u);
  EXPECT_EQ(hist[1].decision, "12/QĐ-UBND");
}

TEST_P(People, SuspendAndResume) {
  auto p = who("T001");
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_status(p.id, PersonStatus::suspended, "kỷ luật"); }));
  EXPECT_EQ(who("T001").status, PersonStatus::suspended);
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_status(p.id, PersonStatus::suspended, ""); }));
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_status(p.id, PersonStatus::active, ""); }));
  EXPECT_EQ(who("T001").status, PersonStatus::active);
}

TEST_P(People, RoleMailboxFollowsThePosition) {
  auto holders = [&](const char* unit) {
    std::vector<std::string> v;
    for (auto& p : dir_.read([&](Snapshot& s) { return s.role_holders(unit); })) v.push_back(p.staff_no);
    std::sort(v.begin(), v.end());
    return v;
  };
  // Division: the clerk (Văn thư) and the head (Trưởng phòng).
  EXPECT_EQ(holders("000.01.02.H99"), (std::vector<std::string>{"T001", "T002"}));
  EXPECT_EQ(holders("001.01.00.H99"), (std::vector<std::string>{"T006"})) << "commune: the office civil servant";
  auto owner = dir_.read([](Snapshot& s) { return s.address_owner("sonv-tccb@tinhmau.test"); });
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->kind, AddressOwner::unit);
  EXPECT_EQ(owner->key, "000.01.02.H99");
  // The clerk moves to the other division as a clerk: access moves with her.
  auto clerk = who("T002");
  MoveSpec m{clerk.id, "000.02.02.H99", "Văn thư", "", "2026-06-01", "3/QĐ", AssignmentKind::transfer, ""};
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.move(m); }));
  EXPECT_EQ(holders("000.01.02.H99"), (std::vector<std::string>{"T001"}));
  EXPECT_EQ(holders("000.02.02.H99"), (std::vector<std::string>{"T002", "T004"}));
  // A suspended holder loses access.
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_status(clerk.id, PersonStatus::suspended, ""); }));
  EXPECT_EQ(holders("000.02.02.H99"), (std::vector<std::string>{"T004"}));
  // "Văn thư" arriving decomposed (NFD, as some CSV exports and keyboards write it) is stored
  // in NFC, so the clerk keeps the official inbox; a hire too, and its staff number.
  const std::string nfd_clerk = "V\x61\xcc\x86n th\x75\xcc\x9b";  // V a+breve n th u+horn
  ASSERT_NE(nfd_clerk, "Văn thư");
  auto head = who("T001");
  MoveSpec back{head.id, "000.01.02.H99", "  " + nfd_clerk + " ", "", "2026-06-02", "4/QĐ", AssignmentKind::appointment, ""};
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.move(back); }));
  EXPECT_EQ(who("T001").position, "Văn thư");
  EXPECT_EQ(holders("000.01.02.H99"), (std::vector<std::string>{"T001"}));
  HireSpec h{"T9\xcc\x81", "Lê Văn Bình", {}, "", "", "000.02.02.H99", nfd_clerk, "2026-06-03", "5/QĐ", AssignmentKind::hire};
  auto hired = dir_.write(actor_, kNow, [&](Change& c) { return c.hire(h); });
  ASSERT_TRUE(hired) << hired.error().message;
  EXPECT_EQ(hired->position, "Văn thư");
  EXPECT_EQ(hired->staff_no, "T9\xcc\x81") << "no precomposed form: unchanged";
  EXPECT_EQ(holders("000.02.02.H99"), (std::vector<std::string>{"T004", hired->staff_no}));
}

TEST_P(People, UnitsValidateAndReserveTheirAddress) {
  auto add = [&](NewUnit u) { return dir_.write(actor_, kNow, [&](Change& c) { return c.add_unit(u); }); };
  EXPECT_TRUE(add({"000.03.02.H99", "000.00.02.H99", "Phòng Pháp chế", "sonv-phapche", UnitKind::division, ""}));
  EXPECT_EQ(add({"000.03.02.H99", "000.00.02.H99", "X", "x2", UnitKind::division, ""}).error().code, Errc::conflict);
  EXPECT_EQ(add({"000.04.02.H99", "404", "X", "x3", UnitKind::division, ""}).error().code, Errc::not_found);
  EXPECT_EQ(add({"bad code", "000.00.02.H99", "X", "x4", UnitKind::division, ""}).error().code, Errc::invalid_argument);
  EXPECT_EQ(add({"000.05.02.H99", "000.00.02.H99", "X", "annv", UnitKind::division, ""}).error().code, Errc::conflict)
      << "a person already has annv@";
  EXPECT_EQ(add({"000.06.02.H99", "", "X", "x6", UnitKind::division, ""}).error().code, Errc::invalid_argument);
  auto tree = dir_.read([](Snapshot& s) { return s.subtree("000.00.02.H99"); });
  EXPECT_EQ(tree.size(), 4u);
  // A person hired later whose base equals a unit slug gets the next suffix.
  auto r = hire("T200", "Nguyễn Văn Sơ");  // base "sonv", the slug of Sở Nội vụ
  ASSERT_TRUE(r);
  EXPECT_EQ(r->login, "sonv2");
}

TEST_P(People, GroupsStaticAndDerived) {
  Group heads;
  heads.name = "truong-phong";
  heads.title = "Trưởng phòng toàn tỉnh";
  heads.kind = GroupKind::unit_derived;
  heads.positions = {"Trưởng phòng"};
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.add_group(heads); }));
  Group dept;
  dept.name = "sonv-all";
  dept.kind = GroupKind::unit_derived;
  dept.unit = "000.00.02.H99";
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.add_group(dept); }));
  Group board;
  board.name = "ban-bien-tap";
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.add_group(board); }));
  auto t005 = who("T005").id;
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.add_group_member("ban-bien-tap", t005); }));
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& c) { return c.add_group_member("ban-bien-tap", t005); }));
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& c) { return c.add_group_member("sonv-all", t005); }));
  auto count = [&](const char* name) {
    return dir_.read([&](Snapshot& s) { return s.group_members(*s.group(name)).size(); });
  };
  EXPECT_EQ(count("truong-phong"), 1u);
  EXPECT_EQ(count("sonv-all"), 4u);
  EXPECT_EQ(count("ban-bien-tap"), 1u);
  // T005 moves into Sở Nội vụ: the derived group follows.
  auto p = who("T005");
  ASSERT_TRUE(transfer(p, "000.01.02.H99", "2026-06-01"));
  EXPECT_EQ(count("sonv-all"), 5u);
  EXPECT_EQ(dir_.read([](Snapshot& s) { return s.address_owner("sonv-all@tinhmau.test"); })->kind, AddressOwner::group);
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& c) { return c.add_group(board); })) << "name taken";
}

TEST_P(People, AuthenticateByLoginAddressAnyCase) {
  auto p = who("T001");
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_password(p.id, "Mật-khẩu-2026"); }));
  EXPECT_TRUE(dir_.authenticate("annv", "Mật-khẩu-2026", kNow));
  EXPECT_TRUE(dir_.authenticate("ANNV@tinhmau.test", "Mật-khẩu-2026", kNow));
  EXPECT_FALSE(dir_.authenticate("annv", "mật-khẩu-2026", kNow));
  EXPECT_FALSE(dir_.authenticate("annv2", "Mật-khẩu-2026", kNow)) << "no password set";
  EXPECT_FALSE(dir_.authenticate("nobody", "x", kNow));
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_status(p.id, PersonStatus::suspended, ""); }));
  EXPECT_FALSE(dir_.authenticate("annv", "Mật-khẩu-2026", kNow)) << "suspended";
}

TEST_P(People, CredentialCacheFollowsPasswordChanges) {
  auto p = who("T001");
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_password(p.id, "một"); }));
  EXPECT_TRUE(dir_.authenticate("annv", "một", kNow));
  EXPECT_TRUE(dir_.authenticate("annv", "một", kNow + 1000)) << "cached";
  Directory::AuthDetail d;
  EXPECT_FALSE(dir_.authenticate("annv", "hai", kNow + 1000, Directory::Purpose::mail, &d));
  EXPECT_FALSE(d.repeated) << "the first time a wrong password is checked";
  EXPECT_EQ(d.reason, "wrong-password");
  d = {};
  EXPECT_FALSE(dir_.authenticate("annv", "hai", kNow + 1500, Directory::Purpose::mail, &d));
  EXPECT_TRUE(d.repeated) << "the same wrong password again is recognised";
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_password(p.id, "hai"); }));
  EXPECT_FALSE(dir_.authenticate("annv", "một", kNow + 2000)) << "a changed password misses the cache";
  d = {};
  EXPECT_TRUE(dir_.authenticate("annv", "hai", kNow + 2000, Directory::Purpose::mail, &d))
      << "a password known wrong becomes right when the stored hash changes";
  EXPECT_FALSE(d.repeated);
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_status(p.id, PersonStatus::suspended, ""); }));
  EXPECT_FALSE(dir_.authenticate("annv", "hai", kNow + 3000)) << "status is read every time";

  CredentialCache cache(3, 1000);
  cache.put(p.id, "pw", "hash-1", kNow);
  EXPECT_EQ(cache.lookup(p.id, "pw", "hash-1", kNow + 999), true);
  EXPECT_EQ(cache.lookup(p.id, "pw", "hash-2", kNow + 1), std::nullopt) << "another stored hash";
  cache.put(p.id, "pw", "hash-1", kNow);
  EXPECT_EQ(cache.lookup(p.id, "pw", "hash-1", kNow + 1001), std::nullopt) << "expired";
  EXPECT_EQ(cache.lookup(p.id, "other", "hash-1", kNow), std::nullopt);
  cache.put(p.id, "bad", "hash-1", kNow, false);
  EXPECT_EQ(cache.lookup(p.id, "bad", "hash-1", kNow + 1), false) << "known wrong";
}

TEST_P(People, HashSlotsRefuseATemporarilyWhenFull) {
  auto p = who("T001");
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_password(p.id, "một"); }));
  Directory dir(h_.store(), settings());
  dir.set_hash_slots(2);
  {
    auto a = dir.hash_slot(), b = dir.hash_slot();
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(dir.hash_slot()) << "both slots are taken";
    auto r = dir.authenticate("annv", "một", kNow);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::unavailable);
    auto u = dir.authenticate("nobody", "x", kNow);
    ASSERT_FALSE(u);
    EXPECT_EQ(u.error().code, Errc::unavailable) << "the timing equaliser takes a slot too";
    Directory::AuthDetail known;
    known.trusted = true;
    EXPECT_TRUE(dir.authenticate("annv", "một", kNow, Directory::Purpose::mail, &known))
        << "a source the person signed in from recently is not bounded by the slots";
  }
  // With the slot free again, the right password is checked as usual.
  EXPECT_TRUE(dir.authenticate("annv", "một", kNow));
}

TEST_P(People, ImportedLegacyHashIsUpgradedOnLogin) {
  auto p = who("T003");
  std::string ssha = "{SSHA}" + crypto::base64_encode(crypto::sha1_raw(std::string("cũ-nhưng-đúng") + "salt") + "salt");
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_password_hash(p.id, ssha); }));
  EXPECT_FALSE(dir_.authenticate("ducdv", "wrong", kNow));
  EXPECT_EQ(dir_.read([&](Snapshot& s) { return s.credential(p.id); })->password_hash, ssha) << "no upgrade on failure";
  ASSERT_TRUE(dir_.authenticate("ducdv", "cũ-nhưng-đúng", kNow));
  auto cred = dir_.read([&](Snapshot& s) { return s.credential(p.id); });
  EXPECT_EQ(cred->password_hash.rfind("{ARGON2}$argon2id$", 0), 0u);
  EXPECT_EQ(cred->scram_sha256.rfind("SCRAM-SHA-256$", 0), 0u);
  EXPECT_TRUE(dir_.authenticate("ducdv", "cũ-nhưng-đúng", kNow));
  EXPECT_TRUE(dir_.read([](Snapshot& s) { return s.verify_audit(); }).ok);
}

TEST_P(People, ConcurrentHiresThroughTheGroupCommitterGetDistinctAddresses) {
  kv::GroupCommitter gc(h_.store());
  Directory dir(h_.store(), settings(), &gc);
  std::vector<std::thread> threads;
  std::vector<std::string> logins(40);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        int n = t * 10 + i;
        HireSpec h{"G" + std::to_string(n), "Nguyễn Văn An", {}, "", "", "000.01.02.H99", "Chuyên viên", "2026-03-01", "", AssignmentKind::hire};
        auto r = dir.write(actor_, kNow, [&](Change& c) { return c.hire(h); });
        if (r) logins[n] = r->login;
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> unique(logins.begin(), logins.end());
  EXPECT_EQ(unique.size(), 40u);
  EXPECT_FALSE(unique.count(""));
  EXPECT_TRUE(unique.count("annv3") && unique.count("annv42"));
  // A failing write through the committer leaves nothing behind.
  HireSpec dup{"G1", "X Y", {}, "", "", "000.01.02.H99", "Chuyên viên", "2026-03-01", "", AssignmentKind::hire};
  EXPECT_EQ(dir.write(actor_, kNow, [&](Change& c) { return c.hire(dup); }).error().code, Errc::conflict);
  EXPECT_TRUE(dir.read([](Snapshot& s) { return s.check(); }).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, People, testing::Values(Backend::lmdb, Backend::memory), backend_name);

}  // namespace
}  // namespace congvu::test
