// The directory as an LDAP tree (DIT), held in memory and kept in step with the directory.
//
//   dc=tinhmau,dc=test                      the base, from [directory] domain
//     ou=people                             every person once more, at the stable DN
//       uid=annv                              (binds and base searches, forever)
//     ou=groups
//       cn=lanh-dao                         groupOfNames, member = people's DNs
//     ou=<slug>                             the unit tree, nested as the units are
//       ou=<slug>
//         uid=annv                          inetOrgPerson + congvuPerson, under the current unit
//   cn=Subschema                            the schema subentry; "" is the root DSE
//
// A person's DN under the unit tree changes on transfer; congvuId and entryUUID (the immutable
// id) never do, and `uid=<login>,ou=people,<base>` keeps working. ou=people is a view: a search
// based at or below it sees the people there; one based above it sees them once, in the unit
// tree. Retired people are only under ou=people, for service accounts allowed to see them.
//
// Freshness: every operation first calls refresh(), which compares the audit log's head with
// the view's and applies what changed (one person reloaded per person.* record; units, groups
// or anything unknown rebuild the whole view, about a second for 100 000 people). Every change
// to the directory appends an audit record, so nothing is missed.
//
// Search is planned: equality on uid, mail, employeeNumber, congvuId or entryUUID is a hash
// lookup; substrings, equality and approx on names and addresses use a trigram index over the
// folded name, login and addresses; AND intersects, OR unites; anything else scans the scope.
// Candidates are always checked against the whole filter.
//
// Thread-safety: one Dit is shared by every LDAP session; reads take a shared lock, refresh a
// unique one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/time.hpp"
#include "directory/ldap/proto.hpp"
#include "directory/ldap/schema.hpp"

namespace congvu::directory {
class Directory;
}

namespace congvu::directory::ldap {

struct Identity {
  enum Kind : std::uint8_t { anonymous, person, service } kind = anonymous;
  std::string name;            // the person's login or the service's name
  std::string dn;              // the stable DN, for WhoAmI
  std::vector<Attr> personal;  // personal attributes it may read
  bool see_retired = false;
  bool address_book = false;  // may read people, units and groups (false: root DSE and schema only)
};

struct DitConfig {
  std::string domain;            // the mail domain; the base DN is made from it
  std::size_t size_limit = 1000;  // the most entries a search returns without paging
  std::vector<std::string> sasl_mechanisms = {"PLAIN", "EXTERNAL"};
};

// A paged search in progress (RFC 2696): the matching entries, computed on the first page.
struct PagedSearch {
  std::uint64_t generation = 0;
  std::string fingerprint;  // base, scope, filter and attributes: later pages must repeat them
  std::vector<std::uint64_t> refs;
  std::size_t next = 0;
};
struct PagedSearches {
  std::map<std::string, PagedSearch> open;  // by cookie
  std::uint64_t counter = 0;
};

struct SearchOutcome {
  Code code = Code::success;
  std::string matched, diagnostic;
  std::vector<Control> controls;
  std::size_t entries = 0;
};

class Dit {
 public:
  Dit(Directory& dir, DitConfig cfg);
  ~Dit();
  Dit(const Dit&) = delete;
  Dit& operator=(const Dit&) = delete;

  const std::string& base_dn() const;
  // Applies the directory's changes since the last call.
  void refresh();

  // Runs a search; every entry is encoded and handed to `emit` as it is found.
  SearchOutcome search(int msg_id, const SearchRequest& req, const std::vector<Control>& controls,
                       const Identity& who, PagedSearches& paging, const std::function<void(std::string&&)>& emit);
  // compareTrue/compareFalse, or the error and its message in `diagnostic`.
  Code compare(const CompareRequest& req, const Identity& who, std::string& matched, std::string& diagnostic);

  // What a bind DN names: a person (by login), a service account, or nothing Congvu has.
  struct BindName {
    enum Kind { person, service, none, invalid } kind = none;
    std::string name;
  };
  BindName bind_name(std::string_view dn);
  std::string person_dn(std::string_view login) const;  // the stable DN
  std::string service_dn(std::string_view name) const;
  std::size_t people() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace congvu::directory::ldap
