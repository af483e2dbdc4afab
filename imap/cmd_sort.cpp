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
  const bool uid = c.uid;
  auto cmd = proto::parse_sort(c.p);
  if (cmd.ret.save || cmd.ret.update || cmd.ret.context) {
    // ESORT without CONTEXT=SORT: SAVE is for SEARCH, UPDATE and CONTEXT are not offered for SORT.
    if (!cmd.ret.update && !cmd.ret.context) return bad(c.tag, "SAVE is not a SORT return option");
  }
  auto matched = search_with_summaries(cmd.charset, std::move(cmd.root), c.tag);
  if (!matched) return;
  using Row = Matched;
  using K = proto::SortCriterion;
  std::vector<Row>& rows = *matched;
  auto cmp_key = [&](const Row& a, const Row& b, K::Key k) -> int {
    auto c3 = [](const auto& x, const auto& y) { return x < y ? -1 : y < x ? 1 : 0; };
    switch (k) {
      case K::arrival: return c3(a.r.internal_date, b.r.internal_date);
      case K::date: return c3(a.s.date ? a.s.date : a.r.internal_date, b.s.date ? b.s.date : b.r.internal_date);
      case K::size: return c3(a.r.size, b.r.size);
      case K::subject: return c3(a.s.subject, b.s.subject);
      case K::from: return c3(a.s.from, b.s.from);
      case K::to: return c3(a.s.to, b.s.to);
      case K::cc: return c3(a.s.cc, b.s.cc);
      case K::displayfrom: return c3(text::fold(a.s.display_from), text::fold(b.s.display_from));
      case K::displayto: return c3(text::fold(a.s.display_to), text::fold(b.s.display_to));
    }
    return 0;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    for (const auto& crit : cmd.criteria) {
      int v = cmp_key(a, b, crit.key);
      if (v != 0) return crit.reverse ? v > 0 : v < 0;
    }
    return a.r.uid < b.r.uid;
  });
  std::vector<std::uint32_t> ids;
  ids.reserve(rows.size());
  for (const auto& row : rows) ids.push_back(uid ? row.r.uid.v : sel_->msn(row.r.uid.v));
  if (cmd.ret.given) {  // ESORT (RFC 5267 3)
    untagged(esearch_line(c.tag, uid, cmd.ret, ids, true));
  } else {
    std::string line = "SORT";
    for (auto id : ids) line += " " + std::to_string(id);
    untagged(line);
  }
  sync(uid);
  tagged(c.tag, "OK", "SORT completed");
}

}  // namespace congvu::imap
