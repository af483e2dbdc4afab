// APPEND (RFC 9051 6.3.12) with MULTIAPPEND (RFC 3502), UIDPLUS APPENDUID (RFC 4315) and
// APPENDLIMIT (RFC 7889).
#include <algorithm>
#include <strings.h>

#include "imap/proto/url.hpp"
#include "imap/session_impl.hpp"

namespace congvu::imap {

using mailstore::MailboxRecord;
using proto::Parser;
using proto::ParseError;

std::optional<std::string> Session::url_bytes(const std::string& text, std::string& why) {
  auto url = proto::parse_imap_url(text);
  if (!url) {
    why = "not an IMAP URL naming a message";
    return std::nullopt;
  }
  if (url->urlauth) {
    why = "URLAUTH is not offered";
    return std::nullopt;
  }
  // An absolute URL must name this server and the person logged in (RFC 4469 5: nothing is
  // fetched from elsewhere or with another's rights).
  if (url->host && strcasecmp(url->host->c_str(), cfg_.hostname.c_str()) != 0) {
    why = "the URL names another server";
    return std::nullopt;
  }
  if (url->user && strcasecmp(url->user->c_str(), login_.c_str()) != 0) {
    why = "the URL names another user";
    return std::nullopt;
  }
  std::optional<Mailbox> m;
  if (url->relative_mailbox) {
    if (sel_) m = resolve(sel_->visible);
  } else {
    m = resolve(url->mailbox);
  }
  if (!m || !m->record || m->rights.find('r') == std::string::npos) {
    why = "no such mailbox, or no right to read it";
    return std::nullopt;
  }
  if (url->uidvalidity && *url->uidvalidity != m->record->uidvalidity) {
    why = "UIDVALIDITY has changed";
    return std::nullopt;
  }
  auto records = ctx_.store.messages(m->record->id, mailstore::Uid{url->uid}, mailstore::Uid{url->uid});
  auto data = records.empty() ? std::nullopt : ctx_.store.try_body(records.front());
  if (!data) {
    why = "no such message";
    return std::nullopt;
  }
  std::string out;
  if (url->section.empty()) {
    out = std::move(*data);
  } else {
    proto::FetchItem item;
    item.kind = proto::FetchItem::section;
    try {
      proto::parse_section(url->section, item.part, item.what, item.fields);
    } catch (const proto::ParseError&) {
      why = "bad SECTION";
      return std::nullopt;
    }
    auto root = mailstore::mime::parse(*data);
    bool unknown_cte = false;
    auto bytes = section_bytes(item, *data, root, unknown_cte);
    if (!bytes) {
      why = "no such section";
      return std::nullopt;
    }
    out = std::move(*bytes);
  }
  if (url->partial) {
    auto [offset, length] = *url->partial;
    out = offset >= out.size() ? std::string() : out.substr(offset, length.value_or(std::string::npos));
  }
  return out;
}

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
    std::vector<std::pair<bool, std::string>> pieces;  // CATENATE: (is URL, text or URL)
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
    } else if (std::string k = p.keyword(); k == "CATENATE") {  // RFC 4469
      p.sp();
      p.expect('(');
      do {
        std::string part = p.keyword();
        p.sp();
        if (part == "TEXT") {
          o.pieces.emplace_back(false, p.literal());
        } else if (part == "URL") {
          o.pieces.emplace_back(true, p.astring());
        } else if (part == "UTF8") {  // RFC 6855 3
          p.expect('(');
          o.pieces.emplace_back(false, p.literal());
          p.expect(')');
        } else {
          throw ParseError("CATENATE takes TEXT and URL parts");
        }
        if (o.pieces.size() > 1000) throw ParseError("too many CATENATE parts");
      } while (p.try_sp());
      p.expect(')');
    } else {
      if (k != "UTF8") throw ParseError("expected a literal");
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
  for (auto& o : msgs) {  // CATENATE: the parts put together, URLs read with this person's rights
    for (auto& [is_url, piece] : o.pieces) {
      if (!is_url) {
        o.data += piece;
      } else {
        std::string why;
        auto bytes = url_bytes(piece, why);
        if (!bytes) return tagged(tag, "NO", "[BADURL " + piece + "] " + why);
        o.data += *bytes;
      }
      if (o.data.size() > cfg_.max_message_bytes) return tagged(tag, "NO", "[TOOBIG] message larger than APPENDLIMIT");
    }
  }
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
