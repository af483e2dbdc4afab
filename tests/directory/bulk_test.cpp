// Import (all-or-nothing, file:line errors), HR event replay, and the audit chain.
#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "tests/support/directory_fixture.hpp"

namespace congvu::test {
namespace {

using namespace directory;

class Bulk : public DirectoryTest {
 protected:
  Result<ImportReport> import(const std::string& units, const std::string& staff, const std::string& creds = "") {
    CsvFile u{"units.csv", units}, s{"staff.csv", staff}, c{"cred.csv", creds};
    return dir_.write(actor_, kNow, [&](Change& ch) {
      return import_csv(ch, units.empty() ? nullptr : &u, staff.empty() ? nullptr : &s, creds.empty() ? nullptr : &c, "");
    });
  }
  Result<EventsReport> events(const std::string& text, const std::string& as_of, bool stop = false) {
    CsvFile f{"events.csv", text};
    return dir_.write(actor_, kNow, [&](Change& c) { return apply_events(c, f, as_of, stop); });
  }
  std::uint64_t people() { return dir_.read([](Snapshot& s) { return s.count_people(); }); }
};

TEST_P(Bulk, ImportCountsAndIsRepeatableForUnits) {
  auto r = import(kUnitsCsv, kStaffCsv);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->units_added, 6u);
  EXPECT_EQ(r->people_added, 6u);
  auto again = import(kUnitsCsv, "");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->units_unchanged, 6u);
  EXPECT_TRUE(dir_.read([](Snapshot& s) { return s.check(); }).empty());
}

TEST_P(Bulk, ABadRowNamesFileAndLineAndWritesNothing) {
  std::string staff = std::string(kStaffCsv) + "T007,Phạm Văn Bình,Phạm,Văn,Bình,M,1980-01-01,999.99.99.H99,Chuyên viên\n";
  auto r = import(kUnitsCsv, staff);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "staff.csv:8: unit 999.99.99.H99 does not exist");
  EXPECT_EQ(people(), 0u);
  EXPECT_EQ(dir_.read([](Snapshot& s) { return s.count_units(); }), 0u) << "units of the same import rolled back";
  EXPECT_EQ(audit_records(), 0u);

  auto dup = import(kUnitsCsv, std::string(kStaffCsv) + "T001,Lê Văn Tám,Lê,Văn,Tám,M,,000.01.02.H99,Chuyên viên\n");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "staff.csv:8: staff number T001 already appears on line 2");
  auto bad_date = import(kUnitsCsv, "staff_no,full_name,unit_code,position,birth_date\nX1,Lê Tám,000.01.02.H99,CV,1990-02-31\n");
  ASSERT_FALSE(bad_date);
  EXPECT_EQ(bad_date.error().message.rfind("staff.csv:2: birth date", 0), 0u) << bad_date.error().message;
  auto missing_col = import(kUnitsCsv, "staff_no,full_name,position\nX,Y,Z\n");
  ASSERT_FALSE(missing_col);
  EXPECT_EQ(missing_col.error().message, "staff.csv:1: missing column 'unit_code'");
  auto cycle = import("code,parent_code,kind,name,slug\nA,B,division,a,a\nB,A,division,b,b\n", "");
  ASSERT_FALSE(cycle);
  EXPECT_NE(cycle.error().message.find("its own ancestor"), std::string::npos);
  auto bad_kind = import("code,parent_code,kind,name,slug\nP,,state,a,a\n", "");
  ASSERT_FALSE(bad_kind);
  EXPECT_EQ(bad_kind.error().message.rfind("units.csv:2: kind 'state'", 0), 0u);
  auto latin1 = import(kUnitsCsv, "staff_no,full_name,unit_code,position\nX,Nguy\xea\xf1,000.01.02.H99,CV\n");
  ASSERT_FALSE(latin1);
  EXPECT_EQ(latin1.error().message, "staff.csv:2: not valid UTF-8 (save the file as UTF-8)");
  EXPECT_EQ(people(), 0u);
}

TEST_P(Bulk, CredentialsImportAsIsAndBadOnesFailTheImport) {
  std::string ssha = "{SSHA}" + crypto::base64_encode(crypto::sha1_raw(std::string("pw") + "salt") + "salt");
  auto bad = import(kUnitsCsv, kStaffCsv, "staff_no,password_hash\nT001," + ssha + "\nT002,{MD5}abc\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind("cred.csv:3: unknown password scheme", 0), 0u) << bad.error().message;
  EXPECT_EQ(people(), 0u);
  auto unknown = import(kUnitsCsv, kStaffCsv, "staff_no,password_hash\nT999," + ssha + "\n");
  ASSERT_FALSE(unknown);
  auto ok = import(kUnitsCsv, kStaffCsv, "staff_no,password_hash\nT001," + ssha + "\n");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->credentials, 1u);
  EXPECT_TRUE(dir_.authenticate("annv", "pw", kNow));
}

constexpr const char* kEvents =
    "seq,effective_date,staff_no,kind,from_unit,to_unit,position,decision_no,full_name\n"
    "1,2026-01-05,T003,dieu_dong,000.02.02.H99,000.01.02.H99,Chuyên viên,1/QĐ-UBND,\n"
    "2,2026-02-01,T005,bo_nhiem,000.00.03.H99,000.00.03.H99,Phó Giám đốc,2/QĐ-UBND,\n"
    "3,2026-03-01,T010,tiep_nhan,,000.02.02.H99,Cán sự,3/QĐ-SNV,Nguyễn Văn An\n"
    "4,2026-04-01,T002,nghi_huu,000.01.02.H99,,,4/QĐ-UBND,\n"
    "5,2026-05-01,T006,luan_chuyen,001.01.00.H99,000.02.02.H99,Chuyên viên,5/QĐ-UBND,\n"
    "6,2027-01-01,T001,dieu_dong,000.01.02.H99,000.00.03.H99,Chuyên viên,6/QĐ-UBND,\n";

TEST_P(Bulk, EventsApplyUpToAsOfAndRecordTheRestAsPending) {
  import_province();
  auto r = events(kEvents, "2026-06-01");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->applied, 5u);
  EXPECT_EQ(r->pending, 1u);
  EXPECT_TRUE(r->failed.empty());
  EXPECT_EQ(who("T003").unit, "000.01.02.H99");
  EXPECT_EQ(who("T005").position, "Phó Giám đốc");
  EXPECT_EQ(who("T010").login, "annv3");
  EXPECT_EQ(who("T002").status, PersonStatus::retired);
  EXPECT_EQ(who("T006").unit, "000.02.02.H99");
  EXPECT_EQ(who("T001").unit, "000.01.02.H99") << "seq 6 is in the future";
  auto pending = dir_.read([](Snapshot& s) { return pending_events(s); });
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].seq, 6u);
  // Replaying the same file later applies what became due and skips what was done.
  auto again = events(kEvents, "2027-06-01");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->already_applied, 5u);
  EXPECT_EQ(again->applied, 1u);
  EXPECT_EQ(who("T001").unit, "000.00.03.H99");
  EXPECT_TRUE(dir_.read([](Snapshot& s) { return pending_events(s); }).empty());
  EXPECT_TRUE(dir_.read([](Snapshot& s) { return s.check(); }).empty());
}

constexpr const char* kBadEvents =
    "seq,effective_date,staff_no,kind,from_unit,to_unit,position,decision_no,full_name\n"
    "1,2026-01-05,T003,dieu_dong,000.02.02.H99,000.01.02.H99,Chuyên viên,1/QĐ,\n"
    "2,2026-01-06,T999,dieu_dong,000.02.02.H99,000.01.02.H99,Chuyên viên,2/QĐ,\n"
    "3,2026-01-07,T001,dieu_dong,000.02.02.H99,000.01.02.H99,Chuyên viên,3/QĐ,\n"
    "4,2026-01-08,T005,dieu_dong,000.00.03.H99,404.00.00.H99,Chuyên viên,4/QĐ,\n"
    "5,2026-01-09,T004,nghi_huu,000.02.02.H99,,,5/QĐ,\n"
    "6,2026-01-10,T004,dieu_dong,000.02.02.H99,000.01.02.H99,Chuyên viên,6/QĐ,\n";

TEST_P(Bulk, EventsThatCannotApplyAreReportedAndTheRestContinue) {
  import_province();
  auto r = events(kBadEvents, "2027-06-01");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->applied, 2u);
  ASSERT_EQ(r->failed.size(), 4u);
  EXPECT_EQ(r->failed[0].seq, 2u);
  EXPECT_EQ(r->failed[0].message, "unknown person T999");
  EXPECT_EQ(r->failed[1].seq, 3u);
  EXPECT_EQ(r->failed[1].message, "T001 is in unit 000.01.02.H99, not 000.02.02.H99");
  EXPECT_EQ(r->failed[2].message, "unit 404.00.00.H99 does not exist");
  EXPECT_EQ(r->failed[3].message, "T004 is retired");
}

TEST_P(Bulk, StopOnErrorAppliesNothing) {
  import_province();
  auto audit = audit_records();
  auto r = events(kBadEvents, "2027-06-01", true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "seq 2: unknown person T999");
  EXPECT_EQ(who("T003").unit, "000.02.02.H99") << "seq 1 rolled back";
  EXPECT_EQ(audit_records(), audit);
}

TEST_P(Bulk, MalformedEventFilesAndReusedSeqs) {
  import_province();
  auto bad_date = events("seq,effective_date,staff_no,kind,from_unit,to_unit,position,decision_no\n1,2026-13-01,T1,dieu_dong,,,,\n", "2027-01-01");
  ASSERT_FALSE(bad_date);
  EXPECT_EQ(bad_date.error().message, "events.csv:2: effective_date '2026-13-01' is not a date YYYY-MM-DD");
  auto bad_kind = events("seq,effective_date,staff_no,kind,from_unit,to_unit,position,decision_no\n1,2026-01-01,T1,thang_chuc,,,,\n", "2027-01-01");
  ASSERT_FALSE(bad_kind);
  EXPECT_EQ(bad_kind.error().message.rfind("events.csv:2: kind 'thang_chuc'", 0), 0u);
  ASSERT_TRUE(events(kEvents, "2026-06-01"));
  std::string changed = kEvents;
  changed.replace(changed.find("1/QĐ-UBND"), 9, "9/QĐ-UBND");
  auto r = events(changed, "2026-06-01");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->failed.size(), 1u);
  EXPECT_EQ(r->failed[0].seq, 1u);
  EXPECT_NE(r->failed[0].message.find("different event"), std::string::npos);
}

TEST_P(Bulk, AuditDetectsATamperedRecordAndATruncatedChain) {
  import_province();
  auto ok = dir_.read([](Snapshot& s) { return s.verify_audit(); });
  ASSERT_TRUE(ok.ok);
  EXPECT_EQ(ok.records, 12u);  // 6 units + 6 people
  auto log = dir_.read([](Snapshot& s) { return s.audit_log("", 100); });
  EXPECT_EQ(log[0].action, "unit.add");
  EXPECT_EQ(log[0].actor, "test");
  EXPECT_EQ(log[11].action, "person.import");
  {
    // Rewrite record 5's detail, keeping its stored hash: an attacker editing the file.
    auto w = h_.store().write();
    std::string key;
    codec::put_be64(key, 5);
    AuditRecord r = decode_audit(*w->get(schema::audit, key));
    r.detail = "{\"name\":\"forged\"}";
    w->put(schema::audit, key, encode(r));
    w->commit();
  }
  auto bad = dir_.read([](Snapshot& s) { return s.verify_audit(); });
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.first_bad, 5u);
  EXPECT_FALSE(dir_.read([](Snapshot& s) { return s.check(); }).empty());
}

TEST_P(Bulk, AuditDetectsRemovedTail) {
  import_province();
  {
    auto w = h_.store().write();
    std::string key;
    codec::put_be64(key, 12);
    w->del(schema::audit, key);
    w->commit();
  }
  auto bad = dir_.read([](Snapshot& s) { return s.verify_audit(); });
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.problem.find("removed"), std::string::npos);
}

TEST_P(Bulk, CheckFindsAMissingIndexEntry) {
  import_province();
  auto p = who("T003");
  {
    auto w = h_.store().write();
    w->del(schema::login, p.login);
    w->commit();
  }
  auto problems = dir_.read([](Snapshot& s) { return s.check(); });
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("login index missing"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, Bulk, testing::Values(Backend::lmdb, Backend::memory), backend_name);

}  // namespace
}  // namespace congvu::test
