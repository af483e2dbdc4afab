// Internal to imap/: the parts of Session shared by its implementation files.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "imap/session.hpp"

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

// Joins numbers into a sequence set: "1:3,7".
std::string to_set(std::vector<std::uint32_t> v);
std::string upper(std::string s);

}  // namespace congvu::imap
