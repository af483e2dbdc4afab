// Reorganisations on the in-memory demo province and mail store: a district merged into a new
// one under one decision (people, sub-units, address, derived group, grant, scheduled change,
// retired people's scope and the role mailbox's mail all follow; ids and addresses stay), the
// dry run listing exactly what the real run audits, a re-code, a rename, a split, and refusals
// that leave nothing written.
#include <gtest/gtest.h>

#include "app/reorg_mail.hpp"
#include "directory/clients.hpp"
#include "directory/reorg.hpp"
#include "tests/support/demo_world.hpp"

namespace congvu {
namespace {

using directory::Change;
using directory::Snapshot;

constexpr UnixMs kNow = 1795280400000;  // 2026-11-22
const directory::Actor kActor{"cli:test"};

directory::ReorgStep step(directory::ReorgOp op, std::string unit, std::string target, std::string name = {}, std::string slug = {}) {
  directory::ReorgStep s;
  s.op = op;
  s.unit = std::move(unit);
  s.target = std::move(target);
  s.name = std::move(name);
  s.slug = std::move(slug);
  s.kind = directory::UnitKind::district;
  return s;
}

directory::Reorganisation merge_plan() {
  directory::Reorganisation r;
  r.decision = "1656/NQ-UBTVQH15";
  r.date = "2026-11-22";
  r.reason = "sáp nhập huyện";
  r.steps = {step(directory::ReorgOp::add, "002.00.00.H99", "000.00.00.H99", "Ủy ban nhân dân huyện Hòa Phú", "ubnd-hoaphu"),
             step(directory::ReorgOp::merge, "001.00.00.H99", "002.00.00.H99")};
  return r;
}

std::uint64_t head(test::DemoWorld& w) {
  return w.dir->read([](Snapshot& s) { return s.audit_head_seq(); });
}

void deliver(mailstore::Mailstore& ms, const std::string& account, const std::string& box, const std::string& subject) {
  mailstore::Delivery d;
  d.data = "Subject: " + subject + "\r\n\r\nnội dung\r\n";
  d.internal_date = kNow;
  d.targets.emplace_back(account, box);
  ASSERT_TRUE(ms.deliver(d));
}

TEST(Reorganisation, MergingADistrictMovesEverythingAndKeepsIdsAndAddresses) {
  test::DemoWorld w(kNow);
  auto& ms = *w.mail.store;
  // Things that name the district before the merge.
  auto before = w.dir->read([](Snapshot& s) { return std::make_pair(*s.resolve("DM0013"), *s.resolve("DM0015")); });
  auto prep = w.dir->write(kActor, kNow, [&](Change& c) -> Status {
    directory::Group g;
    g.name = "lanh-dao-hoabinh";
    g.kind = directory::GroupKind::unit_derived;
    g.unit = "001.00.00.H99";
    if (auto added = c.add_group(g); !added) return added.error();
    if (auto granted = directory::grant_role(c, c.resolve("DM0014")->id, directory::Role::hr_admin, "001.00.00.H99", "1/QĐ"); !granted)
      return granted.error();
    directory::Client software;  // the district's personnel software, bound to it
    software.id = "nhansu-hoabinh";
    software.name = "Phần mềm nhân sự huyện";
    software.grants = {"client_credentials"};
    software.role = "hr-admin";
    software.unit = "001.00.00.H99";
    c.put(directory::schema::client, software.id, directory::encode(software));
    directory::LifeChange later;  // a transfer into the district next year
    later.kind = directory::LifeKind::transfer;
    later.person = c.resolve("DM0008")->id;
    later.to_unit = "001.00.00.H99";
    later.date = "2027-01-05";
    later.decision = "7/QĐ";
    if (auto s = directory::apply_change(c, directory::Authority::root("test"), later, "2026-11-22"); !s) return s.error();
    directory::LifeChange gone;  // retired from the district
    gone.kind = directory::LifeKind::retire;
    gone.person = c.resolve("DM0014")->id;
    gone.date = "2026-11-01";
    gone.decision = "8/QĐ";
    if (auto s = directory::apply_change(c, directory::Authority::root("test"), gone, "2026-11-22"); !s) return s.error();
    return ok_status();
  });
  ASSERT_TRUE(prep) << prep.error().message;
  std::string old_account = mailstore::unit_account("001.00.00.H99");
  ms.ensure_account(old_account, kNow);
  deliver(ms, old_account, "INBOX", "Công văn 1");
  deliver(ms, old_account, "Sent", "Công văn 2");

  // The dry run: what would happen, nothing written.
  std::uint64_t h0 = head(w);
  auto dry = w.dir->preview(kActor, kNow, [&](Change& c) {
    return directory::reorganise(c, directory::Authority::root("cli:test"), merge_plan());
  });
  ASSERT_TRUE(dry) << dry.error().message;
  EXPECT_EQ(head(w), h0);
  EXPECT_FALSE(w.dir->read([](Snapshot& s) { return s.unit("002.00.00.H99"); }));
  EXPECT_EQ(dry->people_moved, 1u);  // DM0013 (DM0014 retired)
  EXPECT_EQ(dry->dissolved, std::vector<std::string>{"001.00.00.H99"});

  auto done = w.dir->write(kActor, kNow, [&](Change& c) {
    return directory::reorganise(c, directory::Authority::root("cli:test"), merge_plan());
  });
  ASSERT_TRUE(done) << done.error().message;
  // The listing of the dry run is exactly what was audited.
  auto audited = w.dir->read([&](Snapshot& s) { return s.audit_after(h0, 1000); });
  ASSERT_EQ(audited.size(), dry->changes.size());
  std::set<std::string> actions;
  for (std::size_t i = 0; i < audited.size(); ++i) {
    EXPECT_EQ(audited[i].action, dry->changes[i].action);
    EXPECT_EQ(audited[i].target, dry->changes[i].target);
    EXPECT_EQ(audited[i].detail, dry->changes[i].detail);
    EXPECT_EQ(audited[i].reason, audited[i].action == "schedule.retarget" ? "" : "1656/NQ-UBTVQH15") << audited[i].action;
    actions.insert(audited[i].action);
  }
  EXPECT_EQ(actions, (std::set<std::string>{"unit.add", "person.reorganisation", "unit.reparent", "address.redirect",
                                            "group.retarget", "grant.revoke", "client.unbind", "schedule.retarget",
                                            "unit.dissolve"}));

  w.dir->read([&](Snapshot& s) {
    auto khoa = s.resolve("DM0013");
    EXPECT_EQ(khoa->id, before.first.id);
    EXPECT_EQ(khoa->address, before.first.address);
    EXPECT_EQ(khoa->unit, "002.00.00.H99");
    EXPECT_EQ(khoa->position, "Chủ tịch");
    auto hist = s.history(khoa->id);
    EXPECT_EQ(hist.back().kind, directory::AssignmentKind::reorganisation);
    EXPECT_EQ(hist.back().decision, "1656/NQ-UBTVQH15");
    EXPECT_EQ(hist[hist.size() - 2].unit, "001.00.00.H99");
    // The commune under it moved with its people.
    EXPECT_EQ(s.unit("001.01.00.H99")->parent, "002.00.00.H99");
    EXPECT_EQ(s.resolve("DM0015")->unit, "001.01.00.H99");
    EXPECT_EQ(s.resolve("DM0015")->address, before.second.address);
    // The old unit left the tree, its record stays for the history.
    auto old = s.unit("001.00.00.H99");
    EXPECT_EQ(old->dissolved, "2026-11-22");
    EXPECT_EQ(old->successor, "002.00.00.H99");
    for (const auto& u : s.children("000.00.00.H99")) EXPECT_NE(u.code, "001.00.00.H99");
    EXPECT_EQ(s.members("002.00.00.H99", true).size(), 4u);
    // Its role address delivers to the successor; the group and scheduled change follow; rights
    // over the district do not widen to the merged one: the grant and the client's role go.
    auto owner = s.address_owner("ubnd-hoabinh@tinhmau.test");
    EXPECT_EQ(owner->kind, directory::AddressOwner::unit);
    EXPECT_EQ(owner->key, "002.00.00.H99");
    EXPECT_EQ(s.group("lanh-dao-hoabinh")->unit, "002.00.00.H99");
    EXPECT_TRUE(directory::grants_of(s, s.resolve("DM0014")->id).empty());
    EXPECT_FALSE(directory::authority_of_client(s, "nhansu-hoabinh").any());
    auto sched = directory::scheduled_changes(s);
    ASSERT_EQ(sched.size(), 1u);
    EXPECT_EQ(sched[0].change.to_unit, "002.00.00.H99");
    // A person retired from the dissolved unit is judged by its successor.
    EXPECT_EQ(directory::scope_unit(s, *s.resolve("DM0014")), "002.00.00.H99");
    EXPECT_EQ(directory::current_unit(s, "001.00.00.H99"), "002.00.00.H99");
    EXPECT_EQ(s.check(), std::vector<std::string>{});
  });
  // Nobody can be hired or moved into the dissolved unit any more.
  auto hire = w.dir->write(kActor, kNow, [&](Change& c) {
    directory::HireSpec h;
    h.staff_no = "DM0900";
    h.full_name = "Lê Văn Tám";
    h.unit = "001.00.00.H99";
    h.position = "Chuyên viên";
    h.date = "2026-11-22";
    return c.hire(h);
  });
  ASSERT_FALSE(hire);
  EXPECT_NE(hire.error().message.find("successor is 002.00.00.H99"), std::string::npos) << hire.error().message;

  // The role mailbox's mail moves under the old slug, once.
  auto moved = app::move_role_mail(*w.dir, ms, kNow);
  ASSERT_EQ(moved.moved.size(), 1u) << (moved.failed.empty() ? "" : moved.failed[0]);
  EXPECT_EQ(moved.moved[0].messages, 2u);
  EXPECT_EQ(moved.moved[0].folder, "ubnd-hoabinh");
  std::string new_account = mailstore::unit_account("002.00.00.H99");
  EXPECT_EQ(ms.mailbox(new_account, "ubnd-hoabinh")->messages, 1u);
  EXPECT_EQ(ms.mailbox(new_account, "ubnd-hoabinh/Sent")->messages, 1u);
  EXPECT_EQ(ms.mailbox(old_account, "INBOX")->messages, 0u);
  EXPECT_TRUE(app::move_role_mail(*w.dir, ms, kNow).moved.empty());
  auto last = w.dir->read([](Snapshot& s) { return s.audit_log("001.00.00.H99", 1); });
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].action, "mail.move");
  EXPECT_TRUE(ms.check().empty());
}

TEST(Reorganisation, RecodeRenameReparentAndSplit) {
  test::DemoWorld w(kNow);
  auto& ms = *w.mail.store;
  ms.ensure_account(mailstore::unit_account("000.01.03.H99"), kNow);
  deliver(ms, mailstore::unit_account("000.01.03.H99"), "INBOX", "Báo cáo");
  directory::Reorganisation r;
  r.decision = "12/QĐ-UBND";
  r.date = "2026-11-22";
  r.steps = {step(directory::ReorgOp::recode, "000.01.03.H99", "000.07.03.H99"),
             step(directory::ReorgOp::rename, "000.00.03.H99", "", "Sở Văn hóa và Thể thao"),
             step(directory::ReorgOp::add, "000.02.03.H99", "000.00.03.H99", "Phòng Du lịch", "sovhttdl-dulich"),
             step(directory::ReorgOp::move, "000.07.03.H99", "000.02.03.H99"),
             step(directory::ReorgOp::reparent, "000.01.02.H99", "000.00.03.H99")};
  r.steps[2].kind = directory::UnitKind::division;
  r.steps[3].people = {"DM0012"};  // a split: one person goes to the new division
  ASSERT_TRUE(w.dir->write(kActor, kNow, [&](Change& c) {
    return directory::grant_role(c, c.resolve("DM0010")->id, directory::Role::hr_admin, "000.01.03.H99", "2/QĐ");
  }));
  auto done = w.dir->write(kActor, kNow, [&](Change& c) { return directory::reorganise(c, directory::Authority::root("t"), r); });
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->people_moved, 4u);  // three re-coded, then one of them split off
  w.dir->read([&](Snapshot& s) {
    auto recoded = s.unit("000.07.03.H99");
    EXPECT_EQ(recoded->slug, "sovhttdl-qlvh");
    EXPECT_EQ(recoded->role_address, "sovhttdl-qlvh@tinhmau.test");
    EXPECT_EQ(s.address_owner("sovhttdl-qlvh@tinhmau.test")->key, "000.07.03.H99");
    EXPECT_EQ(s.resolve("DM0010")->unit, "000.07.03.H99");
    EXPECT_EQ(s.resolve("DM0012")->unit, "000.02.03.H99");
    auto grants = directory::grants_of(s, s.resolve("DM0010")->id);  // a re-code keeps rights
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0].unit, "000.07.03.H99");
    EXPECT_EQ(s.unit("000.00.03.H99")->name, "Sở Văn hóa và Thể thao");
    EXPECT_EQ(s.unit("000.01.02.H99")->parent, "000.00.03.H99");
    EXPECT_EQ(s.check(), std::vector<std::string>{});
  });
  auto moved = app::move_role_mail(*w.dir, ms, kNow);
  ASSERT_EQ(moved.moved.size(), 1u);
  EXPECT_EQ(moved.moved[0].folder, "INBOX");  // same slug: folders arrive as they were
  EXPECT_EQ(ms.mailbox(mailstore::unit_account("000.07.03.H99"), "INBOX")->messages, 1u);
}

TEST(Reorganisation, RefusalsLeaveNothingWritten) {
  test::DemoWorld w(kNow);
  auto attempt = [&](const directory::Reorganisation& r, const directory::Authority& who) {
    std::uint64_t h = head(w);
    auto res = w.dir->write(kActor, kNow, [&](Change& c) { return directory::reorganise(c, who, r); });
    EXPECT_EQ(head(w), h);
    EXPECT_EQ(w.dir->read([](Snapshot& s) { return s.unit("001.00.00.H99")->dissolved; }), "");
    return res ? std::string("ok") : res.error().message;
  };
  auto root = directory::Authority::root("t");
  auto r = merge_plan();
  r.steps[0].where = "plan.csv:2";
  r.steps[1].where = "plan.csv:3";
  // A step that fails after others wrote: the whole reorganisation is rolled back.
  r.steps.push_back(step(directory::ReorgOp::reparent, "000.00.02.H99", "000.01.02.H99"));
  r.steps.back().where = "plan.csv:4";
  EXPECT_EQ(attempt(r, root), "plan.csv:4: unit 000.01.02.H99 lies under 000.00.02.H99: that would make a cycle");
  r = merge_plan();
  r.steps[1].target = "001.01.00.H99";  // into its own commune
  EXPECT_NE(attempt(r, root).find("lies under 001.00.00.H99"), std::string::npos);
  r = merge_plan();
  r.decision.clear();
  EXPECT_EQ(attempt(r, root), "a reorganisation needs its decision number");
  // An HR admin of the whole province, or a province-admin of one department, may not reorganise it.
  EXPECT_NE(attempt(merge_plan(), directory::Authority("admin:x", {{directory::Role::hr_admin, ""}})).find("province-admin"),
            std::string::npos);
  EXPECT_NE(attempt(merge_plan(), directory::Authority("admin:x", {{directory::Role::province_admin, "001.00.00.H99"}}))
                .find("province-admin role over it"),
            std::string::npos);
  r = merge_plan();
  r.steps[1].unit = "009.00.00.H99";
  EXPECT_EQ(attempt(r, root), "merge 009.00.00.H99: the unit 009.00.00.H99 does not exist");
  r = merge_plan();
  r.steps.push_back(directory::ReorgStep(r.steps[1]));  // merging it twice
  EXPECT_NE(attempt(r, root).find("was dissolved on 2026-11-22"), std::string::npos);
}

TEST(Reorganisation, PlanFilesAreCheckedLineByLine) {
  auto ok = directory::parse_plan(
      "op,unit,target,name,slug,kind,people\n"
      "add,002.00.00.H99,000.00.00.H99,\"Ủy ban nhân dân huyện Hòa Phú\",ubnd-hoaphu,district,\n"
      "move,001.00.00.H99,002.00.00.H99,,,,khoand  DM0014\n"
      "merge,001.00.00.H99,002.00.00.H99,,,,\n",
      "plan.csv");
  ASSERT_TRUE(ok) << ok.error().message;
  ASSERT_EQ(ok->size(), 3u);
  EXPECT_EQ((*ok)[1].people, (std::vector<std::string>{"khoand", "DM0014"}));
  EXPECT_EQ((*ok)[2].where, "plan.csv:4");
  auto err = [](const char* text) {
    auto r = directory::parse_plan(text, "plan.csv");
    return r ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(err("op,unit,target\nsplit,A,B\n"), "plan.csv:2: op 'split' is not one of add, rename, reparent, move, merge, recode");
  EXPECT_EQ(err("op,unit,target\nmerge,A,\n"), "plan.csv:2: merge needs the target column (the receiving unit)");
  EXPECT_EQ(err("op,unit,target,name\nrename,A,,\n"), "plan.csv:2: rename needs the name column");
  EXPECT_EQ(err("op,unit,target,name,slug,kind\nadd,A,B,N,s,planet\n"),
            "plan.csv:2: add needs the kind column: department, district, division or commune");
  EXPECT_EQ(err("op,unit,target,people\nmerge,A,B,x\n"), "plan.csv:2: only a move names people");
  EXPECT_EQ(err("op,unit\n"), "plan.csv: the plan has no steps");
  EXPECT_EQ(err("unit,target\nA,B\n"), "plan.csv:1: missing column 'op'");
}

}  // namespace
}  // namespace congvu
