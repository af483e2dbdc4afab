// SEARCH and UID SEARCH (RFC 9051 6.4.4, ESEARCH RFC 4731, SEARCHRES RFC 5182).
#include <algorithm>

#include "imap/session_impl.hpp"

namespace congvu::imap {

using proto::Parser;
using proto::ParseError;

std::string Session::esearch_line(const std::string& tag, bool uid, const proto::SearchReturn& ret,
                                  const std::vector<std::uint32_t>& ids, bool sorted) const {
  std::string line = "ESEARCH (TAG " + proto::quoted_or_literal(tag) + ")";
  if (uid) line += " UID";
  if (!ids.empty()) {
    // For SORT, MIN and MAX are the first and last in sort order (RFC 5267 3.1, as Dovecot).
    if (ret.min) line += " MIN " + std::to_string(sorted ? ids.front() : *std::min_element(ids.begin(), ids.end()));
    if (ret.max) line += " MAX " + std::to_string(sorted ? ids.back() : *std::max_element(ids.begin(), ids.end()));
    if (ret.all) line += " ALL " + (sorted ? ordered_set(ids) : to_set(ids));
  }
  if (ret.count) line += " COUNT " + std::to_string(ids.size());
  if (ret.partial) {
    auto page = page_of(ids, *ret.partial);
    std::string found = page.empty() ? "NIL" : sorted ? ordered_set(page) : to_set(page);
    line += " PARTIAL (" + ret.partial->text() + " " + found + ")";
  }
  if (search_modseq_ && !ids.empty()) line += " MODSEQ " + std::to_string(search_modseq_);
  return line;
}

void Session::cmd_search(Command& c) {
  const bool uid = c.uid;
  auto cmd = proto::parse_search(c.p);
  if (cmd.charset && !known_charset(*cmd.charset))
    return tagged(c.tag, "NO", "[BADCHARSET (UTF-8 US-ASCII)] unsupported charset");
  auto& ret = cmd.ret;
  if (rev2_ && !ret.given) {
    ret.given = true;
    ret.all = true;
  }
  search_modseq_ = 0;
  std::vector<std::uint32_t> uids;
  for (const auto& r : run_search(std::move(cmd.root))) uids.push_back(r.uid.v);
  if (ret.save) sel_->saved = ret.partial ? page_of(uids, *ret.partial) : uids;  // RFC 9394 3.1
  std::vector<std::uint32_t> ids;
  for (auto u : uids) ids.push_back(uid ? u : sel_->msn(u));
  if (!ret.given) {
    std::string line = "SEARCH";
    for (auto i : ids) line += " " + std::to_string(i);
    if (search_modseq_ && !ids.empty()) line += " (MODSEQ " + std::to_string(search_modseq_) + ")";
    untagged(line);
  } else if (ret.any_result()) {
    untagged(esearch_line(c.tag, uid, ret, ids, false));
  }
  sync(uid);
  tagged(c.tag, "OK", "SEARCH completed");
}

}  // namespace congvu::imap
