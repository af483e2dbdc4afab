// The end of a retired person's retention period: once `keep_until` (retirement date +
// [directory] retention_years) has passed, every message in their mailboxes is expunged,
// their folders other than INBOX removed, and the retirement record marked purged (audited
// `mailbox.purge` with the count). The person, the address (still delivering to the successor
// or answered by the notice) and the history stay. Idempotent: a crash between the expunge and
// the mark repeats nothing but the mark. The server runs it with the scheduled changes (at
// start and every minute); `congvu mail purge-retired [--dry-run]` runs it by hand.
#pragma once

#include <string>
#include <vector>

#include "directory/directory.hpp"
#include "mailstore/mailstore.hpp"

namespace congvu::app {

struct PurgeReport {
  struct Person {
    std::string id, address, keep_until;
    std::uint64_t messages = 0;
  };
  std::vector<Person> people;
  std::vector<std::string> failed;  // "address: why"
};

PurgeReport purge_retired(directory::Directory& dir, mailstore::Mailstore& store, std::string_view today, UnixMs now,
                          bool dry_run);

}  // namespace congvu::app
