// APPEND (RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502), UIDPLUS APPENDUID (RFC 4315) and
// APPENDLIMIT (RFC 7889).
#include <algorithm>

#include "imap/session_impl.hpp"

namespace congvu::imap {

using mailstore::MailboxRecord;
using proto::Parser;
using proto::ParseError;

void Session::cmd_append(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const UnixMs now = c.now;
  p.sp();
  std::string wire = mailbox_arg(p);
  struct One {
    std::uint8_t flags = 0;
    std::vector<std::string> keywords;
    UnixMs date = 0;
    std::string data;
  };
  std::vector<One> msgs;
  while (p.try_sp()) {
    One o;
    o.date = now;
    if (p.peek('(')) {
      for (const auto& f : p.flag_list()) {
        std::string u = upper(f);
        if (u == "\\SEEN") o.flags |= mailstore::seen;
        else if (u == "\\ANSWERED") o.flags |= mailstore::answered;
        else if (u == "\\FLAGGED") o.flags |= mailstore::flagged;
        else if (u == "\\DELETED") o.flags |= mailstore::deleted;
        else if (u == "\\DRAFT") o.flags |= mailstore::draft;
        else if (u == "\\RECENT") throw ParseError("\\Recent cannot be set");
        else if (f.starts_with("\\")) throw ParseError("unknown system flag " + f);
        else if (std::find(o.keywords.begin(), o.keywords.end(), f) == o.keywords.end()) o.keywords.push_back(f);
      }
      p.sp();
    }
    if (p.peek('"')) {
      auto d = proto::parse_date_time(p.string());
      if (!d) throw ParseError("bad date-time");
      o.date = *d;
      p.sp();
    }
    if (p.at_literal()) {
      o.data = p.literal();
    } else {
      if (p.keyword() != "UTF8") throw ParseError("expected a literal");
      p.sp();
      p.expect('(');
      o.data = p.literal();
      p.expect(')');
    }
    msgs.push_back(std::move(o));
    if (p.at_end()) break;
  }
  p.end();
  if (msgs.empty()) throw ParseError("APPEND needs a message");
  auto name = decode_name(wire);
  auto m = name ? resolve(*name) : std::nullopt;
  if (!m) return tagged(tag, "NO", "[TRYCREATE] no such mailbox");
  if (!m->record) return tagged(tag, "NO", "[TRYCREATE] no such mailbox");
  if (m->rights.find('i') == std::string::npos) return tagged(tag, "NO", "[NOPERM] no right to append here");
  std::uint64_t total = 0;
  for (const auto& o : msgs) {
    if (o.data.empty()) return tagged(tag, "NO", "empty message");
    if (o.data.size() > cfg_.max_message_bytes) return tagged(tag, "NO", "[TOOBIG] message larger than APPENDLIMIT");
    if ((o.flags & mailstore::seen) && m->rights.find('s') == std::string::npos)
      return tagged(tag, "NO", "[NOPERM] no right to set \\Seen");
    total += o.data.size();
  }
  if (!ctx_.store.fits(m->account, total)) return tagged(tag, "NO", "[OVERQUOTA] the mailbox is full");
  // MULTIAPPEND: one transaction for all the messages, so that all or none are stored.
  std::vector<mailstore::Delivery> deliveries;
  for (auto& o : msgs) {
    mailstore::Delivery d;
    d.data = std::move(o.data);
    d.internal_date = o.date;
    d.targets.emplace_back(m->account, m->name, o.flags, o.keywords);
    d.enforce_quota = true;
    deliveries.push_back(std::move(d));
  }
  auto r = ctx_.store.deliver_all(deliveries);
  if (!r) {
    bool quota = r.error().message.find("quota") != std::string::npos;
    return tagged(tag, "NO", (quota ? "[OVERQUOTA] " : "[SERVERBUG] ") + r.error().message);
  }
  std::vector<std::uint32_t> uids;
  std::uint32_t validity = 0;
  for (const auto& receipt : *r) {
    validity = receipt.placed.front().uidvalidity;
    uids.push_back(receipt.placed.front().uid.v);
  }
  if (sel_ && sel_->box.id == m->record->id) sync(true);
  tagged(tag, "OK", "[APPENDUID " + std::to_string(validity) + " " + to_set(uids) + "] APPEND completed");
}

}  // namespace congvu::imap
