// The directory's model (DESIGN.md, "The directory's model"): people, units, assignments,
// groups, credentials and audit records, and their stored encodings.
// Plain value types; encode_*/decode_* are pure and throw codec::DecodeError on corrupt input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.hpp"
#include "common/time.hpp"

namespace congvu::directory {

enum class PersonStatus : std::uint8_t { active = 0, suspended = 1, retired = 2 };
const char* status_name(PersonStatus s);
std::optional<PersonStatus> parse_status(std::string_view s);

enum class UnitKind : std::uint8_t { province = 0, department, district, division, commune };
const char* kind_name(UnitKind k);
std::optional<UnitKind> parse_kind(std::string_view s);

// How an assignment began.
enum class AssignmentKind : std::uint8_t { import = 0, hire, transfer, rotation, appointment, reorganisation };
const char* assignment_kind_name(AssignmentKind k);

struct Person {
  PersonId id;
  std::string staff_no;
  std::string full_name;  // NFC, family name first
  std::string family, middle, given;
  std::string folded;     // text::fold(full_name)
  std::string login;      // local part of the primary address
  std::string address;    // primary address, lowercase
  std::vector<std::string> aliases;
  PersonStatus status = PersonStatus::active;
  // Personal data (Decree 13/2023): stored, never released unless configured per client.
  std::string gender, birth_date;
  // The current (open) assignment, copied from the assignment table for fast reads;
  // empty once retired.
  std::string unit, position;
  std::uint32_t assignments = 0;  // how many assignments the history holds
  UnixMs created = 0, updated = 0;
};

struct Unit {
  std::string code;    // national agency-code shape, e.g. 000.00.01.H99
  std::string parent;  // empty for the province
  UnitKind kind = UnitKind::division;
  std::string name;    // NFC
  std::string slug;    // unique; the local part of the unit's role mailbox
  std::string role_address;
  UnixMs created = 0;
  // Set when a reorganisation dissolved the unit (merged into another, or re-coded): the
  // record stays for the history of the people who served in it, out of the unit tree.
  std::string dissolved;   // YYYY-MM-DD, empty while the unit exists
  std::string successor;   // the unit that took over its people, role address and mail
  std::string dissolved_by;  // the decision
};

// person x unit x position x [from, to) x decision. `to` is empty while open.
struct Assignment {
  PersonId person;
  std::uint32_t index = 0;  // 0-based position in the person's history
  std::string unit, position;
  std::string from, to;  // YYYY-MM-DD, Asia/Ho_Chi_Minh; `from` is empty when unknown (imports)
  std::string decision;  // the decision that opened it, e.g. 862/QĐ-UBND
  std::string closed_by; // the decision that closed it
  AssignmentKind kind = AssignmentKind::import;
};

enum class GroupKind : std::uint8_t { static_members = 0, unit_derived = 1 };

// Who may send to a group's address (checked by SMTP at RCPT): its members and the named
// senders (the default), any authenticated member of staff, or anyone including mail from
// outside the province.
enum class GroupPosting : std::uint8_t { members = 0, staff = 1, anyone = 2 };
const char* posting_name(GroupPosting p);
std::optional<GroupPosting> parse_posting(std::string_view s);

// A distribution list or access group. Derived groups hold the current members of `unit`
// (and its subtree when `subtree`), or of the whole province when `unit` is empty, whose
// position is one of `positions` (any position when empty).
struct Group {
  std::string name;  // [a-z0-9-], also the local part of its address
  std::string title;
  GroupKind kind = GroupKind::static_members;
  std::string unit;
  bool subtree = true;
  std::vector<std::string> positions;
  UnixMs created = 0;
  GroupPosting posting = GroupPosting::members;
  std::vector<std::string> senders;  // person ids allowed to post besides the members
};

// Whether `p` belongs to the unit-derived group `g` now; `ancestors` is p's unit and every unit
// above it.
bool in_derived_group(const Group& g, const Person& p, const std::vector<std::string>& ancestors);

struct Credential {
  std::string password_hash;  // "{ARGON2}$argon2id$...", or an imported {SSHA}/{SSHA512}/{CRYPT}
  std::string scram_sha256;   // "SCRAM-SHA-256$iter:salt$StoredKey:ServerKey", empty until known
  UnixMs updated = 0;
};

struct AuditRecord {
  std::uint64_t seq = 0;
  UnixMs time = 0;
  std::string actor;   // who: "cli:root", an admin's login
  std::string action;  // what: "person.transfer"
  std::string target;  // person id, unit code, group name
  std::string reason;  // why: the decision number or the admin's note
  std::string detail;  // compact JSON of the change
  std::string prev_hash, hash;  // 32 raw bytes each; hash = SHA-256(prev_hash || body)
};

std::string encode(const Person& p);
std::string encode(const Unit& u);
std::string encode(const Assignment& a);
std::string encode(const Group& g);
std::string encode(const Credential& c);
// The audit body (everything but `hash`), the bytes that the hash covers.
std::string encode_audit_body(const AuditRecord& r);
std::string encode(const AuditRecord& r);

Person decode_person(std::string_view id_key, std::string_view v);
Unit decode_unit(std::string_view v);
Assignment decode_assignment(std::string_view key, std::string_view v);
Group decode_group(std::string_view v);
Credential decode_credential(std::string_view v);
AuditRecord decode_audit(std::string_view v);

}  // namespace congvu::directory
