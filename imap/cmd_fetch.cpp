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

struct Session::Fetch {
  enum Kind { uid, flags, internaldate, size, envelope, body, bodystructure, modseq, section, binary, binary_size,
              rfc822, rfc822_header, rfc822_text };
  Kind kind;
  bool peek = false;
  std::string label;  // the name the response uses ("BODY[HEADER]", "BINARY[1]")
  std::string part;   // "1.2"
  std::string what;   // "", HEADER, TEXT, MIME, HEADER.FIELDS, HEADER.FIELDS.NOT
  std::vector<std::string> fields;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> partial;
};

namespace {

// Parses "BODY.PEEK[1.HEADER.FIELDS (From To)]<0.100>" and the plain items.
void parse_section(std::string_view spec, std::string& part, std::string& what, std::vector<std::string>& fields) {
  std::size_t i = 0;
  while (i < spec.size() && (std::isdigit(static_cast<unsigned char>(spec[i])) || spec[i] == '.')) {
    if (spec[i] == '.' && (i + 1 >= spec.size() || !std::isdigit(static_cast<unsigned char>(spec[i + 1])))) break;
    ++i;
  }
  part = std::string(spec.substr(0, i));
  if (!part.empty() && (part.front() == '.' || part.find("..") != std::string::npos)) throw ParseError("bad section");
  std::string_view rest = spec.substr(i);
  if (!rest.empty() && rest[0] == '.') {
    if (part.empty()) throw ParseError("bad section");
    rest.remove_prefix(1);
  }
  std::size_t sp = rest.find(' ');
  what = upper(std::string(rest.substr(0, sp)));
  if (what == "HEADER.FIELDS" || what == "HEADER.FIELDS.NOT") {
    if (sp == std::string_view::npos) throw ParseError("HEADER.FIELDS needs a list");
    std::string list(rest.substr(sp + 1));
    list += "\r\n";
    Parser lp(list);
    lp.expect('(');
    do {
      fields.push_back(upper(lp.astring()));
    } while (lp.try_sp());
    lp.expect(')');
    lp.end();
  } else if (sp != std::string_view::npos) {
    throw ParseError("bad section");
  } else if (!(what.empty() || what == "HEADER" || what == "TEXT" || what == "MIME")) {
    throw ParseError("bad section " + what);
  } else if (what == "MIME" && part.empty()) {
    throw ParseError("MIME needs a part number");
  }
}

}  // namespace

namespace {

Session::Fetch parse_fetch_att(const std::string& raw) {
  using F = Session::Fetch;
  F f{};
  auto bracket = raw.find('[');
  std::string head = upper(raw.substr(0, bracket));
  if (bracket == std::string::npos) {
    static const std::pair<const char*, F::Kind> simple[] = {
        {"UID", F::uid},           {"FLAGS", F::flags},       {"INTERNALDATE", F::internaldate},
        {"RFC822.SIZE", F::size},  {"ENVELOPE", F::envelope}, {"BODY", F::body},
        {"BODYSTRUCTURE", F::bodystructure}, {"MODSEQ", F::modseq}, {"RFC822", F::rfc822},
        {"RFC822.HEADER", F::rfc822_header}, {"RFC822.TEXT", F::rfc822_text}};
    for (const auto& [n, k] : simple)
      if (head == n) {
        f.kind = k;
        f.label = n;
        return f;
      }
    throw ParseError("unknown fetch item " + raw.substr(0, 40));
  }
  auto close = raw.find(']', bracket);
  std::string spec = raw.substr(bracket + 1, close - bracket - 1);
  std::string tail = raw.substr(close + 1);
  if (head == "BODY" || head == "BODY.PEEK") {
    f.kind = F::section;
    f.peek = head == "BODY.PEEK";
  } else if (head == "BINARY" || head == "BINARY.PEEK") {
    f.kind = F::binary;
    f.peek = head == "BINARY.PEEK";
  } else if (head == "BINARY.SIZE") {
    f.kind = F::binary_size;
    f.peek = true;
  } else {
    throw ParseError("unknown fetch item " + head);
  }
  parse_section(spec, f.part, f.what, f.fields);
  if (f.kind != F::section && !f.what.empty()) throw ParseError("BINARY takes part numbers only");
  std::string label_spec = f.part;
  if (!f.what.empty()) {
    label_spec += (label_spec.empty() ? "" : ".") + f.what;
    if (!f.fields.empty()) {
      label_spec += " (";
      for (std::size_t i = 0; i < f.fields.size(); ++i) label_spec += (i ? " " : "") + f.fields[i];
      label_spec += ")";
    }
  }
  f.label = std::string(f.kind == F::section ? "BODY" : f.kind == F::binary ? "BINARY" : "BINARY.SIZE") + "[" +
            label_spec + "]";
  if (!tail.empty()) {
    if (f.kind == F::binary_size || tail.front() != '<' || tail.back() != '>') throw ParseError("bad partial");
    std::string inner = tail.substr(1, tail.size() - 2) + "\r\n";
    Parser pp(inner);
    std::uint64_t a = pp.number64();
    pp.expect('.');
    std::uint64_t b = pp.number64();
    pp.end();
    if (b == 0) throw ParseError("partial length must not be 0");
    f.partial = std::make_pair(a, b);
  }
  return f;
}

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

// The bytes a BODY[...] or BINARY[...] item names; nullopt when the part does not exist (or,
// for BINARY, is a multipart or has an encoding not known: then unknown_cte is set).
std::optional<std::string> section_bytes(const Session::Fetch& a, const std::string& data,
                                         const mailstore::mime::Part& root, bool& unknown_cte) {
  using F = Session::Fetch;
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
  p.sp();
  auto set = p.sequence_set();
  p.sp();
  std::vector<Fetch> atts;
  auto add = [&](const std::string& raw) { atts.push_back(parse_fetch_att(raw)); };
  if (p.try_char('(')) {
    do {
      add(p.fetch_att());
    } while (p.try_sp());
    p.expect(')');
  } else {
    std::string a = p.fetch_att();
    std::string u = upper(a);
    if (u == "ALL") {
      for (const char* x : {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"}) add(x);
    } else if (u == "FAST") {
      for (const char* x : {"FLAGS", "INTERNALDATE", "RFC822.SIZE"}) add(x);
    } else if (u == "FULL") {
      for (const char* x : {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"}) add(x);
    } else {
      add(a);
    }
  }
  std::optional<mailstore::ModSeq> changed_since;
  bool vanished = false;
  if (p.try_sp()) {
    p.expect('(');
    while (!p.try_char(')')) {
      p.try_sp();
      std::string k = p.keyword();
      if (k == "CHANGEDSINCE") {
        p.sp();
        changed_since = p.number64();
        condstore_ = true;
      } else if (k == "VANISHED") {
        vanished = true;
      } else {
        throw ParseError("unknown FETCH modifier " + k);
      }
    }
  }
  p.end();
  if (vanished && (!uid || !qresync_ || !changed_since)) return bad(tag, "VANISHED needs UID FETCH, QRESYNC and CHANGEDSINCE");
  auto uids = resolve_set(set, uid);
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
