// CREATE, DELETE, RENAME, SUBSCRIBE and UNSUBSCRIBE (RFC 9051 6.3.4-6.3.8).

#include "imap/session_impl.hpp"

namespace congvu::imap {

using proto::Parser;
using proto::ParseError;

void Session::cmd_create(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const UnixMs now = c.now;
  p.sp();
  std::string wire = mailbox_arg(p);
  if (p.try_sp()) {  // RFC 6154 CREATE-SPECIAL-USE is not offered: parameters are refused
    throw ParseError("CREATE takes no parameters here");
  }
  p.end();
  auto name = decode_name(wire);
  if (!name) return tagged(tag, "NO", "[CANNOT] the mailbox name is not valid UTF-8 or modified UTF-7");
  auto m = resolve(*name);
  if (!m) return tagged(tag, "NO", "[NOPERM] you cannot create mailboxes there");
  if (m->record) return tagged(tag, "NO", "[ALREADYEXISTS] the mailbox exists");
  if (m->rights.find('k') == std::string::npos) return tagged(tag, "NO", "[NOPERM] no right to create mailboxes");
  auto r = ctx_.store.create(m->account, m->name, now);
  if (!r) return tagged(tag, "NO", (r.error().code == Errc::conflict ? "[ALREADYEXISTS] " : "[CANNOT] ") + r.error().message);
  tagged(tag, "OK", "CREATE completed");
}

void Session::cmd_delete(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  p.sp();
  std::string wire = mailbox_arg(p);
  p.end();
  auto name = decode_name(wire);
  auto m = name ? resolve(*name) : std::nullopt;
  if (!m || !m->record) return tagged(tag, "NO", "[NONEXISTENT] no such mailbox");
  if (m->rights.find('x') == std::string::npos) return tagged(tag, "NO", "[NOPERM] no right to delete this mailbox");
  if (sel_ && sel_->box.id == m->record->id) return tagged(tag, "NO", "[INUSE] close the mailbox first");
  auto r = ctx_.store.remove(m->account, m->name);
  if (!r) return tagged(tag, "NO", (m->name == "INBOX" ? "[CANNOT] " : "[INUSE] ") + r.error().message);
  tagged(tag, "OK", "DELETE completed");
}

void Session::cmd_rename(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const UnixMs now = c.now;
  p.sp();
  std::string a = mailbox_arg(p);
  p.sp();
  std::string b = mailbox_arg(p);
  p.end();
  auto from_name = decode_name(a), to_name = decode_name(b);
  if (!from_name || !to_name) return tagged(tag, "NO", "[CANNOT] bad mailbox name");
  auto from = resolve(*from_name);
  auto to = resolve(*to_name);
  if (!from || !from->record) return tagged(tag, "NO", "[NONEXISTENT] no such mailbox");
  if (!to) return tagged(tag, "NO", "[NOPERM] you cannot create mailboxes there");
  if (from->account != to->account) return tagged(tag, "NO", "[CANNOT] a mailbox cannot move to another owner");
  if (to->record) return tagged(tag, "NO", "[ALREADYEXISTS] the target exists");
  if (from->rights.find('x') == std::string::npos || to->rights.find('k') == std::string::npos)
    return tagged(tag, "NO", "[NOPERM] no right to rename this mailbox");
  auto r = ctx_.store.rename(from->account, from->name, to->name, now);
  if (!r) return tagged(tag, "NO", "[CANNOT] " + r.error().message);
  tagged(tag, "OK", "RENAME completed");
}

void Session::cmd_subscribe(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const bool on = c.name == "SUBSCRIBE";
  p.sp();
  std::string wire = mailbox_arg(p);
  p.end();
  auto name = decode_name(wire);
  auto m = name ? resolve(*name) : std::nullopt;
  // SUBSCRIBE checks that the mailbox exists (RFC 3501 6.3.6 allows it; Dovecot does); a
  // subscription outlives the mailbox's deletion (orphan_subscriptions).
  if (!m || !m->record) {
    if (!on) return tagged(tag, "OK", "UNSUBSCRIBE completed");
    return tagged(tag, "NO", "[NONEXISTENT] no such mailbox");
  }
  auto r = ctx_.store.subscribe(m->account, m->name, on);
  if (!r) return tagged(tag, "NO", "[CANNOT] " + r.error().message);
  tagged(tag, "OK", on ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
}

}  // namespace congvu::imap
