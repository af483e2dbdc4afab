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


namespace {

using Key = proto::SearchKey;

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

std::uint8_t flag_bit(proto::SystemFlag f) {
  switch (f) {
    case proto::SystemFlag::answered: return mailstore::answered;
    case proto::SystemFlag::flagged: return mailstore::flagged;
    case proto::SystemFlag::deleted: return mailstore::deleted;
    case proto::SystemFlag::seen: return mailstore::seen;
    case proto::SystemFlag::draft: return mailstore::draft;
  }
  return 0;
}

// Text arguments folded once, as the texts they are compared with.
void fold_needles(Key& k) {
  if (k.kind == Key::header || k.kind == Key::body || k.kind == Key::text) k.b = text::fold(k.b);
  for (auto& kid : k.kids) fold_needles(kid);
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
  std::optional<std::size_t> head_len;

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
  std::string_view head() {
    // Header keys need only the header: no MIME parse of the whole message.
    if (!head_len) head_len = root ? root->body : mime::header_length(bytes());
    return std::string_view(bytes()).substr(0, *head_len);
  }
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

std::vector<MessageRecord> Session::run_search(proto::SearchKey root) {
  fold_needles(root);
  std::vector<MessageRecord> out;
  if (sel_->uids.empty()) return out;
  const std::uint32_t n = static_cast<std::uint32_t>(sel_->uids.size());
  const std::uint32_t max_uid = sel_->uids.back();
  bool modseq_used = root.uses(Key::modseq);
  if (modseq_used) condstore_ = true;
  std::function<bool(const Key&, Candidate&)> eval = [&](const Key& k, Candidate& c) -> bool {
    switch (k.kind) {
      case Key::all: return true;
      case Key::none: return false;
      case Key::flag_on: return (c.r.flags & flag_bit(k.flag)) != 0;
      case Key::flag_off: return (c.r.flags & flag_bit(k.flag)) == 0;
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


std::optional<std::vector<Session::Matched>> Session::search_with_summaries(const std::string& charset,
                                                                           proto::SearchKey root,
                                                                           const std::string& tag) {
  if (!known_charset(charset)) {
    tagged(tag, "NO", "[BADCHARSET (UTF-8 US-ASCII)] unsupported charset");
    return std::nullopt;
  }
  search_modseq_ = 0;
  auto records = run_search(std::move(root));
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

}  // namespace congvu::imap
