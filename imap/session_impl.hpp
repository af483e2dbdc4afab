// Internal to imap/: the parts of Session shared by its implementation files.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "common/text.hpp"
#include "imap/session.hpp"
#include "mailstore/mime.hpp"

namespace congvu::imap {

struct Session::Mailbox {
  std::string account;  // "p:<id>" or "u:<unit code>"
  std::string name;     // the stored name ("INBOX", "Sent", "Dự án/2026")
  std::string visible;  // what the client sees ("Shared/so-tai-chinh/Sent")
  std::optional<mailstore::MailboxRecord> record;  // when it exists
  std::string rights;   // RFC 4314 letters for this person
};

struct Session::Selected {
  mailstore::MailboxRecord box;
  std::string visible;
  std::string rights;
  bool read_only = false;
  bool shared = false;                // a unit's official inbox (rights follow the position)
  std::vector<std::uint32_t> uids;    // message sequence number - 1 -> UID
  mailstore::ModSeq modseq = 0;       // everything up to here has been reported
  std::set<std::pair<std::uint32_t, mailstore::ModSeq>> own;  // changes this session reported itself
  std::vector<std::uint32_t> pending_expunged;  // seen but not yet reported (during FETCH ...)
  std::vector<std::uint32_t> saved;   // SEARCHRES "$" (UIDs)
  std::set<std::uint32_t> recent;     // \Recent for this session (UIDs; rev1)
  std::size_t recent_reported = 0;    // the count it last heard
  std::set<std::string> keywords;     // announced in FLAGS to this session
  std::uint32_t msn(std::uint32_t uid) const {
    auto it = std::lower_bound(uids.begin(), uids.end(), uid);
    return it != uids.end() && *it == uid ? static_cast<std::uint32_t>(it - uids.begin() + 1) : 0;
  }
};

struct Session::Matched {
  mailstore::MessageRecord r;
  mailstore::mime::Summary s;
  bool reply = false;  // the subject had a reply/forward marker (RFC 5256)
};

// One command as dispatched: the parser stands after the command name.
struct Session::Command {
  proto::Parser& p;
  std::string tag;
  std::string name;  // upper case, without "UID "
  bool uid = false;  // the UID form ("UID FETCH ...")
  UnixMs now = 0;
};

// A row of the command table (commands.cpp). The dispatcher checks the state and the UID form
// before the handler runs, so a handler never tests them again.
struct Session::CommandSpec {
  enum Needs : unsigned {
    any_state = 0,
    before_auth = 1,     // only before login (STARTTLS, LOGIN, AUTHENTICATE)
    auth = 2,            // logged in (authenticated or selected state)
    selected = 4,        // a mailbox selected (implies auth)
    rights = 8,          // the selected mailbox's rights are checked again first (NO [NOPERM])
    uid_form = 16,       // "UID <name>" is allowed
  };
  std::string_view name;
  void (Session::*run)(Command&);
  unsigned needs;
};

// Joins numbers into a sequence set: "1:3,7".
std::string to_set(std::vector<std::uint32_t> v);
// The same in the order given, runs that ascend by one joined ("5,3:4,9" for 5 3 4 9).
std::string ordered_set(const std::vector<std::uint32_t>& v);
// The results a PARTIAL range selects (RFC 9394), in their order.
std::vector<std::uint32_t> page_of(const std::vector<std::uint32_t>& v, const proto::PartialRange& r);
std::string upper(std::string s);
// UIDs as the store's type.
std::vector<mailstore::Uid> as_uids(const std::vector<std::uint32_t>& v);
// LIST pattern matching: '*' matches anything, '%' anything but the hierarchy delimiter.
bool matches(std::string_view pat, std::string_view name);
bool is_inbox(std::string_view n);
// Mailbox names as stored: "INBOX" upper case, also as the first level ("inbox/x").
std::string canonical(std::string n);
// Reads a mailbox name argument.
inline std::string mailbox_arg(proto::Parser& p) { return p.astring(); }
// SEARCH, SORT and THREAD charsets.
inline bool known_charset(const std::string& cs) { return cs == "UTF-8" || cs == "US-ASCII"; }
// The bytes a BODY[...] or BINARY[...] item names in message `data` (FETCH, CATENATE URLs);
// nullopt when the part does not exist (or, for BINARY, is a multipart or has an encoding not
// known: then unknown_cte is set).
std::optional<std::string> section_bytes(const proto::FetchItem& a, const std::string& data,
                                         const mailstore::mime::Part& root, bool& unknown_cte);
// Literals before login are limited to this (RFC 9051 allows a server to limit them).
inline constexpr std::uint64_t kPreAuthLiteral = 8192;

}  // namespace congvu::imap
