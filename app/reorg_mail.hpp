// The mail side of a reorganisation (directory/reorg.hpp): once a unit is dissolved, the mail in
// its role mailbox moves into the role mailbox of the unit that now stands for it. A merged
// unit's folders arrive under its slug ("INBOX" becomes "ubndtanphu", "Sent" "ubndtanphu/Sent"),
// so the successor's role holders see them as Shared/<successor slug>/<old slug>; a re-coded
// unit keeps its slug, and its folders arrive as they were.
//
// The directory is the source of truth and the mail store another file, so this runs after the
// reorganisation has committed (by `congvu unit reorganise`, then by the server at start and
// every minute) and is idempotent: what was moved is gone from the old account, a crash in
// between leaves the rest for the next run. Each unit whose mail moved is audited `mail.move`.
#pragma once

#include <string>
#include <vector>

#include "directory/directory.hpp"
#include "mailstore/mailstore.hpp"

namespace congvu::app {

struct RoleMailMove {
  std::string from_unit, to_unit;
  std::string folder;  // where the INBOX goes in the successor's role mailbox
  std::uint64_t messages = 0;
};

struct RoleMailReport {
  std::vector<RoleMailMove> moved;
  std::vector<std::string> failed;  // "unit: why"
};

// Where the mail of unit `from` (dissolved into `to`) goes; counts it without moving.
RoleMailMove plan_role_mail(mailstore::Mailstore& store, const directory::Unit& from, const directory::Unit& to);

// Moves the mail of every dissolved unit that still has some.
RoleMailReport move_role_mail(directory::Directory& dir, mailstore::Mailstore& store, UnixMs now);

}  // namespace congvu::app
