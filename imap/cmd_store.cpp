// STORE and UID STORE (RFC 9051 6.4.6, UNCHANGEDSINCE RFC 7162).
#include <algorithm>

#include "imap/session_impl.hpp"

namespace congvu::imap {

using mailstore::MessageRecord;
using mailstore::Uid;
using proto::Parser;
using proto::ParseError;

// ---- STORE

void Session::cmd_store(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const bool uid = c.uid;
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

}  // namespace congvu::imap
