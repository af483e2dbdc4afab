#include "mailstore/txn.hpp"

#include <algorithm>

#include "common/codec.hpp"
#include "common/crypto.hpp"

namespace congvu::mailstore::detail {

using namespace schema;

std::string normalize_name(std::string_view name) {
  std::string n(name);
  auto upper5 = [&] {
    std::string h = n.substr(0, 5);
    std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return h;
  };
  if ((n.size() == 5 || (n.size() > 5 && n[5] == '/')) && upper5() == "INBOX") n.replace(0, 5, "INBOX");
  return n;
}

std::string invalid_name_reason(std::string_view name) {
  if (name.empty()) return "the mailbox name is empty";
  if (name.size() > 512) return "the mailbox name is longer than 512 bytes";
  if (name.front() == '/' || name.back() == '/' || name.find("//") != std::string_view::npos)
    return "the mailbox name has an empty level";
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return "the mailbox name contains a control character";
  if (name.find('*') != std::string_view::npos || name.find('%') != std::string_view::npos)
    return "the mailbox name contains a wildcard (* or %)";
  return {};
}

std::optional<MailboxRecord> find(kv::ReadTxn& t, std::string_view account, std::string_view name) {
  auto id = t.get(mailbox, mailbox_key(account, normalize_name(name)));
  if (!id) return std::nullopt;
  return load(t, MailboxId{codec::get_be64(*id)});
}

std::optional<MailboxRecord> load(kv::ReadTxn& t, MailboxId id) {
  auto v = t.get(mbox, id_key(id));
  if (!v) return std::nullopt;
  return decode_mailbox(*v);
}

void save(kv::WriteTxn& t, const MailboxRecord& m) { t.put(mbox, id_key(m.id), encode(m)); }

std::uint64_t next_counter(kv::WriteTxn& t, std::string_view name, std::uint64_t floor) {
  auto v = t.get(meta, name);
  std::uint64_t n = v ? codec::get_be64(*v) + 1 : 1;
  n = std::max(n, floor);
  std::string out;
  codec::put_be64(out, n);
  t.put(meta, name, out);
  return n;
}

MailboxRecord create_mailbox(kv::WriteTxn& t, const std::string& account, const std::string& name, SpecialUse use,
                             UnixMs now) {
  MailboxRecord m;
  m.id.v = next_counter(t, "next_mailbox", 1);
  // UIDVALIDITY: increasing across the store, so that a mailbox deleted and created again
  // never reuses a (UIDVALIDITY, UID) pair; seeded from the clock like Dovecot's.
  m.uidvalidity = static_cast<std::uint32_t>(next_counter(t, "uidvalidity", static_cast<std::uint64_t>(now / 1000)));
  m.account = account;
  m.name = normalize_name(name);
  m.use = use;
  t.put(mailbox, mailbox_key(account, m.name), id_key(m.id));
  save(t, m);
  return m;
}

void ensure_account(kv::WriteTxn& t, const std::string& account, UnixMs now) {
  static const std::pair<const char*, SpecialUse> kSet[] = {
      {"INBOX", SpecialUse::inbox}, {"Sent", SpecialUse::sent},   {"Drafts", SpecialUse::drafts},
      {"Trash", SpecialUse::trash}, {"Junk", SpecialUse::junk},   {"Archive", SpecialUse::archive}};
  for (auto [name, use] : kSet)
    if (!t.get(mailbox, mailbox_key(account, name))) create_mailbox(t, account, name, use, now);
}

MailboxRecord ensure_inbox(kv::WriteTxn& t, const std::string& account, UnixMs now) {
  if (auto m = find(t, account, "INBOX")) return *m;
  return create_mailbox(t, account, "INBOX", SpecialUse::inbox, now);
}

Usage usage(kv::ReadTxn& t, std::string_view account) {
  auto v = t.get(schema::usage, account);
  return v ? decode_usage(*v) : Usage{};
}

void add_usage(kv::WriteTxn& t, const std::string& account, std::int64_t bytes, std::int64_t messages) {
  Usage u = usage(t, account);
  u.bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(0, static_cast<std::int64_t>(u.bytes) + bytes));
  u.messages = static_cast<std::uint64_t>(std::max<std::int64_t>(0, static_cast<std::int64_t>(u.messages) + messages));
  t.put(schema::usage, account, encode(u));
}

bool ref_blob(kv::WriteTxn& t, std::string_view sha, std::uint64_t n) {
  auto v = t.get(blob, sha);
  if (!v) return false;
  BlobRecord b = decode_blob(*v);
  b.refs += n;
  t.put(blob, sha, encode(b));
  return true;
}

void add_segment_live(kv::WriteTxn& t, std::uint32_t seg, std::int64_t delta) {
  auto k = segment_key(seg);
  auto v = t.get(segment, k);
  std::int64_t live = v ? static_cast<std::int64_t>(codec::get_be64(*v)) : 0;
  live = std::max<std::int64_t>(0, live + delta);
  std::string out;
  codec::put_be64(out, static_cast<std::uint64_t>(live));
  t.put(segment, k, out);
}

void add_blob(kv::WriteTxn& t, std::string_view sha, const BlobLocation& at, std::uint64_t n) {
  t.put(blob, sha, encode(BlobRecord{at.segment, at.offset, at.length, n}));
  add_segment_live(t, at.segment, static_cast<std::int64_t>(BlobStore::kHeader + at.length));
}

void unref_blob(kv::WriteTxn& t, std::string_view sha) {
  auto v = t.get(blob, sha);
  if (!v) throw codec::DecodeError("a message points at the missing blob " + crypto::hex(sha));
  BlobRecord b = decode_blob(*v);
  if (b.refs > 1) {
    --b.refs;
    t.put(blob, sha, encode(b));
    return;
  }
  // The last reference: the bytes become garbage that collect() reclaims with the segment.
  t.del(blob, sha);
  t.del(summary, sha);
  add_segment_live(t, b.segment, -static_cast<std::int64_t>(BlobStore::kHeader + b.length));
}

Uid place(kv::WriteTxn& t, MailboxRecord& m, const MessageRecord& proto) {
  MessageRecord r = proto;
  r.uid = Uid{m.uidnext++};
  r.modseq = ++m.highest_modseq;
  t.put(msg, msg_key(m.id, r.uid), encode(r));
  t.put(schema::modseq, modseq_key(m.id, r.modseq, r.uid), "L");
  ++m.messages;
  if (!(r.flags & seen)) ++m.unseen;
  m.bytes += r.size;
  add_usage(t, m.account, static_cast<std::int64_t>(r.size), 1);
  return r.uid;
}

void unplace(kv::WriteTxn& t, MailboxRecord& m, const MessageRecord& r, ModSeq at) {
  t.del(msg, msg_key(m.id, r.uid));
  t.del(schema::modseq, modseq_key(m.id, r.modseq, r.uid));
  t.put(schema::modseq, modseq_key(m.id, at, r.uid), "X");
  unref_blob(t, r.blob);
  --m.messages;
  if (!(r.flags & seen)) --m.unseen;
  m.bytes -= std::min(m.bytes, r.size);
  add_usage(t, m.account, -static_cast<std::int64_t>(r.size), -1);
}

std::optional<MessageRecord> get_message(kv::ReadTxn& t, MailboxId id, Uid uid) {
  auto k = msg_key(id, uid);
  auto v = t.get(msg, k);
  if (!v) return std::nullopt;
  return decode_message(k, *v);
}

}  // namespace congvu::mailstore::detail
