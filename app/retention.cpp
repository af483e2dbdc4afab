#include "app/retention.hpp"

#include <algorithm>

#include "directory/hr.hpp"

namespace congvu::app {

PurgeReport purge_retired(directory::Directory& dir, mailstore::Mailstore& store, std::string_view today, UnixMs now,
                          bool dry_run) {
  PurgeReport rep;
  auto due = dir.read([&](directory::Snapshot& s) { return directory::retention_due(s, today); });
  for (const auto& entry : due) {
    const PersonId& id = entry.first;  // not a structured binding: the lambdas below capture it
    const directory::Retirement& r = entry.second;
    auto p = dir.read([&](directory::Snapshot& s) { return s.person(id); });
    PurgeReport::Person row{id.str(), p ? p->address : std::string(), r.keep_until, 0};
    std::string account = mailstore::person_account(id);
    std::string why;
    auto boxes = store.list(account);
    // Children before their parents: a mailbox with children cannot be removed.
    std::sort(boxes.begin(), boxes.end(), [](const auto& a, const auto& b) { return a.name.size() > b.name.size(); });
    for (const auto& box : boxes) {
      std::vector<mailstore::Uid> uids;
      for (const auto& m : store.messages(box.id)) uids.push_back(m.uid);
      row.messages += uids.size();
      if (dry_run) continue;
      if (!uids.empty()) {
        mailstore::FlagChange del;
        del.flags = mailstore::Flag::deleted;
        if (auto flagged = store.store_flags(box.id, uids, del); !flagged) why = flagged.error().message;
        else if (auto gone = store.expunge(box.id, uids); !gone) why = gone.error().message;
      }
      if (why.empty() && box.name != "INBOX")
        if (auto removed = store.remove(account, box.name); !removed) why = removed.error().message;
      if (!why.empty()) break;
    }
    if (why.empty() && !dry_run) {
      auto marked = dir.write(directory::Actor{"system:retention"}, now, [&](directory::Change& c) {
        return directory::mark_purged(c, id, today, row.messages);
      });
      if (!marked) why = marked.error().message;
    }
    if (!why.empty()) rep.failed.push_back(row.address + ": " + why);
    else rep.people.push_back(std::move(row));
  }
  return rep;
}

}  // namespace congvu::app
