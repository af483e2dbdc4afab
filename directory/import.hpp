// Bulk operations that read the province's CSV formats (see ../shared/tools/gen_province.py):
//   units.csv   code,parent_code,kind,name,slug
//   staff.csv   staff_no,full_name,family,middle,given,gender,birth_date,unit_code,position
//               (family/middle/given/gender/birth_date optional)
//   credentials staff_no,password_hash   ({ARGON2}, {SSHA}, {SSHA512}, {CRYPT}; nothing hashed)
//   events.csv  seq,effective_date,staff_no,kind,from_unit,to_unit,position,decision_no,full_name
// Both run inside one Change, so that the caller's write transaction makes them all-or-nothing:
// an import with one bad row returns `file:line: reason` and nothing is written.
#pragma once

#include <string>
#include <vector>

#include "directory/directory.hpp"

namespace congvu::directory {

struct CsvFile {
  std::string name;  // as the admin typed it, for messages
  std::string text;
};

struct ImportReport {
  std::size_t units_added = 0, units_unchanged = 0, people_added = 0, credentials = 0;
  // Merge imports: old addresses kept as aliases, new addresses whose local part differs from
  // the old one (taken here: the next suffix), unit slugs that were taken (slug2, ...).
  std::size_t aliases = 0, addresses_changed = 0, slugs_changed = 0;
};

// Merging another province's directory into this one (the 2025 reform merged provinces):
// its units go under `under` with their codes rewritten (`recode_from` at the end of a code
// replaced by `recode_to`, e.g. H29 -> H30, since both provinces number their agencies alike),
// their slugs kept unless taken here (then the suffix rule: sonv2); staff numbers get
// `staff_prefix`. Every person gets an address under this province's domain by the usual rule,
// a collision taking the next suffix, and keeps the one they had at `domain` as an alias: the
// `address` column of staff.csv when present, else the rule applied within their own province
// in file order (what their previous system issued). Units keep their old role address
// (slug@domain) the same way. `domain` must be one of
// Settings::merged_domains, so that mail to the old addresses is accepted.
struct MergeImport {
  std::string domain;
  std::string under;  // empty: this province's top unit
  std::string recode_from, recode_to;
  std::string staff_prefix;
};

// `date` is the day the imported assignments started, or empty when the export does not say
// (staff.csv has no start dates): later events of any date then apply on top of them.
Result<ImportReport> import_csv(Change& c, const CsvFile* units, const CsvFile* staff,
                                const CsvFile* credentials, const std::string& date);
// All in one transaction (the caller's): nothing is imported unless everything is.
Result<ImportReport> import_merge(Change& c, const CsvFile& units, const CsvFile& staff, const CsvFile* credentials,
                                  const MergeImport& m, const std::string& date);

struct EventOutcome {
  std::uint64_t seq = 0;
  std::string message;
};

struct EventsReport {
  std::size_t applied = 0, pending = 0, already_applied = 0;
  std::vector<EventOutcome> failed;
};

// Applies, in (effective date, seq) order, every event dated on or before `as_of`, records the
// later ones as pending, and skips those already applied (so a file can be replayed). An
// event that cannot apply is reported with its seq and reason; with stop_on_error the whole
// run fails instead (and, through the transaction, nothing is applied). A malformed file fails
// with `file:line: reason`.
Result<EventsReport> apply_events(Change& c, const CsvFile& events, const std::string& as_of,
                                  bool stop_on_error);

struct PendingEvent {
  std::uint64_t seq = 0;
  std::string date, staff_no, kind, from_unit, to_unit, position, decision, full_name;
};

// The events recorded as pending by apply_events(), in seq order.
std::vector<PendingEvent> pending_events(Snapshot& s);
// Applies one pending event now (its date has come: directory/hr.hpp run_due). On failure the
// event is dropped from the pending list and audited as `event.failed`.
Status apply_pending_event(Change& c, std::uint64_t seq);

}  // namespace congvu::directory
