// SORT and UID SORT (RFC 5256).
#include <algorithm>
#include <map>

#include "imap/session_impl.hpp"
#include "mailstore/mime.hpp"

namespace congvu::imap {

using proto::Parser;
using proto::ParseError;
namespace mime = mailstore::mime;

void Session::cmd_sort(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const bool uid = c.uid;
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

}  // namespace congvu::imap
