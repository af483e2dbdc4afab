// Writes to the directory. Each operation reads and validates everything first and writes
// only when it cannot fail any more, then appends its audit record; so an Error return means
// nothing was written, and Directory::write() can commit or roll back the whole transaction.
#include "common/codec.hpp"
#include <algorithm>
#include "common/crypto.hpp"
#include "common/json.hpp"
#include "common/text.hpp"
#include "directory/directory.hpp"
#include "directory/tokens.hpp"

namespace congvu::directory {
namespace {

Error invalid(std::string m) { return make_error(Errc::invalid_argument, std::move(m)); }
Error conflict(std::string m) { return make_error(Errc::conflict, std::move(m)); }
Error not_found(std::string m) { return make_error(Errc::not_found, std::move(m)); }

std::string gone(const Unit& u) {
  return "unit " + u.code + " was dissolved on " + u.dissolved + " by " + u.dissolved_by + "; its successor is " + u.successor;
}

// The value of a `name` entry (middle = unit) or a `member` entry (middle = position):
// status byte, middle, '\0', folded name, ' ', login (see schema.hpp).
std::string index_value(const Person& p, const std::string& middle) {
  std::string v(1, static_cast<char>(p.status));
  v += middle;
  v += '\0';
  v += p.folded;
  v += ' ';
  v += p.login;
  return v;
}

std::vector<std::string> name_tokens(const Person& p) {
  auto toks = text::fold_tokens(p.full_name);
  toks.push_back(p.login);
  std::sort(toks.begin(), toks.end());
  toks.erase(std::unique(toks.begin(), toks.end()), toks.end());
  return toks;
}

}  // namespace

void Change::put_person(const Person* before, const Person& after) {
  std::string id(after.id.bytes());
  if (before) {
    if (!before->unit.empty()) del(schema::member, schema::join0(before->unit, id));
    for (const auto& t : name_tokens(*before)) del(schema::name, schema::join0(t, id));
    if (before->login != after.login) del(schema::login, before->login);
  }
  // Keep the per-token counts that let search start from its most selective token.
  auto before_toks = before ? name_tokens(*before) : std::vector<std::string>{};
  auto after_toks = name_tokens(after);
  auto bump = [&](const std::string& tok, int delta) {
    std::uint32_t n = 0;
    if (auto v = t_.get(schema::token_count, tok)) n = codec::get_be32(*v);
    n = static_cast<std::uint32_t>(static_cast<std::int64_t>(n) + delta);
    if (n == 0) {
      del(schema::token_count, tok);
    } else {
      std::string v;
      codec::put_be32(v, n);
      put(schema::token_count, tok, v);
    }
  };
  for (const auto& t : before_toks)
    if (!std::binary_search(after_toks.begin(), after_toks.end(), t)) bump(t, -1);
  for (const auto& t : after_toks)
    if (!std::binary_search(before_toks.begin(), before_toks.end(), t)) bump(t, +1);
  put(schema::person, id, encode(after));
  put(schema::login, after.login, id);
  put(schema::staffno, after.staff_no, id);
  // Addresses are never deleted: once issued, an address stays with its person for life.
  put(schema::addr, after.address, "P" + id);
  for (const auto& a : after.aliases) put(schema::addr, a, "P" + id);
  if (!after.unit.empty()) put(schema::member, schema::join0(after.unit, id), index_value(after, after.position));
  std::string nv = index_value(after, after.unit);
  for (const auto& t : name_tokens(after)) put(schema::name, schema::join0(t, id), nv);
}

void Change::audit(std::string action, std::string target, std::string reason, std::string detail) {
  AuditRecord r;
  auto head = t_.get(schema::meta, "audit_head");
  if (head && head->size() == 40) {
    r.seq = codec::get_be64(*head) + 1;
    r.prev_hash = std::string(head->substr(8));
  } else {
    r.seq = 1;
    r.prev_hash = std::string(32, '\0');
  }
  r.time = now_;
  r.actor = actor_.name;
  r.action = std::move(action);
  r.target = std::move(target);
  r.reason = std::move(reason);
  r.detail = std::move(detail);
  auto digest = crypto::sha256(r.prev_hash + encode_audit_body(r));
  r.hash.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
  std::string key;
  codec::put_be64(key, r.seq);
  put(schema::audit, key, encode(r));
  std::string h;
  codec::put_be64(h, r.seq);
  h += r.hash;
  put(schema::meta, "audit_head", h);
}

Result<Unit> Change::add_unit(const NewUnit& nu) {
  if (!valid_unit_code(nu.code))
    return invalid("unit code '" + nu.code + "' is not valid (letters, digits, '.', '-', '_', e.g. 000.00.01.H99)");
  if (unit(nu.code)) return conflict("unit " + nu.code + " already exists");
  if (!nu.parent.empty()) {
    auto parent = unit(nu.parent);
    if (!parent) return not_found("parent unit " + nu.parent + " does not exist");
    if (!parent->dissolved.empty()) return conflict(gone(*parent));
  }
  if (nu.parent.empty() && nu.kind != UnitKind::province)
    return invalid("only the province may have no parent (give --parent)");
  if (!valid_text(nu.name)) return invalid("unit name must be 1..512 bytes of UTF-8 without control characters");
  if (!valid_slug(nu.slug)) return invalid("slug '" + nu.slug + "' must be [a-z0-9-], 1..64 characters");
  Unit u;
  u.code = nu.code;
  u.parent = nu.parent;
  u.kind = nu.kind;
  u.name = text::nfc(nu.name);
  u.slug = nu.slug;
  u.role_address = nu.slug + "@" + settings_.domain;
  u.created = now_;
  if (t_.get(schema::addr, u.role_address) || t_.get(schema::login, u.slug))
    return conflict("address " + u.role_address + " is already taken (choose another slug)");
  put(schema::unit, u.code, encode(u));
  put(schema::unit_child, schema::join0(u.parent, u.code), "");
  put(schema::addr, u.role_address, "U" + u.code);
  audit("unit.add", u.code, nu.decision,
        json_object({{"parent", u.parent}, {"kind", kind_name(u.kind)}, {"name", u.name}, {"slug", u.slug}}));
  return u;
}

Result<std::string> Change::allocate_local_part(const std::string& base) {
  std::uint32_t n = 0;
  if (auto v = t_.get(schema::addr_base, base)) n = codec::get_be32(*v);
  for (;;) {
    ++n;
    std::string local = address_candidate(base, n);
    if (!t_.get(schema::addr, local + "@" + settings_.domain) && !t_.get(schema::login, local)) {
      std::string v;
      codec::put_be32(v, n);
      put(schema::addr_base, base, v);
      return local;
    }
  }
}

Result<Person> Change::hire(const HireSpec& h) {
  // Names, positions and codes are stored in NFC whatever the front end (CLI, CSV, events,
  // SCIM): "Văn thư" typed decomposed must match the configured role holders byte for byte.
  std::string staff_no = text::squeeze(h.staff_no);
  if (staff_no.empty() || !valid_text(staff_no, 64)) return invalid("a staff number is required");
  staff_no = text::nfc(staff_no);
  if (t_.get(schema::staffno, staff_no)) return conflict("staff number " + staff_no + " is already in the directory");
  std::string full = text::nfc(text::squeeze(h.full_name));
  if (!valid_text(full, 256)) return invalid("full name must be 1..256 bytes of UTF-8");
  if (!valid_text(h.unit, 64)) return invalid("a unit code is required");
  auto target = unit(text::nfc(h.unit));
  if (!target) return not_found("unit " + h.unit + " does not exist");
  if (!target->dissolved.empty()) return conflict(gone(*target));
  if (!valid_text(h.position, 256)) return invalid("a position is required");
  const std::string position = text::nfc(text::squeeze(h.position));
  if (!(h.date.empty() && h.kind == AssignmentKind::import) && !valid_date(h.date))
    return invalid("date '" + h.date + "' is not a calendar date YYYY-MM-DD");
  if (!h.birth_date.empty() && !valid_date(h.birth_date))
    return invalid("birth date '" + h.birth_date + "' is not a calendar date YYYY-MM-DD");
  if (!h.gender.empty() && h.gender != "M" && h.gender != "F")
    return invalid("gender must be M, F or empty");
  NameParts parts = h.parts;
  if (parts.family.empty() && parts.middle.empty() && parts.given.empty()) parts = split_full_name(full);
  parts = {text::nfc(parts.family), text::nfc(parts.middle), text::nfc(parts.given)};
  std::string base = address_base(parts);
  if (base.empty()) return invalid("cannot derive an address from the name '" + full + "' (no Latin letters)");

  Person p;
  p.id = PersonId::make(now_);
  while (t_.get(schema::person, p.id.bytes())) p.id = PersonId::make(now_);
  auto local = allocate_local_part(base);
  p.staff_no = staff_no;
  p.full_name = full;
  p.family = parts.family;
  p.middle = parts.middle;
  p.given = parts.given;
  p.folded = text::fold(full);
  p.login = local.value();
  p.address = p.login + "@" + settings_.domain;
  p.gender = h.gender;
  p.birth_date = h.birth_date;
  p.unit = target->code;
  p.position = position;
  p.assignments = 1;
  p.created = p.updated = now_;
  Assignment a;
  a.person = p.id;
  a.index = 0;
  a.unit = p.unit;
  a.position = p.position;
  a.from = h.date;
  a.decision = h.decision;
  a.kind = h.kind;
  put(schema::assignment, schema::assignment_key(p.id, 0), encode(a));
  put_person(nullptr, p);
  audit(h.kind == AssignmentKind::import ? "person.import" : "person.hire", p.id.str(), h.decision,
        json_object({{"staff_no", p.staff_no}, {"name", p.full_name}, {"address", p.address},
                     {"unit", p.unit}, {"position", p.position}, {"from", h.date}}));
  return p;
}

Result<Person> Change::move(const MoveSpec& m) {
  auto p = person(m.person);
  if (!p) return not_found("no such person");
  if (p->status == PersonStatus::retired) return conflict(p->staff_no + " is retired");
  if (!m.expect_from.empty() && m.expect_from != p->unit)
    return conflict(p->staff_no + " is in unit " + p->unit + ", not " + m.expect_from);
  std::string to = m.to_unit.empty() ? p->unit : m.to_unit;
  if (!valid_text(to, 64)) return invalid("a unit code is required");
  to = text::nfc(to);
  auto target = unit(to);
  if (!target) return not_found("unit " + to + " does not exist");
  if (!target->dissolved.empty()) return conflict(gone(*target));
  std::string position = m.position.empty() ? p->position : m.position;
  if (!valid_text(position, 256)) return invalid("a position is required");
  position = text::nfc(text::squeeze(position));
  if (!valid_date(m.date)) return invalid("date '" + m.date + "' is not a calendar date YYYY-MM-DD");
  // The same unit and position is a re-appointment (bổ nhiệm lại at the end of a term): it
  // still closes the old assignment and opens a new one under the new decision.
  auto key = schema::assignment_key(p->id, p->assignments - 1);
  auto cur_v = t_.get(schema::assignment, key);
  if (!cur_v) return make_error(Errc::corrupt, "the open assignment of " + p->staff_no + " is missing");
  Assignment cur = decode_assignment(key, *cur_v);
  if (!cur.from.empty() && m.date < cur.from)
    return conflict("the date " + m.date + " is before the current assignment of " + p->staff_no +
                    " began (" + cur.from + ")");
  Person before = *p;
  cur.to = m.date;
  cur.closed_by = m.decision;
  put(schema::assignment, key, encode(cur));
  Assignment next;
  next.person = p->id;
  next.index = p->assignments;
  next.unit = to;
  next.position = position;
  next.from = m.date;
  next.decision = m.decision;
  next.kind = m.kind;
  put(schema::assignment, schema::assignment_key(p->id, next.index), encode(next));
  p->unit = to;
  p->position = position;
  p->assignments += 1;
  p->updated = now_;
  put_person(&before, *p);
  std::vector<std::pair<std::string, std::string>> detail = {
      {"from_unit", before.unit}, {"to_unit", to}, {"from_position", before.position}, {"position", position}, {"date", m.date}};
  if (!m.note.empty()) detail.emplace_back("note", m.note);
  audit(std::string("person.") + assignment_kind_name(m.kind), p->id.str(), m.decision, json_object(detail));
  return *p;
}

Result<Person> Change::retire(const PersonId& id, const std::string& date, const std::string& decision,
                              const std::string& note) {
  auto p = person(id);
  if (!p) return not_found("no such person");
  if (p->status == PersonStatus::retired) return conflict(p->staff_no + " is already retired");
  if (!valid_date(date)) return invalid("date '" + date + "' is not a calendar date YYYY-MM-DD");
  auto key = schema::assignment_key(p->id, p->assignments - 1);
  auto cur_v = t_.get(schema::assignment, key);
  if (!cur_v) return make_error(Errc::corrupt, "the open assignment of " + p->staff_no + " is missing");
  Assignment cur = decode_assignment(key, *cur_v);
  if (!cur.from.empty() && date < cur.from)
    return conflict("the date " + date + " is before the current assignment began (" + cur.from + ")");
  Person before = *p;
  cur.to = date;
  cur.closed_by = decision;
  put(schema::assignment, key, encode(cur));
  p->status = PersonStatus::retired;
  p->unit.clear();
  p->position.clear();
  p->updated = now_;
  put_person(&before, *p);
  end_grants(*this, id);
  std::vector<std::pair<std::string, std::string>> detail = {
      {"from_unit", before.unit}, {"position", before.position}, {"date", date}};
  if (!note.empty()) detail.emplace_back("note", note);
  audit("person.retire", p->id.str(), decision, json_object(detail));
  return *p;
}

Result<Person> Change::set_status(const PersonId& id, PersonStatus status, const std::string& reason) {
  auto p = person(id);
  if (!p) return not_found("no such person");
  if (p->status == PersonStatus::retired) return conflict(p->staff_no + " is retired");
  if (status == PersonStatus::retired) return invalid("use retire() to retire a person");
  if (p->status == status) return conflict(p->staff_no + " is already " + status_name(status));
  Person before = *p;
  p->status = status;
  p->updated = now_;
  put_person(&before, *p);
  if (status == PersonStatus::suspended) end_grants(*this, id);
  audit(status == PersonStatus::suspended ? "person.suspend" : "person.resume", p->id.str(), reason, "{}");
  return *p;
}

Status Change::add_alias(const PersonId& id, const std::string& raw, const std::string& reason) {
  auto p = person(id);
  if (!p) return not_found("no such person");
  std::string address = text::ascii_lower(raw);
  auto at = address.find('@');
  if (at == std::string::npos || !valid_local_part(address.substr(0, at)) || at + 1 >= address.size())
    return invalid("alias '" + raw + "' is not an address local@domain");
  if (t_.get(schema::addr, address)) return conflict("address " + address + " is already taken");
  Person before = *p;
  p->aliases.push_back(address);
  p->updated = now_;
  put_person(&before, *p);
  audit("person.alias", p->id.str(), reason, json_object({{"alias", address}}));
  return ok_status();
}

Status Change::set_password(const PersonId& id, std::string_view password) {
  if (!person(id)) return not_found("no such person");
  Credential c;
  c.password_hash = hash_password(password, settings_.argon2);
  c.scram_sha256 = scram_sha256_verifier(password);
  c.updated = now_;
  put(schema::cred, id.bytes(), encode(c));
  end_grants(*this, id);  // the old credential's sessions and refresh tokens end
  audit("person.passwd", id.str(), "", json_object({{"scheme", "argon2id"}}));
  return ok_status();
}

Status Change::set_password_hash(const PersonId& id, const std::string& stored) {
  if (!person(id)) return not_found("no such person");
  if (auto s = check_password_hash(stored); !s) return s.error();
  Credential c;
  c.password_hash = stored;
  c.updated = now_;
  put(schema::cred, id.bytes(), encode(c));
  end_grants(*this, id);
  audit("person.credential_import", id.str(), "",
        json_object({{"scheme", stored.substr(0, stored.find('}') + 1)}}));
  return ok_status();
}

Result<Group> Change::add_group(const Group& g) {
  if (!valid_slug(g.name)) return invalid("group name '" + g.name + "' must be [a-z0-9-], 1..64 characters");
  if (group(g.name)) return conflict("group " + g.name + " already exists");
  std::string address = g.name + "@" + settings_.domain;
  if (t_.get(schema::addr, address) || t_.get(schema::login, g.name))
    return conflict("address " + address + " is already taken");
  if (!g.unit.empty() && !unit(g.unit)) return not_found("unit " + g.unit + " does not exist");
  if (g.kind == GroupKind::static_members && (!g.unit.empty() || !g.positions.empty()))
    return invalid("a static group takes members, not a unit or positions");
  Group out = g;
  out.title = text::nfc(g.title.empty() ? g.name : g.title);
  for (auto& pos : out.positions) {
    if (!valid_text(pos, 256)) return invalid("a group's position must be 1..256 bytes of UTF-8");
    pos = text::nfc(text::squeeze(pos));
  }
  out.created = now_;
  put(schema::group, out.name, encode(out));
  put(schema::addr, address, "G" + out.name);
  audit("group.add", out.name, "", json_object({{"kind", g.kind == GroupKind::static_members ? "static" : "derived"},
                                                {"unit", g.unit}, {"title", out.title}}));
  return out;
}

Status Change::add_group_member(const std::string& name, const PersonId& id) {
  auto g = group(name);
  if (!g) return not_found("group " + name + " does not exist");
  if (g->kind != GroupKind::static_members) return invalid("group " + name + " is derived from units; its members follow their positions");
  if (!person(id)) return not_found("no such person");
  std::string key = schema::join0(name, id.bytes());
  if (t_.get(schema::group_member, key)) return conflict("already a member of " + name);
  put(schema::group_member, key, "");
  audit("group.add_member", name, "", json_object({{"person", id.str()}}));
  return ok_status();
}

Status Change::remove_group_member(const std::string& name, const PersonId& id) {
  auto g = group(name);
  if (!g) return not_found("group " + name + " does not exist");
  if (g->kind != GroupKind::static_members) return invalid("group " + name + " is derived from units; its members follow their positions");
  std::string key = schema::join0(name, id.bytes());
  if (!t_.get(schema::group_member, key)) return not_found("not a member of " + name);
  del(schema::group_member, key);
  audit("group.remove_member", name, "", json_object({{"person", id.str()}}));
  return ok_status();
}

}  // namespace congvu::directory
