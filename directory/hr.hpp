// HR administration: who may change whom (unit-scoped admin roles), and the lifecycle changes
// with their effective dates (hire, transfer, rotation, appointment, suspension, resumption,
// retirement), applied at once or scheduled for their date.
//
// Roles are granted to people (`congvu admin grant`) or bound to OAuth clients (`congvu client
// add --role --unit`), always over a unit subtree:
//   province-admin  everything in its subtree (granted over the province: everything)
//   hr-admin        hires into, and changes the people of, its subtree; may transfer them out
//   auditor         reads people and the audit log of its subtree; changes nothing
// Every decision is made here, server-side, whatever the front end (SCIM, the admin page, the
// CLI with an acting admin), and the change it allows is audited with its decision number.
//
// Effective dates are calendar dates in Asia/Ho_Chi_Minh. A change dated after today is
// checked now (authority, person, units) and kept in the `scheduled` table; run_due() applies
// what has come due, each in its own transaction, audited under the admin who scheduled it.
// Thread-safety: free functions on a Snapshot/Change (which belong to their callback);
// run_due() takes the Directory.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "directory/directory.hpp"

namespace congvu::directory {

enum class Role : std::uint8_t { province_admin = 0, hr_admin = 1, auditor = 2 };
const char* role_name(Role r);
std::optional<Role> parse_role(std::string_view s);

struct Grant {
  PersonId person;
  Role role = Role::auditor;
  std::string unit;        // the root of the subtree it covers
  std::string decision;    // the decision that granted it
  std::string granted_by;  // the actor
  UnixMs created = 0;
};

std::vector<Grant> list_grants(Snapshot& s);
std::vector<Grant> grants_of(Snapshot& s, const PersonId& id);
// Errors: not_found (person, unit), conflict (held already; the person is not active).
Result<Grant> grant_role(Change& c, const PersonId& id, Role role, std::string unit, std::string decision);
Status revoke_role(Change& c, const PersonId& id, Role role, std::string_view unit);
// The first province administrator, over the top unit; refused once any province-admin exists.
Result<Grant> admin_init(Change& c, const PersonId& id);

// What an actor may do: the union of its role scopes.
struct Scope {
  Role role;
  std::string unit;
};

class Authority {
 public:
  Authority() = default;
  Authority(std::string actor, std::vector<Scope> scopes) : actor_(std::move(actor)), scopes_(std::move(scopes)) {}
  // The CLI run by the operator on the server: the whole province.
  static Authority root(std::string actor);

  const std::string& actor() const { return actor_; }
  const std::vector<Scope>& scopes() const { return scopes_; }
  bool any() const { return !scopes_.empty(); }
  bool can_write() const;  // holds a role that changes people
  bool is_province_admin(Snapshot& s) const;  // province-admin over the top unit

  // Whether `unit` lies in a subtree this actor reads / writes.
  bool reads_unit(Snapshot& s, std::string_view unit) const;
  bool writes_unit(Snapshot& s, std::string_view unit) const;
  // Whether a province-admin role of this actor covers `unit` (reorganisations).
  bool administers_unit(Snapshot& s, std::string_view unit) const;
  // People are judged by their current unit; retired people by the unit they left.
  bool reads_person(Snapshot& s, const Person& p) const;
  // Writing a person also needs every role they hold to lie strictly inside one of this
  // actor's writing scopes: nobody changes a person whose grant covers a unit containing
  // (or equal to) their own scope, e.g. a district's hr-admin cannot suspend the province-admin.
  bool writes_person(Snapshot& s, const Person& p) const;
  bool outranked_by(Snapshot& s, const Person& target) const;
  // The unit codes whose members this actor reads (roots of its read subtrees), for listings.
  std::vector<std::string> read_roots() const;

 private:
  bool covers(Snapshot& s, std::string_view unit, bool (*allowed)(Role)) const;
  std::string actor_;
  std::vector<Scope> scopes_;
};

// The authority of a person (their grants) and of an OAuth client (its bound role and unit).
Authority authority_of(Snapshot& s, const Person& p);
Authority authority_of_client(Snapshot& s, std::string_view client_id);
// The authority behind an audit actor string: "admin:LOGIN" (their grants now), "client:ID"
// (its binding now); anything else is the operator on the server (Authority::root).
Authority authority_of_actor(Snapshot& s, std::string_view actor);

// The unit a person belongs to for scoping: the current one, or for a retired person the one
// they retired from.
std::string scope_unit(Snapshot& s, const Person& p);

enum class LifeKind : std::uint8_t { hire = 0, transfer, rotation, appointment, suspend, resume, retire };
const char* life_kind_name(LifeKind k);
std::optional<LifeKind> parse_life_kind(std::string_view s);

struct LifeChange {
  LifeKind kind = LifeKind::transfer;
  PersonId person;           // everything but hire
  HireSpec hire;             // hire: who, where, staff number (hire.date, hire.decision unused)
  std::string to_unit;       // transfer, rotation; appointment: empty keeps the unit
  std::string position;      // empty keeps the position
  std::string expect_from;   // when set, the person's unit must be this one (when applied)
  std::string date;          // effective date YYYY-MM-DD; empty: today
  std::string decision;      // required for hire, transfer, rotation, appointment, retirement
  std::string reason;        // free text, audited
  std::string successor;     // retirement: mail to the address goes to this person (id/login/address)
};

struct LifeOutcome {
  bool scheduled = false;
  bool proposed = false;           // a proposal awaiting an administrator over the target unit
  std::uint64_t number = 0;        // the scheduled change's or the proposal's number
  std::optional<Person> person;    // after the change (applied), or as it is now (scheduled)
  std::string activation_code;     // hire: the one-time code that sets the first password
};

// Checks `who` may make the change and applies it now (date <= today) or schedules it. A move
// (transfer, rotation, appointment to another unit) by an actor who covers the person but not
// the target unit becomes a proposal instead (LifeOutcome::proposed).
// Errors: forbidden (scope), invalid_argument, not_found, conflict; nothing is written then.
Result<LifeOutcome> apply_change(Change& c, const Authority& who, const LifeChange& lc, std::string_view today,
                                 UnixMs activation_ttl = 14LL * 24 * 3600 * 1000);

struct ScheduledChange {
  std::uint64_t number = 0;
  LifeChange change;
  std::string actor;  // who scheduled it
  UnixMs created = 0;
};

std::vector<ScheduledChange> scheduled_changes(Snapshot& s, const std::optional<PersonId>& person = std::nullopt);
Status cancel_scheduled(Change& c, const Authority& who, std::uint64_t number);
// A reorganisation dissolved `from_unit`: scheduled changes going to it, or expecting the person
// in it, now name `to_unit` (each audited `schedule.retarget`). Returns how many.
std::size_t retarget_scheduled(Change& c, std::string_view from_unit, std::string_view to_unit);

// Proposals: moves into a unit the proposer does not cover, kept until an administrator over
// the target accepts them (checked again then, the proposer's authority included; applied or
// scheduled by date) or refuses them with a reason (audited `proposal.refuse`, which the
// proposer reads on the person's page). The proposer may withdraw one the same way.
std::vector<ScheduledChange> proposals(Snapshot& s);
// Whether `who` takes part in a proposal: covers the person (the proposing side) or the target.
bool sees_proposal(Snapshot& s, const Authority& who, const ScheduledChange& p);
bool may_accept(Snapshot& s, const Authority& who, const ScheduledChange& p);
Result<LifeOutcome> accept_proposal(Change& c, const Authority& who, std::uint64_t number, std::string_view today);
Status refuse_proposal(Change& c, const Authority& who, std::uint64_t number, std::string_view reason);

struct DueReport {
  std::size_t applied = 0;
  std::vector<std::pair<std::uint64_t, std::string>> failed;  // number (or event seq) and why
};
// Applies the scheduled changes and pending events.csv rows dated on or before `today`, oldest
// first, each in its own transaction; one that cannot apply any more (the person moved
// meanwhile) is dropped and audited as `schedule.failed` with the reason.
DueReport run_due(Directory& dir, std::string_view today, UnixMs now);

// The person's manager: the first active head (a position beginning Giám đốc, Chủ tịch,
// Trưởng or Chánh) of their unit other than themselves, else of the unit above, and so on.
// Derived at every read from ids, so it never points at a stale entry after a transfer.
std::optional<Person> manager_of(Snapshot& s, const Person& p);

// Retirement arrangements: where mail to a retired person's addresses goes.
struct Retirement {
  std::string successor;   // person id (raw string form) or empty
  std::string keep_until;  // the mailbox is kept until this date (YYYY-MM-DD)
  std::string purged;      // when the mailbox was emptied after keep_until (empty: not yet)
};
std::optional<Retirement> retirement_of(Snapshot& s, const PersonId& id);
Retirement decode_retirement(std::string_view v);
// Retirements whose mailbox is kept no longer (keep_until before `today`) and not yet emptied.
std::vector<std::pair<PersonId, Retirement>> retention_due(Snapshot& s, std::string_view today);
// Records that the person's mailbox was emptied today (audited `mailbox.purge`).
Status mark_purged(Change& c, const PersonId& id, std::string_view today, std::uint64_t messages);

}  // namespace congvu::directory
