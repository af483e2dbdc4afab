#include "imap/proto/search.hpp"

#include <algorithm>
#include <utility>

namespace congvu::imap::proto {

namespace {

bool starts_with_word(std::string_view rest, std::string_view word) {
  if (rest.size() <= word.size() || rest[word.size()] != ' ') return false;
  return upper_ascii(std::string(rest.substr(0, word.size()))) == word;
}

std::int64_t day_of(std::int64_t ms) { return ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000; }

std::int64_t date_arg(Parser& p) {
  std::string s = p.peek('"') ? p.string() : p.atom();
  auto d = parse_date(s);
  if (!d) throw ParseError("bad date " + s.substr(0, 20));
  return day_of(*d);
}

SearchKey parse_key(Parser& p, int depth);

std::vector<SearchKey> parse_keys(Parser& p, int depth, bool until_paren) {
  std::vector<SearchKey> out;
  for (;;) {
    out.push_back(parse_key(p, depth));
    if (until_paren && p.peek(')')) break;
    if (!until_paren && p.at_end()) break;
    p.sp();
  }
  return out;
}

SearchKey parse_key(Parser& p, int depth) {
  using K = SearchKey;
  if (depth > 50) throw ParseError("search keys nested too deeply");
  K k;
  if (p.try_char('(')) {
    k.kind = K::and_;
    k.kids = parse_keys(p, depth + 1, true);
    p.expect(')');
    return k;
  }
  if (p.peek('*') || p.peek('$') || (!p.rest().empty() && p.rest()[0] >= '0' && p.rest()[0] <= '9')) {
    k.kind = K::msns;
    k.set = p.sequence_set();
    return k;
  }
  std::string w = p.keyword();
  auto str = [&] {
    p.sp();
    return p.astring();
  };
  auto flag = [&](K::Kind kind, SystemFlag f) {
    k.kind = kind;
    k.flag = f;
  };
  if (w == "ALL") k.kind = K::all;
  else if (w == "ANSWERED") flag(K::flag_on, SystemFlag::answered);
  else if (w == "DELETED") flag(K::flag_on, SystemFlag::deleted);
  else if (w == "DRAFT") flag(K::flag_on, SystemFlag::draft);
  else if (w == "FLAGGED") flag(K::flag_on, SystemFlag::flagged);
  else if (w == "SEEN") flag(K::flag_on, SystemFlag::seen);
  else if (w == "RECENT") k.kind = K::recent;
  else if (w == "OLD" || w == "NEW") {  // NOT RECENT; RECENT UNSEEN (RFC 3501 6.4.4)
    K recent;
    recent.kind = K::recent;
    if (w == "OLD") {
      k.kind = K::not_;
      k.kids.push_back(std::move(recent));
    } else {
      K unseen;
      unseen.kind = K::flag_off;
      unseen.flag = SystemFlag::seen;
      k.kind = K::and_;
      k.kids.push_back(std::move(recent));
      k.kids.push_back(std::move(unseen));
    }
  } else if (w == "UNANSWERED") flag(K::flag_off, SystemFlag::answered);
  else if (w == "UNDELETED") flag(K::flag_off, SystemFlag::deleted);
  else if (w == "UNDRAFT") flag(K::flag_off, SystemFlag::draft);
  else if (w == "UNFLAGGED") flag(K::flag_off, SystemFlag::flagged);
  else if (w == "UNSEEN") flag(K::flag_off, SystemFlag::seen);
  else if (w == "KEYWORD" || w == "UNKEYWORD") {
    p.sp();
    k.kind = w == "KEYWORD" ? K::keyword : K::unkeyword;
    k.a = p.atom();
  } else if (w == "BCC" || w == "CC" || w == "FROM" || w == "SUBJECT" || w == "TO") {
    k.kind = K::header;
    k.a = w;
    k.b = str();
  } else if (w == "HEADER") {
    p.sp();
    k.kind = K::header;
    k.a = upper_ascii(p.astring());
    k.b = str();
  } else if (w == "BODY") {
    k.kind = K::body;
    k.b = str();
  } else if (w == "TEXT") {
    k.kind = K::text;
    k.b = str();
  } else if (w == "BEFORE" || w == "ON" || w == "SINCE" || w == "SENTBEFORE" || w == "SENTON" || w == "SENTSINCE") {
    p.sp();
    k.n = date_arg(p);
    k.kind = w == "BEFORE" ? K::before : w == "ON" ? K::on : w == "SINCE" ? K::since
           : w == "SENTBEFORE" ? K::sentbefore : w == "SENTON" ? K::senton : K::sentsince;
  } else if (w == "LARGER" || w == "SMALLER") {
    p.sp();
    k.kind = w == "LARGER" ? K::larger : K::smaller;
    k.n = static_cast<std::int64_t>(p.number64());
  } else if (w == "UID") {
    p.sp();
    k.kind = K::uids;
    k.set = p.sequence_set();
  } else if (w == "NOT") {
    p.sp();
    k.kind = K::not_;
    k.kids.push_back(parse_key(p, depth + 1));
  } else if (w == "OR") {
    p.sp();
    k.kind = K::or_;
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
    k.kind = K::modseq;
    k.n = static_cast<std::int64_t>(p.number64());
  } else {
    throw ParseError("unknown search key " + w.substr(0, 30));
  }
  return k;
}

}  // namespace

PartialRange parse_partial_range(Parser& p) {
  PartialRange r;
  bool neg = p.try_char('-');
  r.lo = p.number();
  p.expect(':');
  if (neg != p.try_char('-')) throw ParseError("a partial range has both ends on the same side");
  r.hi = p.number();
  if (r.lo == 0 || r.hi == 0) throw ParseError("partial range numbers start at 1");
  if (r.lo > r.hi) std::swap(r.lo, r.hi);
  if (neg) {
    r.lo = -r.lo;
    r.hi = -r.hi;
  }
  return r;
}

namespace {

// RETURN (...) when present; returns the options read (given false without RETURN).
SearchReturn parse_return(Parser& p, bool sort) {
  SearchReturn r;
  if (!starts_with_word(p.rest(), "RETURN")) return r;
  p.keyword();
  p.sp();
  p.expect('(');
  r.given = true;
  while (!p.try_char(')')) {
    if (r.min || r.max || r.count || r.all || r.save || r.update || r.context || r.partial) p.sp();
    std::string o = p.keyword();
    if (o == "MIN") r.min = true;
    else if (o == "MAX") r.max = true;
    else if (o == "COUNT") r.count = true;
    else if (o == "ALL") r.all = true;
    else if (o == "SAVE" && !sort) r.save = true;
    else if (o == "UPDATE") r.update = true;
    else if (o == "CONTEXT") r.context = true;
    else if (o == "PARTIAL") {
      p.sp();
      r.partial = parse_partial_range(p);
    } else {
      throw ParseError("unknown RETURN option " + o.substr(0, 30));
    }
  }
  if (r.all && r.partial) throw ParseError("RETURN ALL and PARTIAL exclude each other");
  // RETURN () means ALL (RFC 4731 3.1); so does a RETURN with only CONTEXT/UPDATE.
  if (!r.min && !r.max && !r.count && !r.save && !r.partial) r.all = true;
  p.sp();
  return r;
}

}  // namespace

bool SearchKey::uses(Kind k) const {
  if (kind == k) return true;
  return std::any_of(kids.begin(), kids.end(), [&](const SearchKey& c) { return c.uses(k); });
}

std::string PartialRange::text() const { return std::to_string(lo) + ":" + std::to_string(hi); }

std::optional<std::pair<std::size_t, std::size_t>> PartialRange::within(std::size_t n) const {
  const auto count = static_cast<std::int64_t>(n);
  std::int64_t first = 0, last = 0;  // 0-based, inclusive
  if (lo > 0) {
    first = lo - 1;
    last = std::min(hi, count) - 1;
  } else {  // -1 is the last result
    first = count + hi;  // hi is the larger magnitude: the earlier end
    last = count + lo;
    first = std::max<std::int64_t>(first, 0);
  }
  if (first >= count || last < first || last < 0) return std::nullopt;
  return std::make_pair(static_cast<std::size_t>(first), static_cast<std::size_t>(last));
}

SearchKey parse_search_keys(Parser& p) {
  SearchKey root;
  root.kind = SearchKey::and_;
  root.kids = parse_keys(p, 0, false);
  return root;
}

SearchCommand parse_search(Parser& p) {
  SearchCommand c;
  p.sp();
  c.ret = parse_return(p, false);
  if (starts_with_word(p.rest(), "CHARSET")) {
    p.keyword();
    p.sp();
    c.charset = upper_ascii(p.astring());
    p.sp();
  }
  c.root = parse_search_keys(p);
  p.end();
  return c;
}

SortCommand parse_sort(Parser& p) {
  using C = SortCriterion;
  SortCommand c;
  p.sp();
  c.ret = parse_return(p, true);
  p.expect('(');
  bool reverse = false;
  do {
    std::string k = p.keyword();
    if (k == "REVERSE") {
      reverse = true;
      continue;
    }
    static const std::pair<const char*, C::Key> known[] = {
        {"ARRIVAL", C::arrival}, {"CC", C::cc},     {"DATE", C::date},           {"FROM", C::from},
        {"SIZE", C::size},       {"SUBJECT", C::subject}, {"TO", C::to}, {"DISPLAYFROM", C::displayfrom},
        {"DISPLAYTO", C::displayto}};
    auto it = std::find_if(std::begin(known), std::end(known), [&](const auto& e) { return k == e.first; });
    if (it == std::end(known)) throw ParseError("unknown sort key " + k.substr(0, 30));
    c.criteria.push_back({it->second, std::exchange(reverse, false)});
  } while (p.try_sp());
  p.expect(')');
  if (reverse || c.criteria.empty()) throw ParseError("REVERSE must precede a sort key");
  p.sp();
  c.charset = upper_ascii(p.astring());
  p.sp();
  c.root = parse_search_keys(p);
  p.end();
  return c;
}

ThreadCommand parse_thread(Parser& p) {
  ThreadCommand c;
  p.sp();
  c.algorithm = p.keyword();
  if (c.algorithm != "ORDEREDSUBJECT" && c.algorithm != "REFERENCES")
    throw ParseError("unknown thread algorithm " + c.algorithm.substr(0, 30));
  p.sp();
  c.charset = upper_ascii(p.astring());
  p.sp();
  c.root = parse_search_keys(p);
  p.end();
  return c;
}

}  // namespace congvu::imap::proto
