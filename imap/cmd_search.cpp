// SEARCH and UID SEARCH (RFC 9051 6.4.4, ESEARCH RFC 4731, SEARCHRES RFC 5182).
#include <algorithm>

#include "imap/session_impl.hpp"

namespace congvu::imap {

using proto::Parser;
using proto::ParseError;

void Session::cmd_search(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const bool uid = c.uid;
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

}  // namespace congvu::imap
