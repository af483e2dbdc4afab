// The mail store contract: every test runs against LMDB with segment files (the real thing)
// and against the in-memory store that the protocol transcripts use.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "common/crypto.hpp"
#include "mailstore/mailstore.hpp"
#include "tests/support/stores.hpp"

namespace congvu::mailstore {
namespace {

using test::Backend;

constexpr UnixMs kNow = 1'790'000'000'000;

class MailstoreTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    s_ = {};
    s_ = GetParam() == Backend::lmdb ? open(dir_.path(), 1024, settings_) : open_memory(settings_);
  }
  Mailstore& ms() { return *s_.store; }
  Receipt deliver(const std::string& data, std::vector<Target> targets) {
    Delivery d;
    d.data = data;
    d.internal_date = kNow;
    d.targets = std::move(targets);
    auto r = ms().deliver(d);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : Receipt{};
  }
  MailboxRecord box(const std::string& account, const std::string& name) {
    auto m = ms().mailbox(account, name);
    EXPECT_TRUE(m.has_value()) << name;
    return m.value_or(MailboxRecord{});
  }
  void expect_consistent() {
    auto problems = ms().check();
    EXPECT_TRUE(problems.empty()) << problems.front();
  }

  test::TempDir dir_;
  Settings settings_;
  OpenedStore s_;
  const std::string alice = "p:0190f0a0-0000-7000-8000-000000000001";
  const std::string bob = "p:0190f0a0-0000-7000-8000-000000000002";
  const std::string office = unit_account("000.00.01.H99");
};

TEST_P(MailstoreTest, AccountGetsTheSpecialUseSet) {
  ms().ensure_account(alice, kNow);
  auto boxes = ms().list(alice);
  ASSERT_EQ(boxes.size(), 6u);
  std::map<std::string, SpecialUse> uses;
  for (auto& b : boxes) uses[b.name] = b.use;
  EXPECT_EQ(uses["INBOX"], SpecialUse::inbox);
  EXPECT_EQ(uses["Sent"], SpecialUse::sent);
  EXPECT_EQ(uses["Junk"], SpecialUse::junk);
  EXPECT_EQ(uses["Archive"], SpecialUse::archive);
  // UIDVALIDITY is distinct per mailbox and never below the clock's seconds.
  std::set<std::uint32_t> validities;
  for (auto& b : boxes) validities.insert(b.uidvalidity);
  EXPECT_EQ(validities.size(), 6u);
  EXPECT_GE(*validities.begin(), kNow / 1000);
  ms().ensure_account(alice, kNow);  // idempotent
  EXPECT_EQ(ms().list(alice).size(), 6u);
  EXPECT_TRUE(ms().mailbox(alice, "inbox").has_value());  // INBOX is case-insensitive
}

TEST_P(MailstoreTest, OneBlobForManyRecipients) {
  std::string msg = "Subject: Thông báo\r\n\r\nKính gửi các đồng chí.\r\n";
  auto r = deliver(msg, {{alice}, {bob}, {office}});
  EXPECT_TRUE(r.new_blob);
  ASSERT_EQ(r.placed.size(), 3u);
  for (auto& p : r.placed) EXPECT_EQ(p.uid, Uid{1});
  auto again = deliver(msg, {{alice}});
  EXPECT_FALSE(again.new_blob);  // single-instance: the second delivery reuses the blob
  EXPECT_EQ(again.placed[0].uid, Uid{2});
  auto in = box(alice, "INBOX");
  EXPECT_EQ(in.messages, 2u);
  EXPECT_EQ(in.unseen, 2u);
  EXPECT_EQ(in.uidnext, 3u);
  auto msgs = ms().messages(in.id);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(ms().body(msgs[0]), msg);
  EXPECT_EQ(msgs[0].blob, msgs[1].blob);
  EXPECT_EQ(ms().usage(alice).bytes, 2 * msg.size());
  EXPECT_EQ(ms().list(bob).size(), 1u);  // a delivery makes the INBOX only; login makes the rest
  expect_consistent();
}

TEST_P(MailstoreTest, SurvivesReopen) {
  if (GetParam() == Backend::memory) GTEST_SKIP() << "memory does not persist";
  deliver("Subject: a\r\n\r\nbody one\r\n", {{alice}});
  reopen();
  deliver("Subject: b\r\n\r\nbody two\r\n", {{alice}});  // a new segment after reopening
  auto msgs = ms().messages(box(alice, "INBOX").id);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(ms().body(msgs[0]), "Subject: a\r\n\r\nbody one\r\n");
  EXPECT_EQ(ms().body(msgs[1]), "Subject: b\r\n\r\nbody two\r\n");
  EXPECT_EQ(ms().blobs().segments().size(), 2u);
  expect_consistent();
}

TEST_P(MailstoreTest, FlagsBumpModseqAndConditionalStore) {
  deliver("a\r\n", {{alice}});
  deliver("b\r\n", {{alice}});
  deliver("c\r\n", {{alice}});
  auto in = box(alice, "INBOX");
  EXPECT_EQ(in.highest_modseq, 4u);  // 1 at creation, +1 per message
  auto r = ms().store_flags(in.id, {Uid{1}, Uid{2}}, {FlagOp::add, seen | flagged, {"$Important"}, {}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->changed.size(), 2u);
  EXPECT_EQ(r->changed[0].modseq, 5u);
  EXPECT_EQ(r->changed[1].modseq, 5u);
  in = box(alice, "INBOX");
  EXPECT_EQ(in.highest_modseq, 5u);
  EXPECT_EQ(in.unseen, 1u);
  // Setting what is already set changes nothing and keeps the modseq.
  r = ms().store_flags(in.id, {Uid{1}}, {FlagOp::add, seen, {}, {}});
  EXPECT_TRUE(r->changed.empty());
  EXPECT_EQ(box(alice, "INBOX").highest_modseq, 5u);
  // UNCHANGEDSINCE 4: uid 1 changed at 5 and is skipped, uid 3 (modseq 4) is stored.
  r = ms().store_flags(in.id, {Uid{1}, Uid{3}}, {FlagOp::add, answered, {}, ModSeq{4}});
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0], Uid{1});
  ASSERT_EQ(r->changed.size(), 1u);
  EXPECT_EQ(r->changed[0].uid, Uid{3});
  auto since = ms().changed_since(in.id, 4);
  ASSERT_EQ(since.size(), 3u);
  EXPECT_EQ(since[2], (std::pair<Uid, ModSeq>{Uid{3}, 6}));
  r = ms().store_flags(in.id, {Uid{1}}, {FlagOp::replace, draft, {}, {}});
  auto m1 = ms().messages(in.id, Uid{1}, Uid{1});
  EXPECT_EQ(m1[0].flags, draft);
  EXPECT_TRUE(m1[0].keywords.empty());
  EXPECT_EQ(box(alice, "INBOX").unseen, 2u);  // uid 1 lost \Seen; uid 3 never had it
  expect_consistent();
}

TEST_P(MailstoreTest, ExpungeReleasesTheBlobOnlyWithTheLastReference) {
  auto r = deliver("shared\r\n", {{alice}, {bob}});
  auto a = box(alice, "INBOX");
  // Expunge only takes \Deleted messages.
  auto ex = ms().expunge(a.id, {});
  EXPECT_TRUE(ex->empty());
  (void)ms().store_flags(a.id, {Uid{1}}, {FlagOp::add, deleted, {}, {}});
  ex = ms().expunge(a.id, {});
  ASSERT_EQ(ex->size(), 1u);
  EXPECT_EQ(ms().expunged_since(a.id, 2), std::vector<Uid>{Uid{1}});
  EXPECT_EQ(box(alice, "INBOX").messages, 0u);
  EXPECT_EQ(ms().usage(alice).bytes, 0u);
  auto b = box(bob, "INBOX");
  EXPECT_EQ(ms().body(ms().messages(b.id)[0]), "shared\r\n");  // bob still reads it
  expect_consistent();
  (void)ms().store_flags(b.id, {Uid{1}}, {FlagOp::add, deleted, {}, {}});
  ex = ms().expunge(b.id, {Uid{1}});
  ASSERT_EQ(ex->size(), 1u);
  expect_consistent();
  // The blob is gone from the index; a new delivery of the same bytes writes it again.
  auto again = deliver("shared\r\n", {{alice}});
  EXPECT_TRUE(again.new_blob);
}

TEST_P(MailstoreTest, MimeSummaryIsStoredWithTheBlob) {
  const std::string msg =
      "Subject: =?utf-8?q?K=E1=BA=BF_ho=E1=BA=A1ch?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n";
  deliver(msg, {{alice}, {bob}});
  auto m = ms().messages(box(alice, "INBOX").id).at(0);
  auto sum = ms().summary(m);
  EXPECT_EQ(sum.subject, "kế hoạch");
  EXPECT_EQ(sum.bodystructure, mime::bodystructure(msg, mime::parse(msg), true));
  EXPECT_EQ(sum.envelope.substr(0, 6), "(NIL \"");
  expect_consistent();  // check(): every blob has its summary and every summary its blob
}

TEST_P(MailstoreTest, CopyAndMoveKeepFlagsAndShareTheBlob) {
  deliver("x\r\n", {{alice, "INBOX", seen, {"$Work"}}});
  ms().ensure_account(alice, kNow);
  auto in = box(alice, "INBOX");
  auto archive = box(alice, "Archive");
  auto c = ms().copy(in.id, {Uid{1}}, archive.id, false, kNow);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->uidvalidity, archive.uidvalidity);
  ASSERT_EQ(c->uids.size(), 1u);
  EXPECT_EQ(c->uids[0], (std::pair<Uid, Uid>{Uid{1}, Uid{1}}));
  auto copied = ms().messages(archive.id);
  EXPECT_EQ(copied[0].flags, seen);
  EXPECT_EQ(copied[0].keywords, std::vector<std::string>{"$Work"});
  auto trash = box(alice, "Trash");
  auto mv = ms().copy(in.id, {Uid{1}}, trash.id, true, kNow);
  ASSERT_TRUE(mv.ok());
  EXPECT_EQ(box(alice, "INBOX").messages, 0u);
  EXPECT_EQ(box(alice, "Trash").messages, 1u);
  EXPECT_EQ(ms().expunged_since(in.id, 0), std::vector<Uid>{Uid{1}});
  EXPECT_EQ(ms().usage(alice).messages, 2u);
  expect_consistent();
}

TEST_P(MailstoreTest, MoveWithinOneMailboxGivesNewUids) {
  deliver("x\r\n", {{alice, "INBOX", flagged, {}}});
  auto in = box(alice, "INBOX");
  auto mv = ms().copy(in.id, {Uid{1}}, in.id, true, kNow);
  ASSERT_TRUE(mv.ok());
  EXPECT_EQ(mv->uids, (std::vector<std::pair<Uid, Uid>>{{Uid{1}, Uid{2}}}));
  auto now = ms().messages(in.id);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].uid, Uid{2});
  EXPECT_EQ(now[0].flags, flagged);
  EXPECT_EQ(box(alice, "INBOX").messages, 1u);
  EXPECT_EQ(ms().expunged_since(in.id, 0), std::vector<Uid>{Uid{1}});
  expect_consistent();
}

TEST_P(MailstoreTest, SubscriptionsOutliveTheMailbox) {
  ms().ensure_account(alice, kNow);
  EXPECT_TRUE(box(alice, "Sent").subscribed);  // the special-use set is subscribed
  ASSERT_TRUE(ms().create(alice, "Dự án/2026", kNow).ok());
  EXPECT_FALSE(box(alice, "Dự án").subscribed);  // CREATE subscribes nothing, parents neither
  EXPECT_FALSE(box(alice, "Dự án/2026").subscribed);
  ASSERT_TRUE(ms().subscribe(alice, "Dự án/2026", true).ok());
  ASSERT_TRUE(ms().remove(alice, "Dự án/2026").ok());
  EXPECT_EQ(ms().orphan_subscriptions(alice), std::vector<std::string>{"Dự án/2026"});
  EXPECT_TRUE(ms().orphan_subscriptions(bob).empty());
  ASSERT_TRUE(ms().create(alice, "Dự án/2026", kNow).ok());  // created again: subscribed again
  EXPECT_TRUE(box(alice, "Dự án/2026").subscribed);
  EXPECT_TRUE(ms().orphan_subscriptions(alice).empty());
  ASSERT_TRUE(ms().subscribe(alice, "Dự án/2026", false).ok());
  ASSERT_TRUE(ms().remove(alice, "Dự án/2026").ok());
  EXPECT_TRUE(ms().orphan_subscriptions(alice).empty());
  ASSERT_TRUE(ms().subscribe(alice, "Never", true).ok());  // the store keeps any valid name
  EXPECT_EQ(ms().orphan_subscriptions(alice), std::vector<std::string>{"Never"});
  ASSERT_TRUE(ms().subscribe(alice, "Never", false).ok());
  EXPECT_TRUE(ms().orphan_subscriptions(alice).empty());
  EXPECT_FALSE(ms().subscribe(alice, "a//b", true).ok());
  ASSERT_TRUE(ms().create(alice, "Moved", kNow, /*subscribe=*/true).ok());
  EXPECT_TRUE(box(alice, "Moved").subscribed);
  expect_consistent();
}

TEST_P(MailstoreTest, RecentIsTakenOnceAndSurvivesReopen) {
  deliver("a\r\n", {{alice, "INBOX", 0, {}}});
  deliver("b\r\n", {{alice, "INBOX", 0, {}}});
  auto in = box(alice, "INBOX");
  EXPECT_EQ(in.first_recent, 1u);
  auto first = ms().claim_recent(in.id, 3);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 1u);  // messages 1 and 2 are this caller's
  EXPECT_EQ(*ms().claim_recent(in.id, 3), 3u);  // nothing left for the next one
  deliver("c\r\n", {{alice, "INBOX", 0, {}}});
  EXPECT_EQ(box(alice, "INBOX").first_recent, 3u);
  EXPECT_EQ(*ms().claim_recent(in.id, 4), 3u);
  EXPECT_EQ(ms().claim_recent(MailboxId{999999}, 1).error().code, Errc::not_found);
  if (GetParam() != Backend::lmdb) return;
  reopen();
  EXPECT_EQ(box(alice, "INBOX").first_recent, 4u);
}

TEST_P(MailstoreTest, CreateRenameDeleteMailboxes) {
  ms().ensure_account(alice, kNow);
  auto made = ms().create(alice, "Dự án/2026/Quý 1", kNow);
  ASSERT_TRUE(made.ok());
  EXPECT_TRUE(ms().mailbox(alice, "Dự án").has_value());  // parents made too
  EXPECT_EQ(ms().create(alice, "Dự án", kNow).error().code, Errc::conflict);
  EXPECT_EQ(ms().create(alice, "a//b", kNow).error().code, Errc::invalid_argument);
  EXPECT_EQ(ms().create(alice, "bad\nname", kNow).error().code, Errc::invalid_argument);
  deliver("q1\r\n", {{alice, "Dự án/2026/Quý 1"}});
  ASSERT_TRUE(ms().rename(alice, "Dự án", "Công việc", kNow).ok());
  EXPECT_FALSE(ms().mailbox(alice, "Dự án/2026").has_value());
  auto moved = box(alice, "Công việc/2026/Quý 1");
  EXPECT_EQ(moved.id, made->id);  // same mailbox, same UIDVALIDITY: clients keep their cache
  EXPECT_EQ(moved.messages, 1u);
  EXPECT_EQ(ms().remove(alice, "Công việc").error().code, Errc::conflict);  // has children
  ASSERT_TRUE(ms().remove(alice, "Công việc/2026/Quý 1").ok());
  EXPECT_EQ(ms().usage(alice).messages, 0u);
  EXPECT_EQ(ms().remove(alice, "INBOX").error().code, Errc::conflict);
  expect_consistent();
}

TEST_P(MailstoreTest, RenamingInboxMovesItsMessages) {
  deliver("one\r\n", {{alice}});
  deliver("two\r\n", {{alice}});
  ASSERT_TRUE(ms().rename(alice, "INBOX", "Old mail", kNow).ok());
  EXPECT_EQ(box(alice, "INBOX").messages, 0u);
  EXPECT_EQ(box(alice, "Old mail").messages, 2u);
  expect_consistent();
}

TEST_P(MailstoreTest, RoleMailboxRightsFollowTheRole) {
  deliver("công văn\r\n", {{office}});
  auto in = box(office, "INBOX");
  Accessor clerk{alice, {office}};
  Accessor outsider{bob, {}};
  EXPECT_EQ(ms().rights(in.id, clerk), kRoleRights);
  EXPECT_EQ(ms().rights(in.id, outsider), "");
  // Personal delegation: alice lets bob read her INBOX.
  ms().ensure_account(alice, kNow);
  auto mine = box(alice, "INBOX");
  EXPECT_EQ(ms().rights(mine.id, Accessor{alice, {}}), kOwnerRights);
  ASSERT_TRUE(ms().set_acl(mine.id, bob, "lr").ok());
  EXPECT_EQ(ms().rights(mine.id, outsider), "lr");
  EXPECT_EQ(ms().set_acl(mine.id, bob, "lrZ").error().code, Errc::invalid_argument);
  ASSERT_TRUE(ms().set_acl(mine.id, bob, "").ok());
  EXPECT_EQ(ms().rights(mine.id, outsider), "");
  // \Seen on a role mailbox is shared: one clerk reading it marks it for all.
  (void)ms().store_flags(in.id, {Uid{1}}, {FlagOp::add, seen, {}, {}});
  EXPECT_EQ(box(office, "INBOX").unseen, 0u);
}

TEST_P(MailstoreTest, QuotaIsEnforcedForAppend) {
  settings_.person_quota_bytes = 100;
  reopen();
  EXPECT_TRUE(ms().fits(alice, 100));
  deliver(std::string(60, 'a') + "\r\n", {{alice}});
  EXPECT_FALSE(ms().fits(alice, 60));
  Delivery d;
  d.data = std::string(60, 'b');
  d.targets = {{alice}};
  d.enforce_quota = true;
  auto r = ms().deliver(d);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "over quota");
  EXPECT_EQ(box(alice, "INBOX").messages, 1u);  // nothing half-applied
  expect_consistent();
}

TEST_P(MailstoreTest, DeliverAllIsOneTransaction) {
  settings_.person_quota_bytes = 100;
  reopen();
  deliver("first\r\n", {{alice}});
  auto make = [&](const std::string& data) {
    Delivery d;
    d.data = data;
    d.internal_date = kNow;
    d.targets = {{alice}};
    d.enforce_quota = true;
    return d;
  };
  // The second message does not fit: neither is stored.
  auto r = ms().deliver_all({make(std::string(40, 'a')), make(std::string(60, 'b'))});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "over quota");
  EXPECT_EQ(box(alice, "INBOX").messages, 1u);
  expect_consistent();
  // Both fit: both stored, in order, with consecutive UIDs; the same bytes twice share a blob.
  auto ok = ms().deliver_all({make("x\r\n"), make("x\r\n")});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].placed[0].uid, Uid{2});
  EXPECT_EQ((*ok)[1].placed[0].uid, Uid{3});
  EXPECT_EQ(box(alice, "INBOX").messages, 3u);
  expect_consistent();
}

TEST_P(MailstoreTest, ChangeFeedWakesWatchers) {
  ms().ensure_account(alice, kNow);
  auto in = box(alice, "INBOX");
  std::promise<ModSeq> heard;
  auto token = ms().watch(in.id, [&](MailboxId, ModSeq m) { heard.set_value(m); });
  deliver("ping\r\n", {{alice}});
  auto f = heard.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(f.get(), 2u);
  ms().unwatch(token);
  deliver("pong\r\n", {{alice}});  // no second call (the promise would throw)
}

TEST_P(MailstoreTest, ConcurrentDeliveriesShareCommits) {
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::thread> threads;
  std::atomic<int> done{0};
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      for (int j = 0; j < kEach; ++j) {
        Delivery d;
        d.data = "Subject: " + std::to_string(i) + "-" + std::to_string(j) + "\r\n\r\nx\r\n";
        d.targets = {{alice}, {bob}};
        auto p = std::make_shared<std::promise<void>>();
        auto f = p->get_future();
        ms().deliver(std::make_shared<const Delivery>(d), [&, p](Result<Receipt> r) {
          if (r.ok()) ++done;
          p->set_value();
        });
        f.wait();
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(done, kThreads * kEach);
  EXPECT_EQ(box(alice, "INBOX").messages, static_cast<std::uint32_t>(kThreads * kEach));
  EXPECT_LT(ms().committer().commits(), static_cast<std::uint64_t>(kThreads * kEach));
  expect_consistent();
}

TEST_P(MailstoreTest, GarbageCollectionCompactsSegments) {
  if (GetParam() == Backend::memory) GTEST_SKIP() << "one segment in memory";
  for (int i = 0; i < 10; ++i) deliver("msg " + std::to_string(i) + std::string(1000, 'x') + "\r\n", {{alice}});
  reopen();  // seals segment 1
  auto in = box(alice, "INBOX");
  std::vector<Uid> all;
  for (auto& m : ms().messages(in.id)) all.push_back(m.uid);
  all.pop_back();  // keep the last one
  (void)ms().store_flags(in.id, all, {FlagOp::add, deleted, {}, {}});
  (void)ms().expunge(in.id, {});
  auto rep = ms().collect(0.5);
  EXPECT_EQ(rep.segments_compacted, 1u);
  EXPECT_EQ(rep.blobs_moved, 1u);
  EXPECT_EQ(rep.segments_removed, 1u);
  auto left = ms().messages(in.id);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(ms().body(left[0]), "msg 9" + std::string(1000, 'x') + "\r\n");
  expect_consistent();
  reopen();
  EXPECT_EQ(ms().body(ms().messages(in.id)[0]).substr(0, 5), "msg 9");
}

TEST_P(MailstoreTest, OutboundQueueHoldsABlobReference) {
  Delivery d;
  d.data = "Subject: ra ngoai\r\n\r\nx\r\n";
  d.internal_date = kNow;
  d.targets = {Target(bob)};  // a local copy and two outside recipients, one commit
  d.outbound.resize(2);
  d.outbound[0].address = "a@example.org";
  d.outbound[1].address = "b@example.net";
  d.sender = "annv@tinhmau.test";
  auto r = ms().deliver(d);
  ASSERT_TRUE(r.ok());
  ASSERT_NE(r->queued, 0u);
  expect_consistent();  // the blob has 2 references: bob's INBOX and the queue entry
  auto due = ms().queue(kNow);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].sender, "annv@tinhmau.test");
  EXPECT_EQ(ms().blob_bytes(due[0].blob), d.data);
  EXPECT_TRUE(ms().queue(kNow - 1).empty());
  auto q = due[0];
  q.rcpts[0].state = OutboundRecipient::delivered;
  q.attempts = 1;
  q.next_attempt = kNow + 60000;
  ASSERT_TRUE(ms().update_queued(q).ok());
  EXPECT_TRUE(ms().queue(kNow).empty());
  EXPECT_EQ(ms().flush_queue(kNow), 1u);
  EXPECT_EQ(ms().queue(kNow).size(), 1u);
  q.rcpts[1].state = OutboundRecipient::failed;
  ASSERT_TRUE(ms().update_queued(q).ok());  // nothing pending: the entry goes
  EXPECT_FALSE(ms().queued(q.id).has_value());
  EXPECT_EQ(ms().update_queued(q).error().code, Errc::not_found);
  expect_consistent();
  // Deleting an entry releases its reference too.
  d.targets.clear();
  auto r2 = ms().deliver(d);
  ASSERT_TRUE(r2.ok());
  ASSERT_TRUE(ms().delete_queued(r2->queued).ok());
  expect_consistent();
}

INSTANTIATE_TEST_SUITE_P(Backends, MailstoreTest, testing::Values(Backend::lmdb, Backend::memory), test::backend_name);

}  // namespace
}  // namespace congvu::mailstore
