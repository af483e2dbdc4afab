// The mail store's values and their stored encodings (mail.mdb, see schema below and
// mailstore/README.md). Plain value types; decode_* throw codec::DecodeError on corrupt input.
//
//   table     key                                   value
//   meta      "schema" | "next_mailbox" | "uidvalidity"   "1" | be64 | be32
//   mailbox   account + '\0' + name                 be64 mailbox id
//   mbox      be64 mailbox id                       MailboxRecord
//   msg       be64 mailbox id + be32 uid            MessageRecord
//   modseq    be64 mailbox id + be64 modseq + be32 uid   'L' live | 'X' expunged at that modseq
//   blob      32-byte SHA-256                       BlobRecord (segment, offset, length, refs)
//   segment   be32 segment number                   total bytes + live bytes
//   usage     account                               bytes + messages (quota)
//   acl       be64 mailbox id + identifier          RFC 4314 rights letters
//   queue     be64 queue id                         QueueEntry (outbound mail; holds a blob ref)
//   summary   32-byte SHA-256                       mime::Summary (ENVELOPE, BODYSTRUCTURE, sort keys)
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.hpp"
#include "common/time.hpp"

namespace congvu::mailstore {

struct MailboxId {
  std::uint64_t v = 0;
  auto operator<=>(const MailboxId&) const = default;
};
struct Uid {
  std::uint32_t v = 0;
  auto operator<=>(const Uid&) const = default;
};
using ModSeq = std::uint64_t;

// An account owns mailboxes: a person ("p:" + id) or a unit's role mailbox ("u:" + unit code).
std::string person_account(const PersonId& id);
std::string unit_account(std::string_view unit_code);
bool is_unit_account(std::string_view account);

// System flags as bits (RFC 9051 2.3.2); keywords are stored by name.
enum Flag : std::uint8_t { seen = 1, answered = 2, flagged = 4, deleted = 8, draft = 16 };
constexpr std::uint8_t kAllFlags = 31;

enum class SpecialUse : std::uint8_t { none = 0, inbox, sent, drafts, trash, junk, archive };
const char* special_use_attr(SpecialUse u);  // "\\Sent", "" for none and inbox

struct MailboxRecord {
  MailboxId id;
  std::string account, name;  // name: "INBOX", "Dự án/2026" (UTF-8, '/' separates levels)
  SpecialUse use = SpecialUse::none;
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 1;
  ModSeq highest_modseq = 1;
  std::uint32_t messages = 0, unseen = 0;
  std::uint64_t bytes = 0;
  bool subscribed = true;  // the special-use set and reorganised folders; IMAP CREATE: false
  // RFC 3501 2.3.2 \Recent: messages from this UID on arrived since a session last selected
  // the mailbox read-write (records written before it existed: uidnext, nothing recent).
  std::uint32_t first_recent = 1;
};

struct MessageRecord {
  Uid uid;
  std::string blob;  // 32 raw bytes of SHA-256
  std::uint64_t size = 0;
  UnixMs internal_date = 0;
  std::uint8_t flags = 0;
  ModSeq modseq = 0;
  std::vector<std::string> keywords;
};

struct BlobRecord {
  std::uint32_t segment = 0;
  std::uint64_t offset = 0, length = 0;
  std::uint64_t refs = 0;
};

struct Usage {
  std::uint64_t bytes = 0, messages = 0;
};

// Outbound mail waiting for delivery to other domains (RFC 5321 4.5.4 retries, RFC 3461 DSN).
struct OutboundRecipient {
  enum State : std::uint8_t { pending = 0, delivered = 1, failed = 2 };
  std::string address;
  State state = pending;
  std::uint8_t notify = 0;   // RFC 3461 NOTIFY bits: 1 success, 2 failure, 4 delay, 8 never
  std::string orcpt;         // ORCPT as given ("rfc822;a@b"), may be empty
  std::string last_reply;    // the remote server's last answer, or why it could not be reached
};

struct QueueEntry {
  std::uint64_t id = 0;
  std::string blob;  // 32 raw bytes of SHA-256
  std::uint64_t size = 0;
  std::string sender;  // envelope sender; empty: the null sender (a bounce, never bounced)
  std::string envid;   // RFC 3461 ENVID
  bool ret_full = false;
  UnixMs created = 0, next_attempt = 0;
  std::uint32_t attempts = 0;
  std::vector<OutboundRecipient> rcpts;
  bool done() const;  // no recipient pending
};

std::string encode(const MailboxRecord& m);
std::string encode(const MessageRecord& m);
std::string encode(const BlobRecord& b);
std::string encode(const Usage& u);
std::string encode(const QueueEntry& q);
MailboxRecord decode_mailbox(std::string_view v);
MessageRecord decode_message(std::string_view key, std::string_view v);
BlobRecord decode_blob(std::string_view v);
Usage decode_usage(std::string_view v);
QueueEntry decode_queue(std::string_view key, std::string_view v);

namespace schema {
// subscription: account \0 name -> "" for a subscribed name that has no mailbox (deleted, or
// not created yet); an existing mailbox keeps its subscription in its record.
enum Table : unsigned { meta, mailbox, mbox, msg, modseq, blob, segment, usage, acl, queue, summary, subscription,
                        kTableCount };
std::vector<std::string> table_names();
std::string mailbox_key(std::string_view account, std::string_view name);
std::string id_key(MailboxId id);
std::string msg_key(MailboxId id, Uid uid);
std::string modseq_key(MailboxId id, ModSeq m, Uid uid);
std::string segment_key(std::uint32_t seg);
std::string queue_key(std::uint64_t id);
}  // namespace schema

}  // namespace congvu::mailstore
