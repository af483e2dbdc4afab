// The mail store: accounts (people and units' role mailboxes), mailboxes with the special-use
// set, messages with UIDs, flags, keywords and MODSEQ (RFC 7162), quota, access lists
// (RFC 4314) and single-instance blobs with reference counts. What SMTP delivers and IMAP
// reads: smtp/ and imap/ share mail only through this interface.
//
// Writes go through one kv::GroupCommitter whose before_commit hook syncs the blob segments,
// so each commit makes the batch's blobs durable first and the index second; a caller is
// told "done" (its callback runs, or the synchronous call returns) only after both.
// Every write job derives what it changes from the transaction, so the committer may rerun it.
// Reads run on a short read transaction and never block writers.
// Change feed: after each commit, subscribers of a changed mailbox are called (on the
// committer thread: they must only post work elsewhere), which is what wakes IMAP IDLE.
// Time is passed in. Thread-safety: a Mailstore may be shared by every thread.
#pragma once

#include <functional>
#include <utility>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/kv/group_commit.hpp"
#include "common/kv/kv.hpp"
#include "common/result.hpp"
#include "mailstore/blobs.hpp"
#include "mailstore/mime.hpp"
#include "mailstore/model.hpp"

namespace congvu::mailstore {

struct Settings {
  std::uint64_t person_quota_bytes = 2ULL << 30;  // 2 GiB
  std::uint64_t unit_quota_bytes = 10ULL << 30;   // a unit's official inbox
  // Bounds of how long a commit may wait for announced deliveries (kv::GatherPolicy); a max
  // of 0 disables it.
  unsigned gather_min_us = 500, gather_max_us = 50000;
};

// One place a delivered message goes.
struct Target {
  Target(std::string acc, std::string box = "INBOX", std::uint8_t f = 0, std::vector<std::string> k = {})
      : account(std::move(acc)), mailbox(std::move(box)), flags(f), keywords(std::move(k)) {}
  std::string account;
  std::string mailbox = "INBOX";  // falls back to INBOX when missing
  std::uint8_t flags = 0;
  std::vector<std::string> keywords;
};

struct Delivery {
  std::string data;  // the message as it will be stored (trace headers already prepended)
  UnixMs internal_date = 0;
  std::vector<Target> targets;
  bool enforce_quota = false;  // IMAP APPEND: refuse over quota; SMTP decided at RCPT
  // Recipients in other domains: queued for the outbound runner in the same commit (the
  // queue entry holds one more reference on the blob).
  std::vector<OutboundRecipient> outbound;
  std::string sender;  // envelope sender, for the queue entry
  std::string envid;
  bool ret_full = false;
};

struct Placement {
  MailboxId mailbox;
  std::uint32_t uidvalidity = 0;
  Uid uid;
};

struct Receipt {
  std::string blob;  // SHA-256, raw
  bool new_blob = false;
  std::vector<Placement> placed;  // in the order of the targets
  std::uint64_t queued = 0;       // the outbound queue entry's id, 0 if none
};

enum class FlagOp { add, remove, replace };

struct FlagChange {
  FlagOp op = FlagOp::add;
  std::uint8_t flags = 0;
  std::vector<std::string> keywords;
  std::optional<ModSeq> unchanged_since;  // CONDSTORE: skip messages changed after this
};

struct FlagResult {
  std::vector<MessageRecord> changed;  // with their new flags and modseq
  std::vector<Uid> skipped;            // modified since unchanged_since
};

struct CopyResult {
  std::uint32_t uidvalidity = 0;
  std::vector<std::pair<Uid, Uid>> uids;  // source uid -> destination uid (COPYUID)
};

// Who is asking: a person's own account and the role accounts their current position holds.
struct Accessor {
  std::string self;
  std::vector<std::string> roles;
};

// RFC 4314 rights granted to the holders of a role mailbox unless its ACL says otherwise.
inline constexpr const char* kRoleRights = "lrswipkte";
inline constexpr const char* kOwnerRights = "lrswipkxtea";

struct GcReport {
  std::uint64_t segments_removed = 0, segments_compacted = 0, blobs_moved = 0, bytes_freed = 0;
};

class Mailstore;

// A delivery that is coming (an SMTP session is receiving the message): while any exists, a
// commit waits a little for it, so concurrent sessions share one fsync. Move-only; released
// (withdrawn) when destroyed unless handed to deliver().
class Expectation {
 public:
  Expectation() = default;
  explicit Expectation(kv::GroupCommitter* c) : c_(c), since_(std::chrono::steady_clock::now()) { c_->expect(+1); }
  Expectation(Expectation&& o) noexcept : c_(std::exchange(o.c_, nullptr)), since_(o.since_) {}
  Expectation& operator=(Expectation&& o) noexcept {
    if (this != &o) {
      reset();
      c_ = std::exchange(o.c_, nullptr);
      since_ = o.since_;
    }
    return *this;
  }
  std::chrono::steady_clock::time_point since() const { return since_; }
  ~Expectation() { reset(); }
  void reset() {
    if (c_) std::exchange(c_, nullptr)->expect(-1);
  }
  // For deliver(): the committer takes over the announcement.
  kv::GroupCommitter* release() { return std::exchange(c_, nullptr); }

 private:
  kv::GroupCommitter* c_ = nullptr;
  std::chrono::steady_clock::time_point since_;
};

class Mailstore {
 public:
  Mailstore(kv::Store& index, BlobStore& blobs, Settings settings = {});
  ~Mailstore();

  // Creates INBOX, Sent, Drafts, Trash, Junk and Archive for the account if missing (a
  // delivery creates only the INBOX).
  void ensure_account(const std::string& account, UnixMs now);

  std::vector<MailboxRecord> list(const std::string& account);
  std::optional<MailboxRecord> mailbox(const std::string& account, const std::string& name);
  std::optional<MailboxRecord> mailbox(MailboxId id);
  // Names: UTF-8, '/' between levels, no empty level, no control characters; "INBOX" is
  // case-insensitive. conflict if it exists; parents are created as needed.
  // `subscribe`: the new mailbox (and the parents created with it) are subscribed; otherwise
  // only a name that was subscribed before it existed is (IMAP CREATE subscribes nothing).
  Result<MailboxRecord> create(const std::string& account, const std::string& name, UnixMs now, bool subscribe = false);
  // Renames the mailbox and its children (INBOX is moved into the new name, RFC 9051 6.3.6).
  Status rename(const std::string& account, const std::string& from, const std::string& to, UnixMs now);
  // Deletes a mailbox and its messages; refuses INBOX and mailboxes with children.
  Status remove(const std::string& account, const std::string& name);
  // SUBSCRIBE/UNSUBSCRIBE (RFC 9051 6.3.7-8): any valid name, existing or not.
  Status subscribe(const std::string& account, const std::string& name, bool on);
  // Subscribed names without a mailbox (deleted, or never created), sorted.
  std::vector<std::string> orphan_subscriptions(const std::string& account);
  // \Recent (RFC 3501 2.3.2): a session selecting the mailbox read-write, or seeing new mail
  // in it, takes the messages below `upto` that nobody took yet. Returns the first UID that
  // is recent for the caller (>= upto: none). Changes no modseq and wakes nobody.
  Result<std::uint32_t> claim_recent(MailboxId id, std::uint32_t upto);

  // Stores the message once and places it in every target; `done` runs after the commit
  // that holds it is durable. Throws only for programming errors; storage failures arrive
  // as an Error.
  void deliver(std::shared_ptr<const Delivery> d, std::function<void(Result<Receipt>)> done,
               Expectation expected = {});
  // Announces a delivery that is coming (see Expectation).
  Expectation expect_delivery() { return Expectation(committer_.get()); }
  Result<Receipt> deliver(const Delivery& d);
  // Several messages in one transaction: all are stored, or none (IMAP MULTIAPPEND).
  Result<std::vector<Receipt>> deliver_all(const std::vector<Delivery>& ds);

  // Index records of the messages with uid in [from, to], in UID order.
  std::vector<MessageRecord> messages(MailboxId id, Uid from = Uid{1}, Uid to = Uid{UINT32_MAX});
  std::string body(const MessageRecord& m);
  // ENVELOPE, BODYSTRUCTURE and sort keys, computed at delivery (never reads the blob unless
  // the message predates summaries).
  mime::Summary summary(const MessageRecord& m);
  // As body() and summary(), but nullopt when the message was expunged (its last reference
  // dropped) after `m` was read: readers racing an EXPUNGE treat it as gone.
  std::optional<std::string> try_body(const MessageRecord& m);
  std::optional<mime::Summary> try_summary(const MessageRecord& m);
  Result<FlagResult> store_flags(MailboxId id, const std::vector<Uid>& uids, const FlagChange& change);
  // Removes the listed messages that carry \Deleted (all such when `uids` is empty).
  Result<std::vector<Uid>> expunge(MailboxId id, const std::vector<Uid>& uids);
  Result<CopyResult> copy(MailboxId from, const std::vector<Uid>& uids, MailboxId to, bool move, UnixMs now);
  // QRESYNC: messages whose modseq > since, and uids expunged after since.
  std::vector<std::pair<Uid, ModSeq>> changed_since(MailboxId id, ModSeq since);
  std::vector<Uid> expunged_since(MailboxId id, ModSeq since);

  // The outbound queue: entries due at `due` or earlier (all with due = max), oldest first.
  std::vector<QueueEntry> queue(UnixMs due = INT64_MAX, std::size_t limit = SIZE_MAX);
  std::optional<QueueEntry> queued(std::uint64_t id);
  // Stores what an attempt changed; an entry with no pending recipient is removed and its
  // blob reference released. not_found if the entry is gone (deleted meanwhile).
  Status update_queued(const QueueEntry& q);
  Status delete_queued(std::uint64_t id);
  // Makes every entry due now; returns how many.
  std::uint64_t flush_queue(UnixMs now);
  std::string blob_bytes(const std::string& sha);

  Usage usage(const std::string& account);
  std::uint64_t quota(const std::string& account) const;
  // True when `extra` more bytes would still fit the account's quota.
  bool fits(const std::string& account, std::uint64_t extra);

  std::string rights(MailboxId id, const Accessor& who);
  Status set_acl(MailboxId id, const std::string& identifier, const std::string& rights);
  std::vector<std::pair<std::string, std::string>> acl(MailboxId id);
  // Mailboxes whose ACL names `identifier` (personal delegation), with the rights granted.
  std::vector<std::pair<MailboxRecord, std::string>> shared_with(const std::string& identifier);

  // Removes segments with no live blob and rewrites sealed segments less than
  // `min_live` full; returns what it did.
  GcReport collect(double min_live = 0.5);
  // Index and blob references agree (refs = placements, usage = sums); problems found.
  std::vector<std::string> check(std::size_t max = 50);

  // The change feed. The callback gets the mailbox id and its new highest modseq.
  using Watcher = std::function<void(MailboxId, ModSeq)>;
  std::uint64_t watch(MailboxId id, Watcher w);
  void unwatch(std::uint64_t token);

  kv::GroupCommitter& committer() { return *committer_; }
  BlobStore& blobs() { return blobs_; }

 private:
  struct Pending;
  Status write(const std::function<Status(kv::WriteTxn&, std::vector<MailboxId>&)>& job);
  void publish(const std::vector<MailboxId>& changed);

  kv::Store& index_;
  BlobStore& blobs_;
  Settings settings_;
  std::unique_ptr<kv::GroupCommitter> committer_;
  std::mutex watch_mu_;
  std::uint64_t next_watch_ = 1;
  // By mailbox, so that a commit finds its watchers without scanning every idle session.
  std::map<MailboxId, std::map<std::uint64_t, Watcher>> watchers_;
  std::map<std::uint64_t, MailboxId> watch_boxes_;  // token -> mailbox, for unwatch
};

// Opens DATA_DIR/mail.mdb and DATA_DIR/mail/blobs.
struct OpenedStore {
  std::unique_ptr<kv::Store> index;
  std::unique_ptr<BlobStore> blobs;
  std::unique_ptr<Mailstore> store;
};
// With read_only, no blob segment is started (for admin commands beside a running server).
OpenedStore open(const std::string& data_dir, std::uint64_t map_size_mb, Settings settings = {}, bool read_only = false);
OpenedStore open_memory(Settings settings = {});

}  // namespace congvu::mailstore
