// COPY and MOVE (RFC 9051 6.4.7-6.4.8, RFC 6851, UIDPLUS COPYUID).
#include <algorithm>

#include "imap/session_impl.hpp"

namespace congvu::imap {

using mailstore::MessageRecord;
using mailstore::Uid;
using proto::Parser;
using proto::ParseError;

// ---- COPY / MOVE

void Session::cmd_copy(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const bool uid = c.uid;
  const bool move = c.name == "MOVE";
  const UnixMs now = c.now;
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
