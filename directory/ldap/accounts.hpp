// LDAP service accounts: the named systems (a document-management server, the HR software's
// sync job) that bind as `cn=NAME,ou=services,<base>` and may read more than the address
// book. Stored in the directory's `ldap_service` table, managed by `congvu ldap service`;
// every change is audited. The password is generated (256 bits), shown once and kept as an
// Argon2id hash.
// What a service may read beyond the address book is listed per account: personal data
// (employeeNumber, congvuBirthDate, congvuGender; Decree 13/2023) and retired people.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"

namespace congvu::directory {
class Change;
class Snapshot;
}  // namespace congvu::directory

namespace congvu::directory::ldap {

struct ServiceAccount {
  std::string name;  // [a-z0-9-], at most 64
  std::string description;
  std::string password_hash;            // {ARGON2}...
  std::vector<std::string> attributes;  // personal attributes it may read (canonical names)
  bool retired = false;                 // may see retired people (under ou=people)
  UnixMs created = 0;
};

std::string encode(const ServiceAccount& s);
ServiceAccount decode_service(std::string_view v);

// Adds (or with `replace`, replaces, issuing a new password) an account; returns its password.
Result<std::string> add_service(Change& c, ServiceAccount account, bool replace);
Status remove_service(Change& c, std::string_view name);
std::optional<ServiceAccount> find_service(Snapshot& s, std::string_view name);
std::vector<ServiceAccount> list_services(Snapshot& s);

}  // namespace congvu::directory::ldap
