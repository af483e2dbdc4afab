// LIST and LSUB (RFC 9051 6.3.9, LIST-EXTENDED RFC 5258, LIST-STATUS RFC 5819, SPECIAL-USE
// RFC 6154) and STATUS (RFC 9051 6.3.11, STATUS=SIZE RFC 8438).
#include <algorithm>

#include "imap/session_impl.hpp"

namespace congvu::imap {

using mailstore::MailboxRecord;
using proto::Parser;
using proto::ParseError;

namespace {
struct ListEntry {
  std::string name;  // visible, UTF-8
  std::optional<MailboxRecord> record;
  bool noselect = false;
  bool nonexistent = false;  // subscribed only (RFC 5258 \NonExistent)
  bool children = false;
  bool subscribed = false;
  std::string special;
};
}  // namespace

void Session::cmd_list(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const bool lsub = c.name == "LSUB";
  // LIST [(selection)] reference (pattern | (patterns)) [RETURN (options)]
  p.sp();
  bool sel_subscribed = false, sel_special = false, recursive = false;
  if (!lsub && p.peek('(')) {
    p.expect('(');
    while (!p.try_char(')')) {
      p.try_sp();
      std::string o = p.keyword();
      if (o == "SUBSCRIBED") sel_subscribed = true;
      else if (o == "SPECIAL-USE") sel_special = true;
      else if (o == "RECURSIVEMATCH") recursive = true;
      else if (o == "REMOTE") {
      } else
        throw ParseError("unknown LIST selection option " + o);
    }
    p.sp();
  }
  if (recursive && !sel_subscribed) throw ParseError("RECURSIVEMATCH needs another selection option");
  std::string ref_wire = mailbox_arg(p);
  p.sp();
  std::vector<std::string> patterns;
  if (!lsub && p.peek('(')) {
    p.expect('(');
    do {
      patterns.push_back(p.astring());
    } while (p.try_sp());
    p.expect(')');
  } else {
    patterns.push_back(p.astring());
  }
  bool ret_subscribed = false, ret_children = false, ret_special = false, extended = sel_subscribed || sel_special;
  std::vector<std::string> ret_status;
  if (!lsub && p.try_sp()) {
    extended = true;
    if (p.keyword() != "RETURN") throw ParseError("expected RETURN");
    p.sp();
    p.expect('(');
    while (!p.try_char(')')) {
      p.try_sp();
      std::string o = p.keyword();
      if (o == "SUBSCRIBED") ret_subscribed = true;
      else if (o == "CHILDREN") ret_children = true;
      else if (o == "SPECIAL-USE") ret_special = true;
      else if (o == "STATUS") {
        p.sp();
        p.expect('(');
        do {
          ret_status.push_back(p.keyword());
        } while (p.try_sp());
        p.expect(')');
      } else
        throw ParseError("unknown LIST return option " + o);
    }
  }
  p.end();
  (void)ret_special;  // special-use attributes are always sent (RFC 6154 allows it)
  // \HasChildren/\HasNoChildren: on a basic LIST, or when RETURN (CHILDREN) asks (RFC 5258 4).
  const bool child_info = !lsub && (!extended || ret_children);
  auto ref = decode_name(ref_wire);
  if (!ref) return tagged(tag, "NO", "[CANNOT] bad reference name");
  // LIST "" "": the hierarchy delimiter.
  if (!lsub && patterns.size() == 1 && patterns[0].empty()) {
    untagged("LIST (\\Noselect) \"/\" \"\"");
    return tagged(tag, "OK", "LIST completed");
  }
  // Gather every mailbox visible to this person.
  auto who = accessor();
  std::vector<ListEntry> all;
  auto add_account = [&](const std::string& account) {
    for (auto& r : ctx_.store.list(account)) {
      ListEntry e;
      e.name = visible(account, r.name);
      if (e.name.empty()) continue;
      e.subscribed = r.subscribed;
      e.special = mailstore::special_use_attr(r.use);
      e.record = std::move(r);
      all.push_back(std::move(e));
    }
  };
  add_account(account_);
  for (const auto& r : who.roles) add_account(r);
  for (auto& name : ctx_.store.orphan_subscriptions(account_)) {
    ListEntry e;
    e.name = visible(account_, name);
    if (e.name.empty()) continue;
    e.nonexistent = e.noselect = e.subscribed = true;
    all.push_back(std::move(e));
  }
  // Other people's mailboxes shared with this person (RFC 4314 'l' right), under Users/<login>/.
  for (auto& [r, rights] : ctx_.store.shared_with(account_)) {
    if (rights.find('l') == std::string::npos || r.account == account_) continue;
    ListEntry e;
    e.name = visible(r.account, r.name);
    if (e.name.empty()) continue;
    e.subscribed = false;
    e.record = std::move(r);
    all.push_back(std::move(e));
  }
  // Their parents ("Users", "Users/<login>") are listed as \Noselect levels.
  std::set<std::string> parents;
  for (const auto& e : all) {
    if (!e.name.starts_with("Users/")) continue;
    parents.insert("Users");
    parents.insert(e.name.substr(0, e.name.find('/', 6)));
  }
  for (const auto& name : parents) {
    if (std::any_of(all.begin(), all.end(), [&](const ListEntry& o) { return o.name == name; })) continue;
    ListEntry e;
    e.name = name;
    e.noselect = true;
    all.push_back(e);
  }
  if (!roles_.empty()) {
    ListEntry e;
    e.name = "Shared";
    e.noselect = true;
    all.push_back(e);
  }
  // LSUB (RFC 3501 6.3.9): the levels above a subscribed name are listed \Noselect when the
  // pattern's % stops there, whether or not they exist.
  if (lsub) {
    std::set<std::string> have;
    for (const auto& e : all) have.insert(e.name);
    std::vector<ListEntry> levels;
    for (const auto& e : all) {
      if (!e.subscribed) continue;
      for (auto i = e.name.find('/'); i != std::string::npos; i = e.name.find('/', i + 1))
        if (have.insert(e.name.substr(0, i)).second) {
          ListEntry l;
          l.name = e.name.substr(0, i);
          l.nonexistent = l.noselect = true;
          levels.push_back(std::move(l));
        }
    }
    for (auto& l : levels) all.push_back(std::move(l));
  }
  std::sort(all.begin(), all.end(), [](const ListEntry& a, const ListEntry& b) { return a.name < b.name; });
  for (auto& e : all) {
    std::string prefix = e.name + "/";
    e.children = std::any_of(all.begin(), all.end(),
                             [&](const ListEntry& o) { return !o.nonexistent && o.name.starts_with(prefix); });
  }
  std::string status_items;
  for (const auto& w : ret_status) status_items += (status_items.empty() ? "" : " ") + w;
  auto hits = [&](const std::string& candidate) {
    for (const auto& pat_wire : patterns) {
      auto pat = decode_name(pat_wire);
      if (!pat) continue;
      std::string pattern = *ref + *pat;
      // INBOX matches case-insensitively.
      if (is_inbox(std::string_view(pattern).substr(0, 5)) && candidate.starts_with("INBOX"))
        pattern = "INBOX" + pattern.substr(5);
      if (matches(pattern, candidate)) return true;
    }
    return false;
  };
  for (auto& e : all) {
    if (!hits(e.name)) continue;
    if (lsub && !e.subscribed) {
      // A level above a subscribed name: listed \Noselect when that name itself does not match.
      std::string prefix = e.name + "/";
      bool below = std::any_of(all.begin(), all.end(), [&](const ListEntry& o) {
        return o.subscribed && o.name.starts_with(prefix) && !hits(o.name);
      });
      if (below) untagged("LSUB (\\Noselect) \"/\" " + encode_name(e.name));
      continue;
    }
    if (e.nonexistent && !(lsub || sel_subscribed)) continue;  // subscribed only: not in a plain LIST
    bool childinfo = false;
    if ((lsub || sel_subscribed) && !e.subscribed) {
      // RFC 5258 3.5: with RECURSIVEMATCH a mailbox whose children match is listed with
      // CHILDINFO even though it does not match itself.
      std::string prefix = e.name + "/";
      childinfo = recursive && std::any_of(all.begin(), all.end(), [&](const ListEntry& o) {
                    return o.subscribed && o.name.starts_with(prefix);
                  });
      if (!childinfo) continue;
    }
    if (sel_special && e.special.empty()) continue;
    std::string attrs;
    auto add = [&](const std::string& a) { attrs += (attrs.empty() ? "" : " ") + a; };
    if (!lsub) {
      if (e.nonexistent) add("\\NonExistent");  // implies \Noselect (RFC 5258 3)
      else if (e.noselect) add("\\Noselect");
      if (child_info) add(e.children ? "\\HasChildren" : "\\HasNoChildren");
      if (e.subscribed && (ret_subscribed || sel_subscribed)) add("\\Subscribed");
      if (!e.special.empty()) add(e.special);  // RFC 6154: always shown
    } else if (e.noselect && !e.nonexistent) {
      add("\\Noselect");
    }
    untagged(std::string(lsub ? "LSUB" : "LIST") + " (" + attrs + ") \"/\" " + encode_name(e.name) +
             (childinfo ? " (\"CHILDINFO\" (\"SUBSCRIBED\"))" : ""));
    if (!ret_status.empty() && e.record) {
      std::string saved = out_;
      out_.clear();
      status_for(*e.record, ret_status, encode_name(e.name));
      out_ = saved + out_;
    }
  }
  tagged(tag, "OK", std::string(lsub ? "LSUB" : "LIST") + " completed");
}

void Session::status_for(const MailboxRecord& r, const std::vector<std::string>& items, const std::string& wire_name) {
  std::string out;
  auto add = [&](const std::string& k, std::uint64_t v) { out += (out.empty() ? "" : " ") + k + " " + std::to_string(v); };
  for (const auto& item : items) {
    if (item == "MESSAGES") add(item, r.messages);
    else if (item == "UIDNEXT") add(item, r.uidnext);
    else if (item == "UIDVALIDITY") add(item, r.uidvalidity);
    else if (item == "UNSEEN") add(item, r.unseen);
    else if (item == "RECENT") add(item, r.uidnext > r.first_recent ? ctx_.store.messages(r.id, mailstore::Uid{r.first_recent}, mailstore::Uid{r.uidnext - 1}).size() : 0);
    else if (item == "SIZE") add(item, r.bytes);
    else if (item == "HIGHESTMODSEQ") add(item, r.highest_modseq);
    else if (item == "APPENDLIMIT") add(item, cfg_.max_message_bytes);
    else if (item == "DELETED") {
      std::uint64_t n = 0;
      for (const auto& m : ctx_.store.messages(r.id))
        if (m.flags & mailstore::deleted) ++n;
      add(item, n);
    } else
      throw ParseError("unknown STATUS item " + item);
  }
  untagged("STATUS " + wire_name + " (" + out + ")");
}

void Session::cmd_status(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  p.sp();
  std::string wire = mailbox_arg(p);
  p.sp();
  p.expect('(');
  std::vector<std::string> items;
  do {
    items.push_back(p.keyword());
  } while (p.try_sp());
  p.expect(')');
  p.end();
  static const char* known[] = {"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "RECENT", "SIZE", "HIGHESTMODSEQ", "APPENDLIMIT", "DELETED"};
  for (const auto& i : items)
    if (std::none_of(std::begin(known), std::end(known), [&](const char* k) { return i == k; }))
      return bad(tag, "unknown STATUS item " + i);
  auto name = decode_name(wire);
  auto m = name ? resolve(*name) : std::nullopt;
  if (!m || !m->record) return tagged(tag, "NO", "[NONEXISTENT] no such mailbox");
  if (m->rights.find('r') == std::string::npos) return tagged(tag, "NO", "[NOPERM] no right to read this mailbox");
  if (std::find(items.begin(), items.end(), "HIGHESTMODSEQ") != items.end()) condstore_ = true;
  // A STATUS of the selected mailbox reports its changes first.
  if (sel_ && sel_->box.id == m->record->id) sync(true);
  status_for(*m->record, items, encode_name(m->visible));
  tagged(tag, "OK", "STATUS completed");
}

}  // namespace congvu::imap
