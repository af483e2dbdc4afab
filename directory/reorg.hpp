// Reorganisations (sắp xếp tổ chức bộ máy): units added, renamed, re-parented, re-coded, merged
// and split by one decision, as the 2025 reform did when it abolished the district level.
//
// A reorganisation is a list of steps applied in order inside one directory transaction: all of
// them or none. Every step is checked (authority: province-admin over each unit it touches;
// units that exist and are not dissolved; no cycle) before it writes, and every write is
// audited under the decision, so the audit records a run appends are exactly its changes: a
// dry run applies the same steps in a transaction that is then rolled back, and lists them.
//
//   add       UNIT  parent=TARGET kind name slug     a new unit
//   rename    UNIT  name                             the name changes; code, slug, address stay
//   reparent  UNIT  TARGET = the new parent          the unit and its subtree move in the tree
//   move      UNIT  TARGET [people] [position]       people (all when none named) move into
//                                                    TARGET (a split names them part by part)
//   merge     UNIT  TARGET                           everyone moves to TARGET, sub-units are
//                                                    re-parented to it, UNIT is dissolved into it
//   recode    UNIT  TARGET = the new code            a unit record under the new code takes the
//                                                    people, sub-units, slug and role address
//
// People moved keep their id, login, address, aliases, mailbox, credentials and second factor;
// their history gets an assignment of kind `reorganisation` under the decision. A dissolved
// unit keeps its record (with the date, successor and decision) for the history, leaves the
// tree, and hands over: every address that delivered to it (its role address, and those of
// units dissolved into it earlier) now delivers to the successor; derived groups and scheduled
// changes naming it now name the successor. Rights follow only a re-code: after a merge the
// successor is larger, so admin grants over the merged unit are revoked and clients bound to
// it lose their role (audited), to be granted over the successor by decision. Its role
// mailbox's mail moves into the successor's afterwards (app/reorg_mail.hpp), since the mail
// store is another file.
// Thread-safety: free functions on a Change, which belongs to its callback.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "directory/directory.hpp"
#include "directory/hr.hpp"

namespace congvu::directory {

enum class ReorgOp : std::uint8_t { add, rename, reparent, move, merge, recode };
const char* reorg_op_name(ReorgOp op);

struct ReorgStep {
  ReorgOp op = ReorgOp::merge;
  std::string unit;    // the unit the step acts on (add: the new unit's code)
  std::string target;  // add, reparent: the parent; move, merge: the receiving unit; recode: the new code
  std::string name, slug;             // add (both), rename (name)
  UnitKind kind = UnitKind::division;  // add
  std::vector<std::string> people;    // move: logins, addresses, staff numbers or ids; empty: all
  std::string position;               // move: the position in the new unit (empty: unchanged)
  std::string where;                  // "plan.csv:4", prefixed to its errors
};

struct Reorganisation {
  std::string decision;  // required, e.g. 1656/NQ-UBTVQH15
  std::string date;      // effective date YYYY-MM-DD
  std::string reason;    // free text, audited with the people moved
  std::vector<ReorgStep> steps;
};

// A plan file (CSV with a header): op,unit,target,name,slug,kind,people,position — columns
// after `target` may be left out; `people` is space-separated. Errors name the file and line.
Result<std::vector<ReorgStep>> parse_plan(std::string_view text, const std::string& source);

struct ReorgOutcome {
  std::vector<AuditRecord> changes;  // every change made, as audited, in order
  std::size_t people_moved = 0;
  std::vector<std::string> dissolved;  // unit codes
};

// Applies every step, or returns the first error (prefixed with the step's `where`) and leaves
// the caller to roll back: Directory::write does, Directory::preview always does.
Result<ReorgOutcome> reorganise(Change& c, const Authority& who, const Reorganisation& r);

// The unit that now stands for `code`: itself while it exists, else its successor's, and so on.
// Empty when `code` is unknown.
std::string current_unit(Snapshot& s, std::string_view code);

// Units dissolved by a reorganisation (record kept, out of the tree), oldest code order.
std::vector<Unit> dissolved_units(Snapshot& s);

}  // namespace congvu::directory
