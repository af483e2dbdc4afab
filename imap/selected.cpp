// Session: the selected state (SELECT/EXAMINE with CONDSTORE and QRESYNC, FETCH, STORE,
// EXPUNGE, COPY/MOVE, CLOSE/UNSELECT) and the reporting of other sessions' changes.
#include <algorithm>

#include "imap/session_impl.hpp"
#include "mailstore/mime.hpp"

namespace congvu::imap {

using mailstore::MessageRecord;
using mailstore::Uid;
using proto::Parser;
using proto::ParseError;

namespace {

std::vector<Uid> as_uids(const std::vector<std::uint32_t>& v) {
  std::vector<Uid> out;
  out.reserve(v.size());
  for (auto u : v) out.push_back(Uid{u});
  return out;
}

}  // namespace

std::vector<std::uint32_t> Session::resolve_set(const proto::SeqSet& set, bool uid) const {
  const auto& uids = sel_->uids;
  if (set.saved) {
    std::vector<std::uint32_t> out;
    for (auto u : sel_->saved)
      if (sel_->msn(u)) out.push_back(u);
    return out;
  }
  std::vector<std::uint32_t> out;
  if (uid) {
    if (uids.empty()) return out;
    std::uint32_t max = uids.back();
    for (auto u : uids)
      if (set.contains(u, max)) out.push_back(u);
    return out;
  }
  const auto n = static_cast<std::uint32_t>(uids.size());
  for (const auto& r : set.ranges)
    if ((r.lo && r.lo > n) || (r.hi && r.hi > n)) throw ParseError("message sequence number out of range");
  for (auto m : set.expand(n)) out.push_back(uids[m - 1]);
  return out;
}

bool Session::check_selected_access() {
  if (!sel_) return false;
  auto who = accessor();
  if (!active_) {
    untagged("BYE the account is no longer active");
    state_ = State::logout;
    action_ = Close{};
    sel_.reset();
    return false;
  }
  if (sel_->box.account == account_) return true;
  std::string rights = ctx_.store.rights(sel_->box.id, who);
  if (rights.find('r') == std::string::npos) {
    untagged("OK [CLOSED] access to " + sel_->visible + " was withdrawn");
    sel_.reset();
    state_ = State::authenticated;
    return false;
  }
  sel_->rights = rights;
  return true;
}

void Session::announce_flags(const Selected& s) {
  std::string kw;
  for (const auto& k : s.keywords) kw += " " + k;
  untagged("FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft" + kw + ")");
  std::string perm;
  if (!s.read_only) {
    if (s.rights.find('w') != std::string::npos) perm += " \\Answered \\Flagged \\Draft" + kw + " \\*";
    if (s.rights.find('t') != std::string::npos) perm += " \\Deleted";
    if (s.rights.find('s') != std::string::npos) perm += " \\Seen";
  }
  if (!perm.empty()) perm.erase(0, 1);
  untagged("OK [PERMANENTFLAGS (" + perm + ")] Limited");
}

void Session::learn_keywords(const std::vector<std::string>& keywords) {
  if (!sel_) return;
  bool fresh = false;
  for (const auto& k : keywords) fresh = sel_->keywords.insert(k).second || fresh;
  if (fresh) announce_flags(*sel_);
}

void Session::take_recent(Selected& s, std::uint32_t upto) {
  if (rev2_) return;
  std::uint32_t first = upto;
  if (s.read_only) {
    if (auto box = ctx_.store.mailbox(s.box.id)) first = box->first_recent;
  } else if (auto claimed = ctx_.store.claim_recent(s.box.id, upto)) {
    first = *claimed;
  }
  for (auto it = std::lower_bound(s.uids.begin(), s.uids.end(), first); it != s.uids.end() && *it < upto; ++it)
    s.recent.insert(*it);
}

// A rev1 session hears its \Recent count when it changed since it last heard it (after the
// expunges and EXISTS of the same report), as Dovecot answers.
void Session::report_recent() {
  if (rev2_ || !sel_ || sel_->recent.size() == sel_->recent_reported) return;
  sel_->recent_reported = sel_->recent.size();
  untagged(std::to_string(sel_->recent_reported) + " RECENT");
}

void Session::report_expunged(const std::vector<std::uint32_t>& gone) {
  std::vector<std::uint32_t> present;
  for (auto u : gone)
    if (sel_->msn(u)) present.push_back(u);
  if (present.empty()) return;
  // Once each: the same UID can come both from the store's expunge record and from what a
  // FETCH set aside (pending_expunged); erasing it twice would erase before the first element.
  std::sort(present.begin(), present.end());
  present.erase(std::unique(present.begin(), present.end()), present.end());
  if (qresync_) {
    untagged("VANISHED " + to_set(present));
    std::vector<std::uint32_t> keep;
    keep.reserve(sel_->uids.size());
    std::set_difference(sel_->uids.begin(), sel_->uids.end(), present.begin(), present.end(), std::back_inserter(keep));
    sel_->uids = std::move(keep);
  } else {
    for (auto u : present) {
      auto m = sel_->msn(u);
      if (!m) continue;
      untagged(std::to_string(m) + " EXPUNGE");
      sel_->uids.erase(sel_->uids.begin() + (m - 1));
    }
  }
  for (auto u : present) sel_->recent.erase(u);
}

void Session::sync(bool expunges) {
  auto box = ctx_.store.mailbox(sel_->box.id);
  if (!box) {
    untagged("BYE the selected mailbox was deleted");
    state_ = State::logout;
    action_ = Close{};
    sel_.reset();
    return;
  }
  if (box->highest_modseq <= sel_->modseq) {
    if (expunges && !sel_->pending_expunged.empty()) report_expunged(std::exchange(sel_->pending_expunged, {}));
    report_recent();
    return;
  }
  auto vanished = ctx_.store.expunged_since(sel_->box.id, sel_->modseq);
  auto changed = ctx_.store.changed_since(sel_->box.id, sel_->modseq);
  mailstore::ModSeq top = box->highest_modseq;
  for (auto& [u, ms] : changed) top = std::max(top, ms);
  std::vector<std::uint32_t> gone;
  for (auto u : vanished)
    if (sel_->msn(u.v)) gone.push_back(u.v);
  auto& pend = sel_->pending_expunged;
  if (expunges) {
    gone.insert(gone.end(), pend.begin(), pend.end());
    pend.clear();
    report_expunged(gone);
  } else {
    // A concurrent expunge can be read twice (its modseq may be above `top`): keep each once.
    for (auto u : gone)
      if (std::find(pend.begin(), pend.end(), u) == pend.end()) pend.push_back(u);
  }
  std::uint32_t last = sel_->uids.empty() ? 0 : sel_->uids.back();
  std::vector<std::uint32_t> fresh, touched;
  for (auto& [u, ms] : changed) {
    if (u.v > last) fresh.push_back(u.v);
    else if (sel_->msn(u.v) && !sel_->own.count({u.v, ms}) &&
             std::find(pend.begin(), pend.end(), u.v) == pend.end())
      touched.push_back(u.v);
  }
  if (!fresh.empty()) {
    sel_->uids.insert(sel_->uids.end(), fresh.begin(), fresh.end());
    untagged(std::to_string(sel_->uids.size()) + " EXISTS");
    take_recent(*sel_, fresh.back() + 1);
  }
  if (!touched.empty()) {
    for (const auto& r : ctx_.store.messages(sel_->box.id, Uid{touched.front()}, Uid{touched.back()})) {
      if (!std::binary_search(touched.begin(), touched.end(), r.uid.v)) continue;
      // UID only where QRESYNC requires it (RFC 7162 3.2.4), as Dovecot answers.
      std::string line = std::to_string(sel_->msn(r.uid.v)) + " FETCH (" +
                         (qresync_ ? "UID " + std::to_string(r.uid.v) + " " : std::string()) + "FLAGS " + flags_text(r);
      if (condstore_) line += " MODSEQ (" + std::to_string(r.modseq) + ")";
      untagged(line + ")");
    }
  }
  sel_->modseq = top;
  report_recent();
  for (auto it = sel_->own.begin(); it != sel_->own.end();) it = it->second <= top ? sel_->own.erase(it) : std::next(it);
}

Step Session::idle_poll(UnixMs) {
  out_.clear();
  action_ = NeedInput{};
  if (sel_) {
    if (check_selected_access()) {
      sync(true);
    } else if (state_ != State::logout) {
      // Withdrawn while idling: a client in IDLE only notices the end of the connection.
      untagged("BYE [NOPERM] access to the selected mailbox was withdrawn");
      state_ = State::logout;
      action_ = Close{};
    }
  }
  return {std::move(out_), std::move(action_)};
}

// ---- SELECT / EXAMINE

void Session::cmd_select(Parser& p, const std::string& tag, bool examine, UnixMs) {
  p.sp();
  std::string wire = p.astring();
  bool want_condstore = false;
  struct Qr {
    std::uint32_t validity = 0;
    mailstore::ModSeq modseq = 0;
    std::optional<proto::SeqSet> known;
  };
  std::optional<Qr> qr;
  if (p.try_sp()) {
    p.expect('(');
    while (!p.try_char(')')) {
      p.try_sp();
      std::string k = p.keyword();
      if (k == "CONDSTORE") {
        want_condstore = true;
      } else if (k == "QRESYNC") {
        if (!qresync_) throw ParseError("QRESYNC is not enabled");
        p.sp();
        p.expect('(');
        Qr q;
        q.validity = p.number();
        p.sp();
        q.modseq = p.number64();
        if (p.try_sp()) {
          if (!p.peek('(')) {
            q.known = p.sequence_set();
            p.try_sp();
          }
          if (p.try_char('(')) {  // sequence match data: accepted, not needed (we keep VANISHED exact)
            p.sequence_set();
            p.sp();
            p.sequence_set();
            p.expect(')');
          }
        }
        p.expect(')');
        qr = q;
      } else {
        throw ParseError("unknown SELECT parameter " + k);
      }
    }
  }
  p.end();
  if (sel_) {
    sel_.reset();
    state_ = State::authenticated;
    untagged("OK [CLOSED] previous mailbox closed");
  }
  auto name = decode_name(wire);
  auto m = name ? resolve(*name) : std::nullopt;
  if (!m || !m->record) return tagged(tag, "NO", "[NONEXISTENT] no such mailbox");
  if (m->rights.find('r') == std::string::npos) return tagged(tag, "NO", "[NOPERM] no right to read this mailbox");
  if (want_condstore) condstore_ = true;
  auto sel = std::make_unique<Selected>();
  sel->box = *m->record;
  sel->visible = m->visible;
  sel->rights = m->rights;
  sel->shared = m->account != account_;
  sel->read_only = examine || m->rights.find_first_of("stwe") == std::string::npos;
  std::set<std::string>& keywords = sel->keywords;
  std::uint32_t first_unseen = 0;
  auto records = ctx_.store.messages(sel->box.id);
  sel->uids.reserve(records.size());
  for (const auto& r : records) {
    sel->uids.push_back(r.uid.v);
    if (!first_unseen && !(r.flags & mailstore::seen)) first_unseen = static_cast<std::uint32_t>(sel->uids.size());
    for (const auto& k : r.keywords) keywords.insert(k);
    sel->modseq = std::max(sel->modseq, r.modseq);
  }
  sel->modseq = std::max(sel->modseq, sel->box.highest_modseq);
  announce_flags(*sel);
  untagged(std::to_string(sel->uids.size()) + " EXISTS");
  if (!rev2_) {
    // \Recent: what arrived since the last read-write selection is this session's (RFC 3501 2.3.2).
    std::uint32_t upto = std::max(sel->box.uidnext, sel->uids.empty() ? 0U : sel->uids.back() + 1);
    take_recent(*sel, upto);
    sel->recent_reported = sel->recent.size();
    untagged(std::to_string(sel->recent_reported) + " RECENT");
    if (first_unseen) untagged("OK [UNSEEN " + std::to_string(first_unseen) + "] First unseen");
  }
  untagged("OK [UIDVALIDITY " + std::to_string(sel->box.uidvalidity) + "] UIDs valid");
  untagged("OK [UIDNEXT " + std::to_string(sel->box.uidnext) + "] Predicted next UID");
  untagged("OK [HIGHESTMODSEQ " + std::to_string(sel->modseq) + "] Highest");
  if (rev2_) untagged("LIST () \"/\" " + encode_name(m->visible));
  sel_ = std::move(sel);
  state_ = State::selected;
  if (qr && qr->validity == sel_->box.uidvalidity) {
    std::vector<std::uint32_t> gone;
    std::uint32_t max = sel_->box.uidnext ? sel_->box.uidnext - 1 : 0;
    for (auto u : ctx_.store.expunged_since(sel_->box.id, qr->modseq))
      if (!sel_->msn(u.v) && (!qr->known || qr->known->contains(u.v, max))) gone.push_back(u.v);
    if (!gone.empty()) untagged("VANISHED (EARLIER) " + to_set(gone));
    auto changed = ctx_.store.changed_since(sel_->box.id, qr->modseq);
    if (!changed.empty()) {
      for (const auto& r : ctx_.store.messages(sel_->box.id, changed.front().first, changed.back().first)) {
        if (r.modseq <= qr->modseq) continue;
        untagged(std::to_string(sel_->msn(r.uid.v)) + " FETCH (UID " + std::to_string(r.uid.v) + " FLAGS " +
                 flags_text(r) + " MODSEQ (" + std::to_string(r.modseq) + "))");
      }
    }
  }
  tagged(tag, "OK", std::string(sel_->read_only ? "[READ-ONLY] " : "[READ-WRITE] ") +
                        (examine ? "EXAMINE" : "SELECT") + " completed");
}

void Session::cmd_close(const std::string& tag, bool expunge) {
  if (expunge && !sel_->read_only && sel_->rights.find('e') != std::string::npos && check_selected_access())
    (void)ctx_.store.expunge(sel_->box.id, {});
  sel_.reset();
  state_ = State::authenticated;
  tagged(tag, "OK", expunge ? "CLOSE completed" : "UNSELECT completed");
}

void Session::cmd_expunge(Parser& p, const std::string& tag, bool uid) {
  std::vector<std::uint32_t> which;
  if (uid) {
    p.sp();
    auto set = p.sequence_set();
    which = resolve_set(set, true);
  }
  p.end();
  if (sel_->read_only) return tagged(tag, "NO", "[READ-ONLY] the mailbox is read-only");
  if (sel_->rights.find('e') == std::string::npos) return tagged(tag, "NO", "[NOPERM] no right to expunge");
  if (uid && which.empty()) {
    sync(true);
    return tagged(tag, "OK", "EXPUNGE completed");
  }
  auto r = ctx_.store.expunge(sel_->box.id, as_uids(which));
  if (!r) return tagged(tag, "NO", r.error().message);
  std::vector<std::uint32_t> gone;
  for (auto u : *r) gone.push_back(u.v);
  report_expunged(gone);
  sync(true);
  tagged(tag, "OK", "EXPUNGE completed");
}

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

void Session::cmd_fetch(Parser& p, const std::string& tag, bool uid, UnixMs) {
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

// ---- STORE

void Session::cmd_store(Parser& p, const std::string& tag, bool uid) {
  p.sp();
  auto set = p.sequence_set();
  p.sp();
  std::optional<mailstore::ModSeq> unchanged_since;
  if (p.try_char('(')) {
    if (p.keyword() != "UNCHANGEDSINCE") throw ParseError("unknown STORE modifier");
    p.sp();
    unchanged_since = p.number64();
    p.expect(')');
    p.sp();
    condstore_ = true;
  }
  std::string op = p.keyword();
  p.sp();
  std::vector<std::string> flags;
  if (p.peek('(')) {
    flags = p.flag_list();
  } else {
    do {
      flags.push_back(p.atom());
    } while (p.try_sp());
  }
  p.end();
  mailstore::FlagChange ch;
  bool silent = false;
  std::string base = op;
  if (base.ends_with(".SILENT")) {
    silent = true;
    base.resize(base.size() - 7);
  }
  if (base == "FLAGS") ch.op = mailstore::FlagOp::replace;
  else if (base == "+FLAGS") ch.op = mailstore::FlagOp::add;
  else if (base == "-FLAGS") ch.op = mailstore::FlagOp::remove;
  else throw ParseError("expected FLAGS, +FLAGS or -FLAGS");
  for (const auto& f : flags) {
    std::string u = upper(f);
    if (u == "\\SEEN") ch.flags |= mailstore::seen;
    else if (u == "\\ANSWERED") ch.flags |= mailstore::answered;
    else if (u == "\\FLAGGED") ch.flags |= mailstore::flagged;
    else if (u == "\\DELETED") ch.flags |= mailstore::deleted;
    else if (u == "\\DRAFT") ch.flags |= mailstore::draft;
    else if (u == "\\RECENT") throw ParseError("\\Recent cannot be changed");  // RFC 3501 2.3.2
    else if (f.starts_with("\\")) throw ParseError("unknown system flag " + f);
    else if (f.find_first_of("(){%*\"\\]") != std::string::npos) throw ParseError("bad keyword " + f);
    else if (std::find(ch.keywords.begin(), ch.keywords.end(), f) == ch.keywords.end()) ch.keywords.push_back(f);
  }
  ch.unchanged_since = unchanged_since;
  auto uids = resolve_set(set, uid);
  if (sel_->read_only) return tagged(tag, "NO", "[READ-ONLY] the mailbox is read-only");
  const std::string& rights = sel_->rights;
  bool needs_s = (ch.flags & mailstore::seen) || ch.op == mailstore::FlagOp::replace;
  bool needs_t = (ch.flags & mailstore::deleted) || ch.op == mailstore::FlagOp::replace;
  bool needs_w = (ch.flags & ~(mailstore::seen | mailstore::deleted)) || !ch.keywords.empty() || ch.op == mailstore::FlagOp::replace;
  if ((needs_s && rights.find('s') == std::string::npos) || (needs_t && rights.find('t') == std::string::npos) ||
      (needs_w && rights.find('w') == std::string::npos))
    return tagged(tag, "NO", "[NOPERM] no right to change these flags");
  std::string modified;
  if (!uids.empty()) {
    auto r = ctx_.store.store_flags(sel_->box.id, as_uids(uids), ch);
    if (!r) return tagged(tag, "NO", r.error().message);
    std::vector<std::uint32_t> skipped;
    for (auto u : r->skipped) skipped.push_back(uid ? u.v : sel_->msn(u.v));
    if (!skipped.empty()) modified = "[MODIFIED " + to_set(skipped) + "] ";
    for (const auto& c : r->changed) sel_->own.insert({c.uid.v, c.modseq});
    if (ch.op != mailstore::FlagOp::remove) learn_keywords(ch.keywords);
    if (!silent || unchanged_since) {
      std::vector<std::uint32_t> report;
      for (auto u : uids)
        if (std::find(r->skipped.begin(), r->skipped.end(), Uid{u}) == r->skipped.end()) report.push_back(u);
      if (!report.empty()) {
        for (const auto& m : ctx_.store.messages(sel_->box.id, Uid{report.front()}, Uid{report.back()})) {
          if (!std::binary_search(report.begin(), report.end(), m.uid.v)) continue;
          bool changed = std::any_of(r->changed.begin(), r->changed.end(), [&](const MessageRecord& c) { return c.uid == m.uid; });
          if (silent && !changed) continue;
          std::string line = std::to_string(sel_->msn(m.uid.v)) + " FETCH (";
          std::string inner;
          if (!silent) inner = "FLAGS " + flags_text(m);
          if (uid) inner += std::string(inner.empty() ? "" : " ") + "UID " + std::to_string(m.uid.v);
          if (condstore_) inner += std::string(inner.empty() ? "" : " ") + "MODSEQ (" + std::to_string(m.modseq) + ")";
          untagged(line + inner + ")");
        }
      }
    }
  }
  sync(uid);
  tagged(tag, "OK", modified + "STORE completed");
}

// ---- COPY / MOVE

void Session::cmd_copy(Parser& p, const std::string& tag, bool uid, bool move, UnixMs now) {
  p.sp();
  auto set = p.sequence_set();
  p.sp();
  std::string wire = p.astring();
  p.end();
  auto uids = resolve_set(set, uid);
  auto name = decode_name(wire);
  auto dst = name ? resolve(*name) : std::nullopt;
  if (!dst || !dst->record) return tagged(tag, "NO", "[TRYCREATE] no such mailbox");
  if (dst->rights.find('i') == std::string::npos) return tagged(tag, "NO", "[NOPERM] no right to insert there");
  if (move && (sel_->read_only || sel_->rights.find('t') == std::string::npos || sel_->rights.find('e') == std::string::npos))
    return tagged(tag, "NO", "[NOPERM] no right to move out of this mailbox");
  if (uids.empty()) {
    sync(uid);
    return tagged(tag, "OK", std::string(move ? "MOVE" : "COPY") + " completed");
  }
  std::uint64_t bytes = 0;
  for (const auto& r : ctx_.store.messages(sel_->box.id, Uid{uids.front()}, Uid{uids.back()}))
    if (std::binary_search(uids.begin(), uids.end(), r.uid.v)) bytes += r.size;
  if (dst->account != sel_->box.account && !ctx_.store.fits(dst->account, bytes))
    return tagged(tag, "NO", "[OVERQUOTA] the target mailbox is full");
  auto r = ctx_.store.copy(sel_->box.id, as_uids(uids), dst->record->id, move, now);
  if (!r) return tagged(tag, "NO", r.error().message);
  std::vector<std::uint32_t> src, dsts;
  for (auto& [a, b] : r->uids) {
    src.push_back(a.v);
    dsts.push_back(b.v);
  }
  std::string code = src.empty() ? std::string() :
      "[COPYUID " + std::to_string(r->uidvalidity) + " " + to_set(src) + " " + to_set(dsts) + "] ";
  if (move) {
    if (!code.empty()) untagged("OK " + code + "Moved");
    report_expunged(src);
    sync(true);
    return tagged(tag, "OK", "MOVE completed");
  }
  sync(uid);
  tagged(tag, "OK", code + "COPY completed");
}

}  // namespace congvu::imap
