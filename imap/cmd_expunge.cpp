// EXPUNGE and UID EXPUNGE (RFC 9051 6.4.3, UIDPLUS RFC 4315).

#include "imap/session_impl.hpp"

namespace congvu::imap {

using proto::Parser;

void Session::cmd_expunge(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const bool uid = c.uid;
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

}  // namespace congvu::imap
