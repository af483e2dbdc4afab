#include "directory/model.hpp"

#include <algorithm>

#include "common/codec.hpp"

namespace congvu::directory {
namespace {
// Record versions: bump when a field is added, and keep decoding the old ones.
constexpr std::uint8_t kPersonV1 = 1, kUnitV1 = 1, kUnitV2 = 2, kAssignV1 = 1, kGroupV1 = 1, kGroupV2 = 2, kCredV1 = 1,
                       kAuditV1 = 1;

void expect_version(codec::Reader& r, std::uint8_t v, const char* what) {
  if (r.u8() != v) throw codec::DecodeError(std::string("unknown ") + what + " record version");
}

template <class E>
E enum_from(std::uint8_t v, std::uint8_t max, const char* what) {
  if (v > max) throw codec::DecodeError(std::string("bad ") + what);
  return static_cast<E>(v);
}
}  // namespace

const char* status_name(PersonStatus s) {
  switch (s) {
    case PersonStatus::active: return "active";
    case PersonStatus::suspended: return "suspended";
    case PersonStatus::retired: return "retired";
  }
  return "?";
}

std::optional<PersonStatus> parse_status(std::string_view s) {
  if (s == "active") return PersonStatus::active;
  if (s == "suspended") return PersonStatus::suspended;
  if (s == "retired") return PersonStatus::retired;
  return std::nullopt;
}

const char* kind_name(UnitKind k) {
  switch (k) {
    case UnitKind::province: return "province";
    case UnitKind::department: return "department";
    case UnitKind::district: return "district";
    case UnitKind::division: return "division";
    case UnitKind::commune: return "commune";
  }
  return "?";
}

std::optional<UnitKind> parse_kind(std::string_view s) {
  for (auto k : {UnitKind::province, UnitKind::department, UnitKind::district, UnitKind::division,
                 UnitKind::commune})
    if (s == kind_name(k)) return k;
  return std::nullopt;
}

const char* assignment_kind_name(AssignmentKind k) {
  switch (k) {
    case AssignmentKind::import: return "import";
    case AssignmentKind::hire: return "hire";
    case AssignmentKind::transfer: return "transfer";
    case AssignmentKind::rotation: return "rotation";
    case AssignmentKind::appointment: return "appointment";
    case AssignmentKind::reorganisation: return "reorganisation";
  }
  return "?";
}

std::string encode(const Person& p) {
  codec::Writer w;
  w.u8(kPersonV1).str(p.staff_no).str(p.full_name).str(p.family).str(p.middle).str(p.given)
      .str(p.folded).str(p.login).str(p.address).strs(p.aliases).u8(static_cast<std::uint8_t>(p.status))
      .str(p.gender).str(p.birth_date).str(p.unit).str(p.position).varint(p.assignments)
      .i64(p.created).i64(p.updated);
  return w.take();
}

Person decode_person(std::string_view id_key, std::string_view v) {
  codec::Reader r(v);
  Person p;
  auto id = PersonId::from_bytes(id_key);
  if (!id) throw codec::DecodeError("bad person key");
  p.id = *id;
  expect_version(r, kPersonV1, "person");
  p.staff_no = r.str();
  p.full_name = r.str();
  p.family = r.str();
  p.middle = r.str();
  p.given = r.str();
  p.folded = r.str();
  p.login = r.str();
  p.address = r.str();
  p.aliases = r.strs();
  p.status = enum_from<PersonStatus>(r.u8(), 2, "person status");
  p.gender = r.str();
  p.birth_date = r.str();
  p.unit = r.str();
  p.position = r.str();
  p.assignments = static_cast<std::uint32_t>(r.varint());
  p.created = r.i64();
  p.updated = r.i64();
  r.expect_done();
  return p;
}

std::string encode(const Unit& u) {
  codec::Writer w;
  bool v2 = !u.dissolved.empty();
  w.u8(v2 ? kUnitV2 : kUnitV1).str(u.code).str(u.parent).u8(static_cast<std::uint8_t>(u.kind)).str(u.name)
      .str(u.slug).str(u.role_address).i64(u.created);
  if (v2) w.str(u.dissolved).str(u.successor).str(u.dissolved_by);
  return w.take();
}

Unit decode_unit(std::string_view v) {
  codec::Reader r(v);
  Unit u;
  auto version = r.u8();
  if (version != kUnitV1 && version != kUnitV2) throw codec::DecodeError("unknown unit record version");
  u.code = r.str();
  u.parent = r.str();
  u.kind = enum_from<UnitKind>(r.u8(), 4, "unit kind");
  u.name = r.str();
  u.slug = r.str();
  u.role_address = r.str();
  u.created = r.i64();
  if (version == kUnitV2) {
    u.dissolved = r.str();
    u.successor = r.str();
    u.dissolved_by = r.str();
  }
  r.expect_done();
  return u;
}

std::string encode(const Assignment& a) {
  codec::Writer w;
  w.u8(kAssignV1).str(a.unit).str(a.position).str(a.from).str(a.to).str(a.decision)
      .str(a.closed_by).u8(static_cast<std::uint8_t>(a.kind));
  return w.take();
}

Assignment decode_assignment(std::string_view key, std::string_view v) {
  if (key.size() != PersonId::kSize + 4) throw codec::DecodeError("bad assignment key");
  Assignment a;
  a.person = *PersonId::from_bytes(key.substr(0, PersonId::kSize));
  a.index = codec::get_be32(key.substr(PersonId::kSize));
  codec::Reader r(v);
  expect_version(r, kAssignV1, "assignment");
  a.unit = r.str();
  a.position = r.str();
  a.from = r.str();
  a.to = r.str();
  a.decision = r.str();
  a.closed_by = r.str();
  a.kind = enum_from<AssignmentKind>(r.u8(), 5, "assignment kind");
  r.expect_done();
  return a;
}

const char* posting_name(GroupPosting p) {
  switch (p) {
    case GroupPosting::members: return "members";
    case GroupPosting::staff: return "staff";
    case GroupPosting::anyone: return "anyone";
  }
  return "members";
}

std::optional<GroupPosting> parse_posting(std::string_view s) {
  if (s == "members") return GroupPosting::members;
  if (s == "staff") return GroupPosting::staff;
  if (s == "anyone") return GroupPosting::anyone;
  return std::nullopt;
}

std::string encode(const Group& g) {
  codec::Writer w;
  w.u8(kGroupV2).str(g.name).str(g.title).u8(static_cast<std::uint8_t>(g.kind)).str(g.unit)
      .u8(g.subtree ? 1 : 0).strs(g.positions).i64(g.created)
      .u8(static_cast<std::uint8_t>(g.posting)).strs(g.senders);
  return w.take();
}

Group decode_group(std::string_view v) {
  codec::Reader r(v);
  Group g;
  auto version = r.u8();
  if (version != kGroupV1 && version != kGroupV2) throw codec::DecodeError("unknown group record version");
  g.name = r.str();
  g.title = r.str();
  g.kind = enum_from<GroupKind>(r.u8(), 1, "group kind");
  g.unit = r.str();
  auto subtree = r.u8();
  if (subtree > 1) throw codec::DecodeError("group subtree flag is not 0 or 1");
  g.subtree = subtree == 1;
  g.positions = r.strs();
  g.created = r.i64();
  if (version == kGroupV2) {  // v1 records: members only, no named senders
    g.posting = enum_from<GroupPosting>(r.u8(), 2, "group posting policy");
    g.senders = r.strs();
  }
  r.expect_done();
  return g;
}

std::string encode(const Credential& c) {
  codec::Writer w;
  w.u8(kCredV1).str(c.password_hash).str(c.scram_sha256).i64(c.updated);
  return w.take();
}

Credential decode_credential(std::string_view v) {
  codec::Reader r(v);
  Credential c;
  expect_version(r, kCredV1, "credential");
  c.password_hash = r.str();
  c.scram_sha256 = r.str();
  c.updated = r.i64();
  r.expect_done();
  return c;
}

std::string encode_audit_body(const AuditRecord& a) {
  codec::Writer w;
  w.u8(kAuditV1).varint(a.seq).i64(a.time).str(a.actor).str(a.action).str(a.target)
      .str(a.reason).str(a.detail).str(a.prev_hash);
  return w.take();
}

std::string encode(const AuditRecord& a) {
  codec::Writer w;
  w.raw(encode_audit_body(a)).str(a.hash);
  return w.take();
}

AuditRecord decode_audit(std::string_view v) {
  codec::Reader r(v);
  AuditRecord a;
  expect_version(r, kAuditV1, "audit");
  a.seq = r.varint();
  a.time = r.i64();
  a.actor = r.str();
  a.action = r.str();
  a.target = r.str();
  a.reason = r.str();
  a.detail = r.str();
  a.prev_hash = r.str();
  a.hash = r.str();
  r.expect_done();
  return a;
}

bool in_derived_group(const Group& g, const Person& p, const std::vector<std::string>& ancestors) {
  if (g.kind != GroupKind::unit_derived || p.status != PersonStatus::active || p.unit.empty()) return false;
  bool unit_ok = g.unit.empty() || (g.subtree ? std::find(ancestors.begin(), ancestors.end(), g.unit) != ancestors.end()
                                              : p.unit == g.unit);
  bool position_ok = g.positions.empty() || std::find(g.positions.begin(), g.positions.end(), p.position) != g.positions.end();
  return unit_ok && position_ok;
}

}  // namespace congvu::directory
