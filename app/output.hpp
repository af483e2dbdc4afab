// How the admin commands print directory objects: readable text, or JSON (--json) for
// scripts. JSON never includes credentials; it includes birth date and gender only in
// `person show` (an admin's own command on the data folder).
#pragma once

#include <string>
#include <vector>

#include "directory/directory.hpp"
#include "directory/hr.hpp"
#include "directory/import.hpp"

namespace congvu::app {

std::string person_json(const directory::Person& p, const std::vector<directory::Assignment>* history,
                        bool personal_data);
std::string person_text(const directory::Person& p, const std::vector<directory::Assignment>& history,
                        const std::string& unit_name);
std::string unit_json(const directory::Unit& u, const std::vector<directory::Person>* holders);
std::string people_json(const std::vector<directory::Person>& people);
std::string audit_json(const std::vector<directory::AuditRecord>& records);
std::string import_json(const directory::ImportReport& r);
std::string events_json(const directory::EventsReport& r);
std::string pending_json(const std::vector<directory::PendingEvent>& events);
std::string scheduled_json(const std::vector<directory::ScheduledChange>& changes, const std::vector<std::string>& who);
std::string groups_json(const std::vector<directory::Group>& groups);
std::string error_json(const Error& e);

}  // namespace congvu::app
