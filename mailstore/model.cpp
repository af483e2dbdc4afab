#include "mailstore/model.hpp"

#include "common/codec.hpp"

namespace congvu::mailstore {

namespace {
// A 32-bit field stored as a varint: anything wider is a corrupt record, not a value to wrap.
// A flag byte is 0 or 1: anything else is a corrupt record (one value, one encoding).
bool flag(codec::Reader& r, const char* what) {
  auto v = r.u8();
  if (v > 1) throw codec::DecodeError(std::string(what) + " is not 0 or 1");
  return v == 1;
}

std::uint32_t u32(codec::Reader& r, const char* what) {
  auto v = r.varint();
  if (v > 0xffffffffULL) throw codec::DecodeError(std::string(what) + " out of range");
  return static_cast<std::uint32_t>(v);
}
}  // namespace

std::string person_account(const PersonId& id) { return "p:" + id.str(); }
std::string unit_account(std::string_view unit_code) { return "u:" + std::string(unit_code); }
bool is_unit_account(std::string_view account) { return account.starts_with("u:"); }

const char* special_use_attr(SpecialUse u) {
  switch (u) {
    case SpecialUse::sent: return "\\Sent";
    case SpecialUse::drafts: return "\\Drafts";
    case SpecialUse::trash: return "\\Trash";
    case SpecialUse::junk: return "\\Junk";
    case SpecialUse::archive: return "\\Archive";
    default: return "";
  }
}

std::string encode(const MailboxRecord& m) {
  codec::Writer w;
  w.u8(1).varint(m.id.v).str(m.account).str(m.name).u8(static_cast<std::uint8_t>(m.use));
  w.varint(m.uidvalidity).varint(m.uidnext).varint(m.highest_modseq).varint(m.messages).varint(m.unseen);
  w.varint(m.bytes).u8(m.subscribed ? 1 : 0).varint(m.first_recent);
  return w.take();
}

MailboxRecord decode_mailbox(std::string_view v) {
  codec::Reader r(v);
  if (r.u8() != 1) throw codec::DecodeError("mailbox record: unknown version");
  MailboxRecord m;
  m.id.v = r.varint();
  m.account = r.str();
  m.name = r.str();
  auto use = r.u8();
  if (use > static_cast<std::uint8_t>(SpecialUse::archive)) throw codec::DecodeError("mailbox record: bad use");
  m.use = static_cast<SpecialUse>(use);
  m.uidvalidity = u32(r, "mailbox uidvalidity");
  m.uidnext = u32(r, "mailbox uidnext");
  m.highest_modseq = r.varint();
  m.messages = u32(r, "mailbox message count");
  m.unseen = u32(r, "mailbox unseen count");
  m.bytes = r.varint();
  m.subscribed = flag(r, "mailbox subscribed flag");
  m.first_recent = r.done() ? m.uidnext : u32(r, "mailbox first recent UID");
  r.expect_done();
  return m;
}

// The per-recipient cost of a delivery is this record plus its modseq entry: kept small
// (about 50 bytes here) because a notice to the whole province writes 20 000 of them.
std::string encode(const MessageRecord& m) {
  codec::Writer w;
  w.u8(1).raw(m.blob).varint(m.size).i64(m.internal_date).u8(m.flags).varint(m.modseq);
  if (!m.keywords.empty()) w.strs(m.keywords);
  return w.take();
}

MessageRecord decode_message(std::string_view key, std::string_view v) {
  codec::Reader r(v);
  if (r.u8() != 1) throw codec::DecodeError("message record: unknown version");
  MessageRecord m;
  m.uid.v = codec::get_be32(key.substr(8));
  m.blob = std::string(r.raw(32));
  m.size = r.varint();
  m.internal_date = r.i64();
  m.flags = r.u8();
  if (m.flags & ~kAllFlags) throw codec::DecodeError("message record: bad flags");
  m.modseq = r.varint();
  if (!r.done()) m.keywords = r.strs();
  r.expect_done();
  return m;
}

std::string encode(const BlobRecord& b) {
  codec::Writer w;
  w.u8(1).varint(b.segment).varint(b.offset).varint(b.length).varint(b.refs);
  return w.take();
}

BlobRecord decode_blob(std::string_view v) {
  codec::Reader r(v);
  if (r.u8() != 1) throw codec::DecodeError("blob record: unknown version");
  BlobRecord b;
  b.segment = u32(r, "blob segment");
  b.offset = r.varint();
  b.length = r.varint();
  b.refs = r.varint();
  r.expect_done();
  return b;
}

std::string encode(const Usage& u) {
  codec::Writer w;
  w.varint(u.bytes).varint(u.messages);
  return w.take();
}

Usage decode_usage(std::string_view v) {
  codec::Reader r(v);
  Usage u;
  u.bytes = r.varint();
  u.messages = r.varint();
  r.expect_done();
  return u;
}

bool QueueEntry::done() const {
  for (const auto& r : rcpts)
    if (r.state == OutboundRecipient::pending) return false;
  return true;
}

std::string encode(const QueueEntry& q) {
  codec::Writer w;
  w.u8(1).raw(q.blob).varint(q.size).str(q.sender).str(q.envid).u8(q.ret_full ? 1 : 0);
  w.i64(q.created).i64(q.next_attempt).varint(q.attempts).varint(q.rcpts.size());
  for (const auto& r : q.rcpts) w.str(r.address).u8(r.state).u8(r.notify).str(r.orcpt).str(r.last_reply);
  return w.take();
}

QueueEntry decode_queue(std::string_view key, std::string_view v) {
  codec::Reader r(v);
  if (r.u8() != 1) throw codec::DecodeError("queue record: unknown version");
  QueueEntry q;
  q.id = codec::get_be64(key);
  q.blob = std::string(r.raw(32));
  q.size = r.varint();
  q.sender = r.str();
  q.envid = r.str();
  q.ret_full = flag(r, "queue RET flag");
  q.created = r.i64();
  q.next_attempt = r.i64();
  q.attempts = u32(r, "queue attempts");
  auto n = r.varint();
  if (n > 100000) throw codec::DecodeError("queue record: too many recipients");
  for (std::uint64_t i = 0; i < n; ++i) {
    OutboundRecipient o;
    o.address = r.str();
    auto st = r.u8();
    if (st > OutboundRecipient::failed) throw codec::DecodeError("queue record: bad recipient state");
    o.state = static_cast<OutboundRecipient::State>(st);
    o.notify = r.u8();
    o.orcpt = r.str();
    o.last_reply = r.str();
    q.rcpts.push_back(std::move(o));
  }
  r.expect_done();
  return q;
}

namespace schema {

std::vector<std::string> table_names() {
  return {"meta", "mailbox", "mbox", "msg", "modseq", "blob", "segment", "usage", "acl", "queue", "summary", "subscription"};
}

std::string mailbox_key(std::string_view account, std::string_view name) {
  std::string k(account);
  k += '\0';
  k.append(name);
  return k;
}

std::string id_key(MailboxId id) {
  std::string k;
  codec::put_be64(k, id.v);
  return k;
}

std::string msg_key(MailboxId id, Uid uid) {
  std::string k = id_key(id);
  codec::put_be32(k, uid.v);
  return k;
}

std::string modseq_key(MailboxId id, ModSeq m, Uid uid) {
  std::string k = id_key(id);
  codec::put_be64(k, m);
  codec::put_be32(k, uid.v);
  return k;
}

std::string queue_key(std::uint64_t id) {
  std::string k;
  codec::put_be64(k, id);
  return k;
}

std::string segment_key(std::uint32_t seg) {
  std::string k;
  codec::put_be32(k, seg);
  return k;
}

}  // namespace schema

}  // namespace congvu::mailstore
