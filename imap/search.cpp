// Session: SEARCH (RFC 9051 6.4.4 with ESEARCH RFC 4731, SEARCHRES RFC 5182, CONDSTORE MODSEQ),
// SORT and THREAD (RFC 5256). Text matching is Vietnamese diacritic-insensitive: both sides go
// through text::fold ("Nguyễn Văn An" and "nguyen van an" match), over headers with RFC 2047
// words decoded and bodies decoded from base64/quoted-printable and their charset.
#include <algorithm>
#include <deque>
#include <functional>
#include <map>

#include "common/text.hpp"
#include "imap/session_impl.hpp"
#include "mailstore/mime.hpp"

namespace congvu::imap {

using mailstore::MessageRecord;
using mailstore::Uid;
using proto::Parser;
using proto::ParseError;
namespace mime = mailstore::mime;

struct Session::SearchKey {
  enum Kind { all, none, flag_on, flag_off, keyword, unkeyword, header, body, text, before, on, since, sentbefore,
              senton, sentsince, larger, smaller, uids, msns, not_, or_, and_, modseq, recent } kind = all;
  std::uint8_t flag = 0;
  std::string a, b;  // header name, needle (folded)
  std::int64_t n = 0;
  proto::SeqSet set;
  std::vector<SearchKey> kids;
};

namespace {

using Key = Session::SearchKey;

std::int64_t day_of(std::int64_t ms) { return ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000; }

// Field `index` of an ENVELOPE as we write it (0: date, 1: subject) when it is a quoted string
// or a literal, unquoted; nullopt for NIL. The header text as written, encoded words and all.
std::optional<std::string> envelope_string(std::string_view env, int index) {
  if (env.empty() || env[0] != '(') return std::nullopt;
  std::size_t i = 1;
  for (int field = 0;; ++field) {
    while (i < env.size() && env[i] == ' ') ++i;
    if (i >= env.size()) return std::nullopt;
    std::optional<std::string> value;
    if (env[i] == '"') {
      std::string v;
      for (++i; i < env.size() && env[i] != '"'; ++i) {
        if (env[i] == '\\' && i + 1 < env.size()) ++i;
        v.push_back(env[i]);
      }
      ++i;
      value = std::move(v);
    } else if (env[i] == '{') {
      std::size_t close = env.find('}', i);
      if (close == std::string_view::npos) return std::nullopt;
      std::size_t n = 0;
      for (std::size_t k = i + 1; k < close; ++k)
        if (env[k] >= '0' && env[k] <= '9') n = n * 10 + static_cast<std::size_t>(env[k] - '0');
      std::size_t start = close + 3;  // "}\r\n"
      if (start + n > env.size()) return std::nullopt;
      value = std::string(env.substr(start, n));
      i = start + n;
    } else if (env.substr(i, 3) == "NIL") {
      i += 3;
    } else {
      return std::nullopt;  // a list: past the fields this reads
    }
    if (field == index) return value;
  }
}

Key parse_key(Parser& p, int depth);

std::vector<Key> parse_keys(Parser& p, int depth, bool until_paren) {
  std::vector<Key> out;
  for (;;) {
    out.push_back(parse_key(p, depth));
    if (until_paren && p.peek(')')) break;
    if (!until_paren && p.at_end()) break;
    p.sp();
  }
  return out;
}

std::int64_t date_arg(Parser& p) {
  std::string s = p.peek('"') ? p.string() : p.atom();
  auto d = proto::parse_date(s);
  if (!d) throw ParseError("bad date " + s.substr(0, 20));
  return day_of(*d);
}

Key parse_key(Parser& p, int depth) {
  if (depth > 50) throw ParseError("search keys nested too deeply");
  Key k;
  if (p.try_char('(')) {
    k.kind = Key::and_;
    k.kids = parse_keys(p, depth + 1, true);
    p.expect(')');
    return k;
  }
  if (p.peek('*') || p.peek('$') || (!p.rest().empty() && p.rest()[0] >= '0' && p.rest()[0] <= '9')) {
    k.kind = Key::msns;
    k.set = p.sequence_set();
    return k;
  }
  std::string w = p.keyword();
  auto str = [&] {
    p.sp();
    return text::fold(p.astring());
  };
  auto flag = [&](Key::Kind kind, std::uint8_t f) {
    k.kind = kind;
    k.flag = f;
  };
  if (w == "ALL") k.kind = Key::all;
  else if (w == "ANSWERED") flag(Key::flag_on, mailstore::answered);
  else if (w == "DELETED") flag(Key::flag_on, mailstore::deleted);
  else if (w == "DRAFT") flag(Key::flag_on, mailstore::draft);
  else if (w == "FLAGGED") flag(Key::flag_on, mailstore::flagged);
  else if (w == "SEEN") flag(Key::flag_on, mailstore::seen);
  else if (w == "RECENT") k.kind = Key::recent;
  else if (w == "OLD" || w == "NEW") {  // NOT RECENT; RECENT UNSEEN (RFC 3501 6.4.4)
    Key recent;
    recent.kind = Key::recent;
    if (w == "OLD") {
      k.kind = Key::not_;
      k.kids.push_back(std::move(recent));
    } else {
      Key unseen;
      unseen.kind = Key::flag_off;
      unseen.flag = mailstore::seen;
      k.kind = Key::and_;
      k.kids.push_back(std::move(recent));
      k.kids.push_back(std::move(unseen));
    }
  } else if (w == "UNANSWERED") flag(Key::flag_off, mailstore::answered);
  else if (w == "UNDELETED") flag(Key::flag_off, mailstore::deleted);
  else if (w == "UNDRAFT") flag(Key::flag_off, mailstore::draft);
  else if (w == "UNFLAGGED") flag(Key::flag_off, mailstore::flagged);
  else if (w == "UNSEEN") flag(Key::flag_off, mailstore::seen);
  else if (w == "KEYWORD" || w == "UNKEYWORD") {
    p.sp();
    k.kind = w == "KEYWORD" ? Key::keyword : Key::unkeyword;
    k.a = p.atom();
  } else if (w == "BCC" || w == "CC" || w == "FROM" || w == "SUBJECT" || w == "TO") {
    k.kind = Key::header;
    k.a = w;
    k.b = str();
  } else if (w == "HEADER") {
    p.sp();
    k.kind = Key::header;
    k.a = upper(p.astring());
    k.b = str();
  } else if (w == "BODY") {
    k.kind = Key::body;
    k.b = str();
  } else if (w == "TEXT") {
    k.kind = Key::text;
    k.b = str();
  } else if (w == "BEFORE" || w == "ON" || w == "SINCE" || w == "SENTBEFORE" || w == "SENTON" || w == "SENTSINCE") {
    p.sp();
    k.n = date_arg(p);
    k.kind = w == "BEFORE" ? Key::before : w == "ON" ? Key::on : w == "SINCE" ? Key::since
           : w == "SENTBEFORE" ? Key::sentbefore : w == "SENTON" ? Key::senton : Key::sentsince;
  } else if (w == "LARGER" || w == "SMALLER") {
    p.sp();
    k.kind = w == "LARGER" ? Key::larger : Key::smaller;
    k.n = static_cast<std::int64_t>(p.number64());
  } else if (w == "UID") {
    p.sp();
    k.kind = Key::uids;
    k.set = p.sequence_set();
  } else if (w == "NOT") {
    p.sp();
    k.kind = Key::not_;
    k.kids.push_back(parse_key(p, depth + 1));
  } else if (w == "OR") {
    p.sp();
    k.kind = Key::or_;
    k.kids.push_back(parse_key(p, depth + 1));
    p.sp();
    k.kids.push_back(parse_key(p, depth + 1));
  } else if (w == "MODSEQ") {
    p.sp();
    if (p.peek('"')) {  // entry name and type: accepted, flags share one modseq here
      p.string();
      p.sp();
      p.atom();
      p.sp();
    }
    k.kind = Key::modseq;
    k.n = static_cast<std::int64_t>(p.number64());
  } else {
    throw ParseError("unknown search key " + w.substr(0, 30));
  }
  return k;
}

bool uses(const Key& k, Key::Kind kind) {
  if (k.kind == kind) return true;
  return std::any_of(k.kids.begin(), k.kids.end(), [&](const Key& c) { return uses(c, kind); });
}

// What evaluation of one message may need, loaded on first use.
struct Candidate {
  Candidate(const MessageRecord& rec, std::uint32_t n, mailstore::Mailstore& st) : r(rec), msn(n), store(st) {}
  const MessageRecord& r;
  std::uint32_t msn;
  mailstore::Mailstore& store;
  std::optional<std::string> data;
  std::optional<mime::Part> root;
  std::optional<std::string> folded_body;
  std::optional<std::string> folded_head;
  std::optional<mime::Summary> summary;

  bool gone = false;  // expunged by another session while we searched
  const std::string& bytes() {
    if (!data) {
      auto b = store.try_body(r);
      gone = !b;
      data = b ? std::move(*b) : std::string();
    }
    return *data;
  }
  const mime::Part& part() {
    if (!root) root = mime::parse(bytes());
    return *root;
  }
  std::string_view head() { return std::string_view(bytes()).substr(0, part().body); }
  const std::string& body_text() {
    if (!folded_body) {
      std::string all;
      std::vector<const mime::Part*> stack{&part()};
      while (!stack.empty()) {
        const mime::Part* p = stack.back();
        stack.pop_back();
        if (p->is_multipart() || p->is_message()) {
          for (auto it = p->parts.rbegin(); it != p->parts.rend(); ++it) stack.push_back(&*it);
          if (p->is_message()) all += " " + mime::decode_words(std::string_view(bytes()).substr(p->parts.front().begin, p->parts.front().body - p->parts.front().begin));
          continue;
        }
        std::string t = upper(p->type);
        if (t == "TEXT" || t == "MESSAGE") all += " " + mime::decode_body(bytes(), *p);
      }
      folded_body = text::fold(all);
    }
    return *folded_body;
  }
  // The day the Date header names, in its own zone (SENTBEFORE/SENTON/SENTSINCE ignore time
  // and zone: RFC 3501 6.4.4); the internal date's day without a usable Date header.
  std::int64_t sent_day() {
    auto date = envelope_string(sum().envelope, 0);
    if (auto d = date ? mime::parse_rfc5322_date_zone(*date) : std::nullopt)
      return day_of(d->unix_ms + d->zone_minutes * 60000LL);
    return day_of(r.internal_date);
  }
  const std::string& head_text() {
    if (!folded_head) folded_head = text::fold(mime::decode_words(head()));
    return *folded_head;
  }
  const mime::Summary& sum() {
    if (!summary) {
      auto s = store.try_summary(r);
      gone = gone || !s;
      summary = s ? std::move(*s) : mime::Summary{};
    }
    return *summary;
  }
};

bool header_matches(Candidate& c, const std::string& name, const std::string& needle) {
  bool present = false;
  for (auto [n, v] : mime::fields(c.head())) {
    if (upper(std::string(n)) != name) continue;
    present = true;
    if (needle.empty()) return true;
    if (text::fold(mime::decode_words(v)).find(needle) != std::string::npos) return true;
  }
  return present && needle.empty();
}

}  // namespace

std::vector<MessageRecord> Session::run_search(Parser& p) {
  auto keys = parse_keys(p, 0, false);
  Key root;
  root.kind = Key::and_;
  root.kids = std::move(keys);
  std::vector<MessageRecord> out;
  if (sel_->uids.empty()) return out;
  const std::uint32_t n = static_cast<std::uint32_t>(sel_->uids.size());
  const std::uint32_t max_uid = sel_->uids.back();
  bool modseq_used = uses(root, Key::modseq);
  if (modseq_used) condstore_ = true;
  std::function<bool(const Key&, Candidate&)> eval = [&](const Key& k, Candidate& c) -> bool {
    switch (k.kind) {
      case Key::all: return true;
      case Key::none: return false;
      case Key::flag_on: return (c.r.flags & k.flag) != 0;
      case Key::flag_off: return (c.r.flags & k.flag) == 0;
      case Key::keyword: return std::find(c.r.keywords.begin(), c.r.keywords.end(), k.a) != c.r.keywords.end();
      case Key::unkeyword: return std::find(c.r.keywords.begin(), c.r.keywords.end(), k.a) == c.r.keywords.end();
      case Key::header: return header_matches(c, k.a, k.b);
      case Key::body: return c.body_text().find(k.b) != std::string::npos;
      case Key::text:
        return c.head_text().find(k.b) != std::string::npos || c.body_text().find(k.b) != std::string::npos;
      case Key::before: return day_of(c.r.internal_date) < k.n;
      case Key::on: return day_of(c.r.internal_date) == k.n;
      case Key::since: return day_of(c.r.internal_date) >= k.n;
      case Key::sentbefore: return c.sent_day() < k.n;
      case Key::senton: return c.sent_day() == k.n;
      case Key::sentsince: return c.sent_day() >= k.n;
      case Key::larger: return c.r.size > static_cast<std::uint64_t>(k.n);
      case Key::smaller: return c.r.size < static_cast<std::uint64_t>(k.n);
      case Key::uids:
      case Key::msns:
        if (k.set.saved) return std::find(sel_->saved.begin(), sel_->saved.end(), c.r.uid.v) != sel_->saved.end();
        return k.kind == Key::uids ? k.set.contains(c.r.uid.v, max_uid) : k.set.contains(c.msn, n);
      case Key::not_: return !eval(k.kids[0], c);
      case Key::or_: return eval(k.kids[0], c) || eval(k.kids[1], c);
      case Key::and_:
        for (const auto& kid : k.kids)
          if (!eval(kid, c)) return false;
        return true;
      case Key::modseq: return c.r.modseq >= static_cast<mailstore::ModSeq>(k.n);
      case Key::recent: return !rev2_ && sel_->recent.count(c.r.uid.v) > 0;
    }
    return false;
  };
  for (auto& r : ctx_.store.messages(sel_->box.id)) {
    std::uint32_t msn = sel_->msn(r.uid.v);
    if (!msn) continue;
    Candidate c{r, msn, ctx_.store};
    if (eval(root, c) && !c.gone) {
      if (modseq_used) search_modseq_ = std::max(search_modseq_, r.modseq);
      out.push_back(std::move(r));
    }
  }
  return out;
}

namespace {

bool known_charset(const std::string& cs) { return cs == "UTF-8" || cs == "US-ASCII"; }

}  // namespace

struct Session::Matched {
  MessageRecord r;
  mime::Summary s;
  bool reply = false;  // the subject had a reply/forward marker (RFC 5256)
};

std::optional<std::vector<Session::Matched>> Session::search_with_summaries(Parser& p, const std::string& tag) {
  if (!known_charset(upper(p.astring()))) {
    tagged(tag, "NO", "[BADCHARSET (UTF-8 US-ASCII)] unsupported charset");
    return std::nullopt;
  }
  p.sp();
  search_modseq_ = 0;
  auto records = run_search(p);
  p.end();
  std::vector<Matched> out;
  for (auto& r : records) {
    auto s = ctx_.store.try_summary(r);
    if (!s) continue;  // expunged meanwhile
    Matched m{std::move(r), std::move(*s)};
    // The base subject again from the Subject as written: summaries stored by an older
    // server hold one extracted by an older reading of RFC 5256.
    m.s.subject = mime::base_subject(envelope_string(m.s.envelope, 1).value_or(""), &m.reply);
    out.push_back(std::move(m));
  }
  return out;
}

void Session::cmd_search(Parser& p, const std::string& tag, bool uid) {
  p.sp();
  bool esearch = false;
  bool r_min = false, r_max = false, r_count = false, r_all = false, r_save = false;
  std::string_view rest = p.rest();
  if (rest.size() >= 7 && upper(std::string(rest.substr(0, 7))) == "RETURN ") {
    p.keyword();
    p.sp();
    p.expect('(');
    esearch = true;
    while (!p.try_char(')')) {
      p.try_sp();
      std::string o = p.keyword();
      if (o == "MIN") r_min = true;
      else if (o == "MAX") r_max = true;
      else if (o == "COUNT") r_count = true;
      else if (o == "ALL") r_all = true;
      else if (o == "SAVE") r_save = true;
      else throw ParseError("unknown RETURN option " + o);
    }
    if (!r_min && !r_max && !r_count && !r_save) r_all = true;
    p.sp();
  }
  rest = p.rest();
  if (rest.size() >= 8 && upper(std::string(rest.substr(0, 8))) == "CHARSET ") {
    p.keyword();
    p.sp();
    std::string cs = upper(p.astring());
    p.sp();
    if (!known_charset(cs)) return tagged(tag, "NO", "[BADCHARSET (UTF-8 US-ASCII)] unsupported charset");
  }
  if (rev2_ && !esearch) {
    esearch = true;
    r_all = true;
  }
  search_modseq_ = 0;
  std::vector<std::uint32_t> uids;
  for (const auto& r : run_search(p)) uids.push_back(r.uid.v);
  p.end();
  std::vector<std::uint32_t> ids;
  for (auto u : uids) ids.push_back(uid ? u : sel_->msn(u));
  if (r_save) sel_->saved = uids;
  if (!esearch) {
    std::string line = "SEARCH";
    for (auto i : ids) line += " " + std::to_string(i);
    if (search_modseq_ && !ids.empty()) line += " (MODSEQ " + std::to_string(search_modseq_) + ")";
    untagged(line);
  } else if (!(r_save && !r_min && !r_max && !r_count && !r_all)) {
    std::string line = "ESEARCH (TAG " + proto::quoted_or_literal(tag) + ")";
    if (uid) line += " UID";
    if (!ids.empty()) {
      if (r_min) line += " MIN " + std::to_string(ids.front());
      if (r_max) line += " MAX " + std::to_string(ids.back());
      if (r_all) line += " ALL " + to_set(ids);
    }
    if (r_count) line += " COUNT " + std::to_string(ids.size());
    if (search_modseq_ && !ids.empty()) line += " MODSEQ " + std::to_string(search_modseq_);
    untagged(line);
  }
  sync(uid);
  tagged(tag, "OK", "SEARCH completed");
}

void Session::cmd_sort(Parser& p, const std::string& tag, bool uid) {
  p.sp();
  p.expect('(');
  struct Crit {
    std::string key;
    bool reverse = false;
  };
  std::vector<Crit> crits;
  bool reverse = false;
  do {
    std::string k = p.keyword();
    if (k == "REVERSE") {
      reverse = true;
      continue;
    }
    static const char* known[] = {"ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO"};
    if (std::none_of(std::begin(known), std::end(known), [&](const char* x) { return k == x; }))
      throw ParseError("unknown sort key " + k);
    crits.push_back({k, std::exchange(reverse, false)});
  } while (p.try_sp());
  p.expect(')');
  if (reverse || crits.empty()) throw ParseError("REVERSE must precede a sort key");
  p.sp();
  auto matched = search_with_summaries(p, tag);
  if (!matched) return;
  using Row = Matched;
  std::vector<Row>& rows = *matched;
  auto cmp_key = [&](const Row& a, const Row& b, const std::string& k) -> int {
    auto c3 = [](const auto& x, const auto& y) { return x < y ? -1 : y < x ? 1 : 0; };
    if (k == "ARRIVAL") return c3(a.r.internal_date, b.r.internal_date);
    if (k == "DATE") return c3(a.s.date ? a.s.date : a.r.internal_date, b.s.date ? b.s.date : b.r.internal_date);
    if (k == "SIZE") return c3(a.r.size, b.r.size);
    if (k == "SUBJECT") return c3(a.s.subject, b.s.subject);
    if (k == "FROM") return c3(a.s.from, b.s.from);
    if (k == "TO") return c3(a.s.to, b.s.to);
    if (k == "CC") return c3(a.s.cc, b.s.cc);
    if (k == "DISPLAYFROM") return c3(text::fold(a.s.display_from), text::fold(b.s.display_from));
    if (k == "DISPLAYTO") return c3(text::fold(a.s.display_to), text::fold(b.s.display_to));
    return 0;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    for (const auto& c : crits) {
      int v = cmp_key(a, b, c.key);
      if (v != 0) return c.reverse ? v > 0 : v < 0;
    }
    return a.r.uid < b.r.uid;
  });
  std::string line = "SORT";
  for (const auto& row : rows) line += " " + std::to_string(uid ? row.r.uid.v : sel_->msn(row.r.uid.v));
  untagged(line);
  sync(uid);
  tagged(tag, "OK", "SORT completed");
}

namespace {

struct Node {
  std::uint32_t id = 0;  // 0: a dummy (a message referred to but not here)
  std::int64_t date = 0;
  std::vector<Node*> kids;
  Node* parent = nullptr;
};

std::string render(const Node* n) {
  // A message followed by its only child is written "a b"; several children each in parens.
  std::string out;
  const Node* cur = n;
  bool first = true;
  while (cur) {
    if (cur->id) {
      if (!first) out += ' ';
      out += std::to_string(cur->id);
      first = false;
    }
    if (cur->kids.size() == 1 && cur->id) {
      cur = cur->kids[0];
      continue;
    }
    if (!cur->kids.empty()) {
      if (!first) out += ' ';
      for (const Node* k : cur->kids) out += "(" + render(k) + ")";
    }
    break;
  }
  return out;
}

std::vector<std::string> message_ids(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while ((i = s.find('<', i)) != std::string_view::npos) {
    std::size_t j = s.find('>', i);
    if (j == std::string_view::npos) break;
    out.emplace_back(s.substr(i, j - i + 1));
    i = j + 1;
  }
  return out;
}

}  // namespace

void Session::cmd_thread(Parser& p, const std::string& tag, bool uid) {
  p.sp();
  std::string alg = p.keyword();
  if (alg != "ORDEREDSUBJECT" && alg != "REFERENCES") throw ParseError("unknown thread algorithm " + alg);
  p.sp();
  auto matched = search_with_summaries(p, tag);
  if (!matched) return;
  struct Msg {
    std::uint32_t id;
    std::uint32_t uid;
    std::int64_t date;
    mime::Summary s;
    bool reply;
  };
  std::vector<Msg> msgs;
  for (auto& m : *matched) {
    std::int64_t d = m.s.date ? m.s.date : m.r.internal_date;
    msgs.push_back({uid ? m.r.uid.v : sel_->msn(m.r.uid.v), m.r.uid.v, d, std::move(m.s), m.reply});
  }
  std::deque<Node> pool;
  std::vector<Node*> roots;
  auto by_date = [](const Node* a, const Node* b) {
    auto da = a->id ? a->date : (a->kids.empty() ? 0 : a->kids.front()->date);
    auto db = b->id ? b->date : (b->kids.empty() ? 0 : b->kids.front()->date);
    return da != db ? da < db : a->id < b->id;
  };
  if (alg == "ORDEREDSUBJECT") {
    std::map<std::string, Node*> by_subject;
    std::stable_sort(msgs.begin(), msgs.end(), [](const Msg& a, const Msg& b) { return a.date != b.date ? a.date < b.date : a.uid < b.uid; });
    for (const auto& m : msgs) {
      Node& n = pool.emplace_back();
      n.id = m.id;
      n.date = m.date;
      auto it = by_subject.find(m.s.subject);
      if (it == by_subject.end()) {
        by_subject[m.s.subject] = &n;
        roots.push_back(&n);
      } else {
        it->second->kids.push_back(&n);
      }
    }
  } else {
    // RFC 5256 REFERENCES, steps 1-6.
    std::map<std::string, Node*> by_id;
    auto container = [&](const std::string& mid) {
      auto it = by_id.find(mid);
      if (it != by_id.end()) return it->second;
      Node* n = &pool.emplace_back();
      by_id[mid] = n;
      return n;
    };
    auto is_ancestor = [](Node* a, Node* b) {  // a is b or above b
      for (Node* x = b; x; x = x->parent)
        if (x == a) return true;
      return false;
    };
    auto link = [&](Node* parent, Node* child) {
      if (child->parent || is_ancestor(child, parent)) return;
      child->parent = parent;
      parent->kids.push_back(child);
    };
    std::vector<Node*> all;
    for (const auto& m : msgs) {
      auto ids = message_ids(m.s.message_id);
      std::string mid = ids.empty() ? "<congvu-" + std::to_string(m.uid) + ">" : ids.front();
      Node* n = container(mid);
      if (n->id) n = container("<congvu-dup-" + std::to_string(m.uid) + ">");  // duplicate Message-ID
      n->id = m.id;
      n->date = m.date;
      all.push_back(n);
      auto refs = message_ids(m.s.references);
      if (refs.empty()) refs = message_ids(m.s.in_reply_to);
      Node* prev = nullptr;
      for (const auto& r : refs) {
        Node* c = container(r);
        if (prev) link(prev, c);
        prev = c;
      }
      if (prev && prev != n) {
        if (n->parent) {
          auto& sib = n->parent->kids;
          sib.erase(std::remove(sib.begin(), sib.end(), n), sib.end());
          n->parent = nullptr;
        }
        link(prev, n);
      }
    }
    for (auto& n : pool)
      if (!n.parent && (n.id || !n.kids.empty())) roots.push_back(&n);
    // Prune dummies: a dummy root with one child gives way to it; dummies inside are replaced by their children.
    std::function<void(Node*)> prune = [&](Node* n) {
      std::vector<Node*> kids;
      for (Node* k : n->kids) {
        prune(k);
        if (!k->id) {
          for (Node* g : k->kids) {
            g->parent = n;
            kids.push_back(g);
          }
        } else {
          kids.push_back(k);
        }
      }
      n->kids = kids;
    };
    for (Node* r : roots) prune(r);
    std::vector<Node*> kept;
    for (Node* r : roots) {
      if (!r->id && r->kids.empty()) continue;
      if (!r->id && r->kids.size() == 1) {
        r->kids[0]->parent = nullptr;
        kept.push_back(r->kids[0]);
      } else {
        kept.push_back(r);
      }
    }
    roots = kept;
    // Step 5: roots with the same base subject are gathered (RFC 5256 REFERENCES 5.A-C).
    std::map<const Node*, const Msg*> msg_of;
    for (const auto& m : msgs)
      for (Node* n : all)
        if (n->id == m.id) msg_of[n] = &m;
    for (Node* r : roots) std::stable_sort(r->kids.begin(), r->kids.end(), by_date);
    auto subject_msg = [&](const Node* r) -> const Msg* {  // a dummy's subject is its first child's
      const Node* rep = r->id ? r : (r->kids.empty() ? nullptr : r->kids.front());
      auto it = rep ? msg_of.find(rep) : msg_of.end();
      return it == msg_of.end() || it->second->s.subject.empty() ? nullptr : it->second;
    };
    auto reply = [&](const Node* n) { return n->id && msg_of.count(n) && msg_of[n]->reply; };
    std::map<std::string, Node*> table;
    for (Node* r : roots) {  // (B)
      const Msg* m = subject_msg(r);
      if (!m) continue;
      auto [it, fresh] = table.emplace(m->s.subject, r);
      if (!fresh && ((!r->id && it->second->id) || (reply(it->second) && !reply(r)))) it->second = r;
    }
    std::vector<Node*> merged;
    std::set<Node*> gone;
    for (Node* r : roots) {  // (C)
      const Msg* m = subject_msg(r);
      Node* t = m ? table[m->s.subject] : r;
      if (t == r) continue;
      gone.insert(r);
      if (!t->id && !r->id) {
        for (Node* k : r->kids) {
          k->parent = t;
          t->kids.push_back(k);
        }
      } else if (!t->id || (!reply(t) && reply(r))) {
        r->parent = t;
        t->kids.push_back(r);
      } else {
        Node* d = &pool.emplace_back();
        d->kids = {t, r};
        t->parent = r->parent = d;
        table[m->s.subject] = d;
        std::replace(roots.begin(), roots.end(), t, d);
      }
    }
    for (Node* r : roots)
      if (!gone.count(r)) merged.push_back(r);
    roots = merged;
    std::function<void(Node*)> sort_kids = [&](Node* n) {
      for (Node* k : n->kids) sort_kids(k);
      std::sort(n->kids.begin(), n->kids.end(), by_date);
    };
    for (Node* r : roots) sort_kids(r);
  }
  std::sort(roots.begin(), roots.end(), by_date);
  std::string line = "THREAD";
  if (!roots.empty()) line += " ";
  for (const Node* r : roots) line += "(" + render(r) + ")";
  untagged(line);
  sync(uid);
  tagged(tag, "OK", "THREAD completed");
}

}  // namespace congvu::imap
