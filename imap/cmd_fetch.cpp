// FETCH and UID FETCH (RFC 9051 6.4.5, BINARY RFC 3516, CONDSTORE/QRESYNC RFC 7162).
#include <algorithm>

#include "imap/session_impl.hpp"
#include "mailstore/mime.hpp"

namespace congvu::imap {

using mailstore::MessageRecord;
using mailstore::Uid;
using proto::Parser;
using proto::ParseError;

// ---- FETCH

using Fetch = proto::FetchItem;

namespace {

std::string header_fields(std::string_view head, const std::vector<std::string>& names, bool negate) {
  std::string out;
  for (auto [name, value] : mailstore::mime::fields(head)) {
    std::string n = upper(std::string(name));
    bool listed = std::find(names.begin(), names.end(), n) != names.end();
    if (listed == negate) continue;
    std::size_t start = static_cast<std::size_t>(name.data() - head.data());
    std::size_t end = static_cast<std::size_t>(value.data() + value.size() - head.data());
    out.append(head.substr(start, end - start));
  }
  out += "\r\n";
  return out;
}

}  // namespace

// The bytes a BODY[...] or BINARY[...] item names; nullopt when the part does not exist (or,
// for BINARY, is a multipart or has an encoding not known: then unknown_cte is set).
std::optional<std::string> section_bytes(const Fetch& a, const std::string& data,
                                         const mailstore::mime::Part& root, bool& unknown_cte) {
  using F = Fetch;
  namespace mime = mailstore::mime;
  const mime::Part* target = mime::find(root, a.part);
  if (!target) return std::nullopt;
  std::string_view msg = data;
  auto slice = [&](std::size_t from, std::size_t to) { return std::string(msg.substr(from, to - from)); };
  if (a.kind != F::section) {  // BINARY: the decoded content of a single part
    if (a.part.empty()) return data;
    if (target->is_multipart()) return slice(target->body, target->end);  // its body as it is, as Dovecot
    auto decoded = mime::transfer_decode(msg.substr(target->body, target->end - target->body), target->encoding.value_or(""));
    unknown_cte = !decoded;
    return decoded;
  }
  if (a.what.empty()) return a.part.empty() ? data : slice(target->body, target->end);
  if (a.what == "MIME") return slice(target->begin, target->body);
  // HEADER, TEXT and HEADER.FIELDS of a part number name the message inside a message/rfc822.
  const mime::Part* m = target;
  if (!a.part.empty()) m = target->is_message() ? &target->parts.front() : nullptr;
  if (!m) return std::string();
  if (a.what == "HEADER") return slice(m->begin, m->body);
  if (a.what == "TEXT") return slice(m->body, m->end);
  return header_fields(msg.substr(m->begin, m->body - m->begin), a.fields, a.what == "HEADER.FIELDS.NOT");
}

namespace {

// The part had a base64 or quoted-printable transfer encoding (BINARY decoded it).
bool was_encoded(const mailstore::mime::Part& root, const std::string& part) {
  const auto* t = mailstore::mime::find(root, part);
  if (!t || !t->encoding) return false;
  std::string e = upper(*t->encoding);
  return e == "BASE64" || e == "QUOTED-PRINTABLE";
}

}  // namespace

void Session::cmd_fetch(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const bool uid = c.uid;
  auto cmd = proto::parse_fetch(p);
  const auto& set = cmd.set;
  const auto& atts = cmd.items;
  const auto& changed_since = cmd.changed_since;
  const bool vanished = cmd.vanished;
  if (changed_since) condstore_ = true;
  if (vanished && (!uid || !qresync_ || !changed_since)) return bad(tag, "VANISHED needs UID FETCH, QRESYNC and CHANGEDSINCE");
  auto uids = resolve_set(set, uid);
  if (cmd.partial) uids = page_of(uids, *cmd.partial);  // RFC 9394 3.3: a page of the set
  bool want_modseq = condstore_ || changed_since;
  for (const auto& a : atts)
    if (a.kind == Fetch::modseq) want_modseq = condstore_ = true;
  bool sets_seen = false, need_summary = false, need_body = false;
  for (const auto& a : atts) {
    if ((a.kind == Fetch::section || a.kind == Fetch::binary || a.kind == Fetch::rfc822 ||
         a.kind == Fetch::rfc822_text) && !a.peek)
      sets_seen = true;
    if (a.kind == Fetch::envelope || a.kind == Fetch::body || a.kind == Fetch::bodystructure) need_summary = true;
    if (a.kind == Fetch::section || a.kind == Fetch::binary || a.kind == Fetch::binary_size ||
        a.kind == Fetch::rfc822 || a.kind == Fetch::rfc822_header || a.kind == Fetch::rfc822_text)
      need_body = true;
  }
  if (sel_->read_only || sel_->rights.find('s') == std::string::npos) sets_seen = false;
  if (vanished) {
    std::vector<std::uint32_t> gone;
    std::uint32_t max = sel_->uids.empty() ? 0 : sel_->uids.back();
    for (auto u : ctx_.store.expunged_since(sel_->box.id, *changed_since))
      if (set.saved ? false : set.contains(u.v, std::max(max, u.v))) gone.push_back(u.v);
    if (!gone.empty()) untagged("VANISHED (EARLIER) " + to_set(gone));
  }
  if (uids.empty()) {
    sync(uid);
    return tagged(tag, "OK", "FETCH completed");
  }
  std::vector<MessageRecord> records;
  for (auto& r : ctx_.store.messages(sel_->box.id, Uid{uids.front()}, Uid{uids.back()}))
    if (std::binary_search(uids.begin(), uids.end(), r.uid.v)) records.push_back(std::move(r));
  if (changed_since)
    records.erase(std::remove_if(records.begin(), records.end(), [&](const MessageRecord& r) { return r.modseq <= *changed_since; }),
                  records.end());
  std::set<std::uint32_t> seen_now;
  if (sets_seen) {
    std::vector<Uid> unseen;
    for (const auto& r : records)
      if (!(r.flags & mailstore::seen)) unseen.push_back(r.uid);
    if (!unseen.empty()) {
      auto fr = ctx_.store.store_flags(sel_->box.id, unseen, mailstore::FlagChange{mailstore::FlagOp::add, mailstore::seen, {}, {}});
      if (fr) {
        for (const auto& c : fr->changed) {
          seen_now.insert(c.uid.v);
          sel_->own.insert({c.uid.v, c.modseq});
          for (auto& r : records)
            if (r.uid == c.uid) {
              r.flags = c.flags;
              r.modseq = c.modseq;
            }
        }
      }
    }
  }
  bool cte_error = false;
  std::size_t gone = 0;
  for (const auto& r : records) {
    std::uint32_t msn = sel_->msn(r.uid.v);
    if (!msn) continue;
    std::string items;
    auto item = [&](const std::string& s) {
      if (!items.empty()) items += ' ';
      items += s;
    };
    bool have_uid = false, have_flags = false, have_modseq = false;
    std::optional<mailstore::mime::Summary> summary;
    std::string data;
    std::optional<mailstore::mime::Part> root;
    if (need_summary) {
      summary = ctx_.store.try_summary(r);
      if (!summary) {
        ++gone;  // expunged by another session since the records were read
        continue;
      }
    }
    if (need_body) {
      auto bytes = ctx_.store.try_body(r);
      if (!bytes) {
        ++gone;
        continue;
      }
      data = std::move(*bytes);
      root = mailstore::mime::parse(data);
    }
    for (const auto& a : atts) {
      switch (a.kind) {
        case Fetch::uid:
          item("UID " + std::to_string(r.uid.v));
          have_uid = true;
          break;
        case Fetch::flags:
          item("FLAGS " + flags_text(r));
          have_flags = true;
          break;
        case Fetch::internaldate:
          item("INTERNALDATE \"" + proto::format_date_time(r.internal_date) + "\"");
          break;
        case Fetch::size:
          item("RFC822.SIZE " + std::to_string(r.size));
          break;
        case Fetch::envelope:
          item("ENVELOPE " + summary->envelope);
          break;
        case Fetch::body:
          item("BODY " + summary->body);
          break;
        case Fetch::bodystructure:
          item("BODYSTRUCTURE " + summary->bodystructure);
          break;
        case Fetch::modseq:
          item("MODSEQ (" + std::to_string(r.modseq) + ")");
          have_modseq = true;
          break;
        case Fetch::rfc822:
          item("RFC822 " + proto::quoted_or_literal(data));
          break;
        case Fetch::rfc822_header:
          item("RFC822.HEADER " + proto::quoted_or_literal(std::string_view(data).substr(0, root->body)));
          break;
        case Fetch::rfc822_text:
          item("RFC822.TEXT " + proto::quoted_or_literal(std::string_view(data).substr(root->body)));
          break;
        case Fetch::section:
        case Fetch::binary:
        case Fetch::binary_size: {
          bool unknown_cte = false;
          auto found = section_bytes(a, data, *root, unknown_cte);
          cte_error = cte_error || unknown_cte;
          bool exists = found.has_value();
          std::string bytes = found ? std::move(*found) : std::string();
          if (a.kind == Fetch::binary_size) {
            item(a.label + " " + std::to_string(bytes.size()));
            break;
          }
          std::string label = a.label;
          if (a.partial) {
            auto [start, len] = *a.partial;
            bytes = start >= bytes.size() ? std::string() : bytes.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(len));
            label += "<" + std::to_string(start) + ">";
          }
          if (!exists && a.kind == Fetch::binary) {  // no such part: empty, as Dovecot answers
            item(label + " \"\"");
          } else if (a.kind == Fetch::binary && (bytes.find('\0') != std::string::npos || was_encoded(*root, a.part))) {
            // Decoded content goes in a literal8 (RFC 3516 4.2); as Dovecot, also without a NUL.
            item(label + " ~{" + std::to_string(bytes.size()) + "}\r\n" + bytes);
          } else {
            item(label + " " + proto::quoted_or_literal(bytes));
          }
          break;
        }
      }
    }
    if (seen_now.count(r.uid.v) && !have_flags) item("FLAGS " + flags_text(r));
    if (want_modseq && !have_modseq) item("MODSEQ (" + std::to_string(r.modseq) + ")");
    if (uid && !have_uid) items = "UID " + std::to_string(r.uid.v) + (items.empty() ? "" : " ") + items;
    untagged(std::to_string(msn) + " FETCH (" + items + ")");
  }
  sync(uid);
  if (cte_error) return tagged(tag, "NO", "[UNKNOWN-CTE] a part has an unknown transfer encoding");
  // A message another session expunged: a UID FETCH just leaves it out (RFC 2180 4.1.1, as
  // Dovecot); a FETCH by number says so (4.1.2).
  if (!uid && ((records.size() < uids.size() && !changed_since) || gone > 0))
    return tagged(tag, "NO", "[EXPUNGEISSUED] some messages were expunged meanwhile");
  tagged(tag, "OK", "FETCH completed");
}

}  // namespace congvu::imap
