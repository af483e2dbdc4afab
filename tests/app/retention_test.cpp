// The end of a retired person's retention period, on the in-memory demo province and mail store:
// messages and folders go, INBOX and the person stay, the record is marked and audited once;
// a period not yet ended and a dry run remove nothing.
#include <gtest/gtest.h>

#include "app/retention.hpp"
#include "directory/hr.hpp"
#include "tests/support/demo_world.hpp"

namespace congvu {
namespace {

constexpr UnixMs kNow = 1795280400000;  // 2026-11-22

void retire(test::DemoWorld& w, const std::string& login, const std::string& date) {
  auto r = w.dir->write(directory::Actor{"test"}, kNow, [&](directory::Change& c) -> Status {
    directory::LifeChange lc;
    lc.kind = directory::LifeKind::retire;
    lc.person = c.by_login(login)->id;
    lc.date = date;
    lc.decision = "1/QĐ";
    auto done = directory::apply_change(c, directory::Authority::root("test"), lc, "2026-11-22");
    if (!done) return done.error();
    return ok_status();
  });
  ASSERT_TRUE(r) << r.error().message;
}

TEST(Retention, PurgesMailboxesWhosePeriodEndedOnce) {
  test::DemoWorld w(kNow);
  auto& ms = *w.mail.store;
  std::string old_acc = w.account_of("tuanvm@tinhmau.test"), new_acc = w.account_of("ducdv@tinhmau.test");
  for (const auto& acc : {old_acc, new_acc}) {
    ms.ensure_account(acc, kNow);
    ASSERT_TRUE(ms.create(acc, "Lưu trữ", kNow));
    ASSERT_TRUE(ms.create(acc, "Lưu trữ/2020", kNow));
    for (const char* box : {"INBOX", "Lưu trữ/2020"}) {
      mailstore::Delivery d;
      d.data = "Subject: x\r\n\r\nhello\r\n";
      d.internal_date = kNow;
      d.targets.emplace_back(acc, box);
      ASSERT_TRUE(ms.deliver(d));
    }
  }
  retire(w, "tuanvm", "2026-03-01");  // kept until 2031-03-01 (5 years): over by 2031-06-01
  retire(w, "ducdv", "2026-06-01");   // kept until 2031-06-01: still kept that day
  auto head = w.dir->read([](directory::Snapshot& s) { return s.audit_head_seq(); });

  auto dry = app::purge_retired(*w.dir, ms, "2031-06-01", kNow, true);
  ASSERT_EQ(dry.people.size(), 1u);
  EXPECT_EQ(dry.people[0].address, "tuanvm@tinhmau.test");
  EXPECT_EQ(dry.people[0].keep_until, "2031-03-01");
  EXPECT_EQ(dry.people[0].messages, 2u);
  EXPECT_EQ(ms.mailbox(old_acc, "INBOX")->messages, 1u);
  EXPECT_EQ(w.dir->read([](directory::Snapshot& s) { return s.audit_head_seq(); }), head);

  auto rep = app::purge_retired(*w.dir, ms, "2031-06-01", kNow, false);
  ASSERT_EQ(rep.people.size(), 1u);
  EXPECT_TRUE(rep.failed.empty());
  EXPECT_EQ(ms.mailbox(old_acc, "INBOX")->messages, 0u);
  EXPECT_FALSE(ms.mailbox(old_acc, "Lưu trữ/2020"));
  EXPECT_FALSE(ms.mailbox(old_acc, "Lưu trữ"));
  EXPECT_EQ(ms.mailbox(new_acc, "INBOX")->messages, 1u);  // still within its period
  EXPECT_EQ(ms.mailbox(new_acc, "Lưu trữ/2020")->messages, 1u);
  auto person = w.dir->read([](directory::Snapshot& s) { return s.by_login("tuanvm"); });
  ASSERT_TRUE(person);  // the person, address and history stay
  auto r = w.dir->read([&](directory::Snapshot& s) { return directory::retirement_of(s, person->id); });
  EXPECT_EQ(r->purged, "2031-06-01");
  auto log = w.dir->read([&](directory::Snapshot& s) { return s.audit_log(person->id.str(), 1); });
  EXPECT_EQ(log.back().action, "mailbox.purge");
  EXPECT_NE(log.back().detail.find("\"messages\":2"), std::string::npos);
  // Once done, never again (the next day only ducdv's period has ended); mail to the address is
  // not stored for them any more either (SMTP delivers it to the successor or refuses it:
  // tests/transcripts/smtp/mx_retired.txt).
  auto next = app::purge_retired(*w.dir, ms, "2031-06-02", kNow, false);
  ASSERT_EQ(next.people.size(), 1u);
  EXPECT_EQ(next.people[0].address, "ducdv@tinhmau.test");
}

}  // namespace
}  // namespace congvu
