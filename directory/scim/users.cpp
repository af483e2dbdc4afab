// SCIM Users: the representation of a person, filters and listings, and the writes (a hire,
// and the lifecycle changes as PUT/PATCH), each decided by directory/hr.hpp.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "common/text.hpp"
#include "directory/scim/internal.hpp"

namespace congvu::directory::scim {
namespace {

std::string fold(std::string_view s) { return text::fold(s); }

// ---- reading ---------------------------------------------------------------------------

json::object unit_ref(Snapshot& s, std::string_view code) {
  json::object o;
  o["unitCode"] = code;
  if (auto u = s.unit(code)) o["unitName"] = u->name;
  return o;
}

// Every string value of `attr` for `p` (emails and groups have several).
std::vector<std::string> values_of(Snapshot& s, const Person& p, Attr a) {
  switch (a) {
    case Attr::id: return {p.id.str()};
    case Attr::external_id:
    case Attr::employee_number: return {p.staff_no};
    case Attr::user_name: return {p.login};
    case Attr::display_name:
    case Attr::name_formatted: return {p.folded};  // compared and sorted folded
    case Attr::family_name: return {p.family};
    case Attr::given_name: return {p.given};
    case Attr::middle_name: return {p.middle};
    case Attr::emails: {
      std::vector<std::string> v{p.address};
      v.insert(v.end(), p.aliases.begin(), p.aliases.end());
      return v;
    }
    case Attr::email_type: return p.aliases.empty() ? std::vector<std::string>{"work"} : std::vector<std::string>{"work", "other"};
    case Attr::title:
    case Attr::position: return {p.position};
    case Attr::unit_code: return {scope_unit(s, p)};
    case Attr::status: return {status_name(p.status)};
    case Attr::created: return {rfc3339(p.created)};
    case Attr::last_modified: return {rfc3339(p.updated)};
    case Attr::active:
    case Attr::email_primary:
    case Attr::group_members: break;
  }
  return {};
}

// `folded`: `have_raw` is already in text::fold() form (Person::folded).
bool compare_value(std::string_view have_raw, Op op, const Value& v, bool exact, bool folded = false) {
  std::string have = exact || folded ? std::string(have_raw) : fold(have_raw);
  return compare_text(have, op, exact ? v.text : v.folded);
}

bool compare_bool(bool have, Op op, const Value& v) {
  if (op == Op::pr) return true;
  if (v.type != Value::boolean) return false;
  bool want = v.text == "true";
  if (op == Op::eq) return have == want;
  if (op == Op::ne) return have != want;
  return false;
}

// One value of emails: (address, type, primary).
struct Email {
  std::string value, type;
  bool primary;
};

bool match_email(const Email& e, const Filter& f) {
  switch (f.kind) {
    case Filter::and_: return match_email(e, *f.left) && match_email(e, *f.right);
    case Filter::or_: return match_email(e, *f.left) || match_email(e, *f.right);
    case Filter::not_: return !match_email(e, *f.left);
    case Filter::value_path: return false;
    case Filter::compare: break;
  }
  if (f.attr == Attr::emails) return f.op == Op::pr || (f.value.type == Value::string && compare_value(e.value, f.op, f.value, false));
  if (f.attr == Attr::email_type) return f.op == Op::pr || (f.value.type == Value::string && compare_value(e.type, f.op, f.value, false));
  if (f.attr == Attr::email_primary) return compare_bool(e.primary, f.op, f.value);
  return false;
}

bool matches(Snapshot& s, const Person& p, const Filter& f) {
  switch (f.kind) {
    case Filter::and_: return matches(s, p, *f.left) && matches(s, p, *f.right);
    case Filter::or_: return matches(s, p, *f.left) || matches(s, p, *f.right);
    case Filter::not_: return !matches(s, p, *f.left);
    case Filter::value_path: {
      if (match_email({p.address, "work", true}, *f.left)) return true;
      for (const auto& a : p.aliases)
        if (match_email({a, "other", false}, *f.left)) return true;
      return false;
    }
    case Filter::compare: break;
  }
  if (f.attr == Attr::active) return compare_bool(p.status == PersonStatus::active, f.op, f.value);
  if (f.attr == Attr::email_primary) return compare_bool(true, f.op, f.value);
  auto values = values_of(s, p, f.attr);
  if (f.op == Op::pr) return std::any_of(values.begin(), values.end(), [](const std::string& v) { return !v.empty(); });
  if (f.value.type != Value::string) return f.op == Op::ne;  // a string attribute never equals a non-string
  bool exact = f.attr == Attr::id;
  bool folded = f.attr == Attr::display_name || f.attr == Attr::name_formatted;  // values_of gives p.folded
  if (f.op == Op::ne)
    return std::none_of(values.begin(), values.end(), [&](const std::string& v) { return compare_value(v, Op::eq, f.value, exact, folded); });
  return std::any_of(values.begin(), values.end(), [&](const std::string& v) { return compare_value(v, f.op, f.value, exact, folded); });
}

// The people an indexed filter can start from (nullopt: every person must be examined).
std::optional<std::vector<Person>> plan(Snapshot& s, const Filter& f) {
  if (f.kind == Filter::and_) {
    auto l = plan(s, *f.left);
    if (l) return l;
    return plan(s, *f.right);
  }
  if (f.kind == Filter::or_) {
    auto l = plan(s, *f.left);
    if (!l) return std::nullopt;
    auto r = plan(s, *f.right);
    if (!r) return std::nullopt;
    std::unordered_set<std::string> seen;
    for (const auto& p : *l) seen.insert(std::string(p.id.bytes()));
    for (auto& p : *r)
      if (seen.insert(std::string(p.id.bytes())).second) l->push_back(std::move(p));
    return l;
  }
  if (f.kind == Filter::value_path) {
    if (f.left->kind == Filter::compare && f.left->attr == Attr::emails && f.left->op == Op::eq)
      return plan(s, *f.left);
    return std::nullopt;
  }
  if (f.kind != Filter::compare || f.value.type != Value::string) return std::nullopt;
  std::vector<Person> out;
  auto one = [&](std::optional<Person> p) {
    if (p) out.push_back(std::move(*p));
    return out;
  };
  if (f.op == Op::eq) {
    switch (f.attr) {
      case Attr::id: {
        auto id = PersonId::parse(f.value.text);
        return id ? one(s.person(*id)) : out;
      }
      case Attr::user_name: return one(s.by_login(text::ascii_lower(f.value.text)));
      case Attr::external_id:
      case Attr::employee_number: return one(s.by_staff_no(f.value.text));
      case Attr::emails: {
        auto owner = s.address_owner(text::ascii_lower(f.value.text));
        if (owner && owner->kind == AddressOwner::person)
          if (auto id = PersonId::from_bytes(owner->key)) return one(s.person(*id));
        return out;
      }
      case Attr::unit_code: return s.members(f.value.text, false);
      default: break;
    }
  }
  if (f.op == Op::sw && f.attr == Attr::user_name) {
    std::string prefix = text::ascii_lower(f.value.text);
    s.scan(schema::login, prefix, [&](std::string_view, std::string_view v) {
      if (auto id = PersonId::from_bytes(v))
        if (auto p = s.person(*id)) out.push_back(std::move(*p));
      return true;
    });
    return out;
  }
  return std::nullopt;
}

std::string sort_key(Snapshot& s, const Person& p, Attr a) {
  auto v = values_of(s, p, a);
  if (a == Attr::active) return p.status == PersonStatus::active ? "1" : "0";
  return v.empty() ? std::string() : fold(v.front());
}

// ---- writing ---------------------------------------------------------------------------

// The state a PUT or PATCH asks for, and the change's own attributes.
struct Desired {
  std::string unit, position;
  PersonStatus status = PersonStatus::active;
  std::optional<LifeKind> kind;
  std::string decision, date, reason, from_unit, successor;
};

Reply mutability(const std::string& attr, const char* what) {
  return error_reply(400, attr + " is " + what, "mutability");
}

std::optional<std::string> string_of(const json::value& v) {
  if (!v.is_string()) return std::nullopt;
  return std::string(v.get_string());
}

// Reads the `change` complex attribute (or one of its sub-attributes when `sub` is set).
std::optional<Reply> set_change(Desired& d, const std::string& sub, const json::value& v) {
  if (sub.empty()) {
    const auto* o = as_object(v);
    if (!o) return error_reply(400, "change must be an object", "invalidValue");
    for (const auto& [k, x] : *o)
      if (auto e = set_change(d, lower(k), x)) return e;
    return std::nullopt;
  }
  auto s = string_of(v);
  if (!s) return error_reply(400, "change." + sub + " must be a string", "invalidValue");
  if (sub == "kind") {
    auto k = parse_life_kind(*s);
    if (!k || *k == LifeKind::hire)
      return error_reply(400, "change.kind '" + *s + "': use transfer, rotation, appointment, suspend, resume or retire", "invalidValue");
    d.kind = *k;
  } else if (sub == "decision") {
    d.decision = *s;
  } else if (sub == "effectivedate") {
    if (!valid_date(*s)) return error_reply(400, "change.effectiveDate '" + *s + "' is not a date YYYY-MM-DD", "invalidValue");
    d.date = *s;
  } else if (sub == "reason") {
    d.reason = *s;
  } else if (sub == "fromunitcode") {
    d.from_unit = *s;
  } else if (sub == "successor") {
    d.successor = *s;
  } else {
    return error_reply(400, "change has no sub-attribute '" + sub + "'", "invalidPath");
  }
  return std::nullopt;
}

// Applies one attribute (by schema and lowercased path) of a PUT/PATCH to `d`. `put`: a full
// replacement, where read-only attributes are ignored (RFC 7644 3.5.1) rather than refused.
std::optional<Reply> set_attr(Desired& d, const Person& cur, const std::string& urn, const std::string& path,
                              const json::value& v, bool put) {
  std::string head = path.substr(0, path.find('.'));
  std::string sub = path.find('.') == std::string::npos ? "" : path.substr(path.find('.') + 1);
  auto read_only = [&](const std::string& name) -> std::optional<Reply> {
    if (put) return std::nullopt;
    return mutability(name, "read-only");
  };
  auto immutable = [&](const std::string& name, const std::string& now) -> std::optional<Reply> {
    auto s = string_of(v);
    if (s && text::nfc(*s) == now) return std::nullopt;
    return mutability(name, "immutable (set when the person was hired)");
  };
  if (urn.empty()) {
    if (head == "schemas" || head == "id" || head == "meta" || head == "username" || head == "emails" || head == "groups")
      return read_only(head);
    if (head == "active") {
      if (!v.is_bool()) return error_reply(400, "active must be true or false", "invalidValue");
      if (cur.status != PersonStatus::retired) d.status = v.get_bool() ? PersonStatus::active : PersonStatus::suspended;
      else if (v.get_bool()) return error_reply(409, "a retired person cannot be made active again", "mutability");
      return std::nullopt;
    }
    if (head == "title") {
      auto s = string_of(v);
      if (!s) return error_reply(400, "title must be a string", "invalidValue");
      d.position = text::nfc(*s);
      return std::nullopt;
    }
    if (head == "externalid") return immutable("externalId", cur.staff_no);
    if (head == "displayname") return immutable("displayName", cur.full_name);
    if (head == "name") {
      if (!sub.empty()) {
        const std::string* now = sub == "formatted" ? &cur.full_name : sub == "familyname" ? &cur.family
                                 : sub == "givenname" ? &cur.given : sub == "middlename" ? &cur.middle : nullptr;
        if (!now) return error_reply(400, "name has no sub-attribute '" + sub + "'", "invalidPath");
        return immutable("name." + sub, *now);
      }
      const auto* o = as_object(v);
      if (!o) return error_reply(400, "name must be an object", "invalidValue");
      for (const auto& [k, x] : *o)
        if (auto e = set_attr(d, cur, urn, "name." + lower(k), x, put)) return e;
      return std::nullopt;
    }
    return error_reply(400, "unknown attribute '" + path + "' (this server keeps the attributes in /scim/v2/Schemas)", "invalidPath");
  }
  if (urn == kEnterpriseSchema) {
    if (path.empty()) {
      const auto* o = as_object(v);
      if (!o) return error_reply(400, std::string(kEnterpriseSchema) + " must be an object", "invalidValue");
      for (const auto& [k, x] : *o)
        if (auto e = set_attr(d, cur, urn, lower(k), x, put)) return e;
      return std::nullopt;
    }
    if (head == "employeenumber") return immutable("employeeNumber", cur.staff_no);
    if (head == "department" || head == "organization" || head == "manager") return read_only(head);
    return error_reply(400, "unknown enterprise attribute '" + path + "'", "invalidPath");
  }
  // Congvu's extension.
  if (path.empty()) {
    const auto* o = as_object(v);
    if (!o) return error_reply(400, std::string(kCongvuUserSchema) + " must be an object", "invalidValue");
    for (const auto& [k, x] : *o)
      if (auto e = set_attr(d, cur, urn, lower(k), x, put)) return e;
    return std::nullopt;
  }
  if (head == "unitcode" || head == "position") {
    auto s = string_of(v);
    if (!s) return error_reply(400, head + " must be a string", "invalidValue");
    (head == "unitcode" ? d.unit : d.position) = head == "position" ? text::nfc(*s) : *s;
    return std::nullopt;
  }
  if (head == "status") {
    auto s = string_of(v);
    auto st = s ? parse_status(*s) : std::nullopt;
    if (!st) return error_reply(400, "status must be active, suspended or retired", "invalidValue");
    if (cur.status == PersonStatus::retired && *st != PersonStatus::retired)
      return error_reply(409, "a retired person cannot change status", "mutability");
    d.status = *st;
    return std::nullopt;
  }
  if (head == "change") return set_change(d, sub, v);
  if (head == "gender") return immutable("gender", cur.gender);
  if (head == "birthdate") return immutable("birthDate", cur.birth_date);
  if (head == "unitname" || head == "unitpath" || head == "assignments" || head == "scheduled" || head == "retirement" ||
      head == "activationcode" || head == "activationurl")
    return read_only(head);
  return error_reply(400, "unknown attribute '" + path + "' of " + kCongvuUserSchema, "invalidPath");
}

// Walks a resource object (PUT body, or a PATCH value without a path).
std::optional<Reply> set_all(Desired& d, const Person& cur, const json::object& o, bool put) {
  for (const auto& [k, v] : o) {
    auto [urn, rest] = split_path(k);
    if (!urn.empty() && rest.empty()) {
      if (auto e = set_attr(d, cur, urn, "", v, put)) return e;
      continue;
    }
    if (lower(k) == "schemas") continue;
    if (auto e = set_attr(d, cur, urn, rest, v, put)) return e;
  }
  return std::nullopt;
}

Reply commit_desired(Change& c, const Ctx& ctx, const Person& cur, const Desired& d) {
  LifeChange lc;
  lc.person = cur.id;
  lc.decision = d.decision;
  lc.date = d.date;
  lc.reason = d.reason;
  lc.expect_from = d.from_unit;
  lc.successor = d.successor;
  bool moved = d.unit != cur.unit || d.position != cur.position;
  bool status_changed = d.status != cur.status;
  if (d.kind) {
    lc.kind = *d.kind;
  } else if (status_changed && moved) {
    return error_reply(400, "one change at a time: send the status change and the move as two operations", "invalidValue");
  } else if (status_changed) {
    lc.kind = d.status == PersonStatus::retired ? LifeKind::retire
              : d.status == PersonStatus::suspended ? LifeKind::suspend : LifeKind::resume;
  } else if (moved) {
    lc.kind = d.unit != cur.unit ? LifeKind::transfer : LifeKind::appointment;
  } else {
    Reply same;
    same.body = render_user(c, ctx, cur);
    same.version = user_version(cur);
    return same;  // nothing asked for: idempotent
  }
  bool is_move = lc.kind == LifeKind::transfer || lc.kind == LifeKind::rotation || lc.kind == LifeKind::appointment;
  if (is_move) {
    lc.to_unit = d.unit;
    lc.position = d.position;
    if (status_changed) return error_reply(400, "one change at a time: the status and a move", "invalidValue");
  } else if (moved) {
    return error_reply(400, std::string("a ") + life_kind_name(lc.kind) + " does not change the unit or position", "invalidValue");
  }
  auto r = apply_change(c, ctx.who, lc, ctx.today);
  if (!r) {
    // The person exists; a missing unit or successor is a bad value in the request.
    if (r.error().code == Errc::not_found) return error_reply(400, r.error().message, "invalidValue");
    if (r.error().code == Errc::conflict) return error_reply(409, r.error().message);
    return from_error(r.error());
  }
  Person now = r->person ? *r->person : cur;
  Reply out;
  if (r->proposed) {
    // RFC 7644 3.5.2 allows 202: the move waits for an administrator over the target unit.
    out.status = 202;
    json::object u = render_user(c, ctx, now);
    u[kCongvuUserSchema].as_object()["proposal"] =
        json::object{{"number", r->number}, {"kind", life_kind_name(lc.kind)}, {"unitCode", lc.to_unit},
                     {"position", lc.position}, {"effectiveDate", lc.date.empty() ? ctx.today : lc.date},
                     {"decision", lc.decision}, {"status", "pending"}};
    out.body = std::move(u);
    out.version = user_version(now);
    out.location = ctx.base + "/Users/" + now.id.str();
    return out;
  }
  out.body = render_user(c, ctx, now);
  out.version = user_version(now);
  out.location = ctx.base + "/Users/" + now.id.str();
  return out;
}

// 403 for a person outside the actor's scope (names, addresses and units are public in the
// address book anyway; what is refused is acting on them). No staff number: personal data.
Reply out_of_scope(Snapshot& s, const Ctx& ctx, const Person& p) {
  return error_reply(403, p.full_name + " is in unit " + scope_unit(s, p) + ", outside " + ctx.who.actor() + "'s scope");
}

// Finds the person a write names, within the actor's scope, and checks If-Match.
std::variant<Person, Reply> target(Change& c, const Ctx& ctx, std::string_view id, std::string_view if_match) {
  auto pid = PersonId::parse(id);
  auto p = pid ? c.person(*pid) : std::nullopt;
  if (!p) return error_reply(404, "no User " + std::string(id));
  if (!ctx.who.writes_person(c, *p)) return out_of_scope(c, ctx, *p);
  if (!if_match.empty() && !etag_matches(if_match, user_version(*p)))
    return error_reply(412, "the User changed since version " + std::string(if_match) + "; read it again");
  return *p;
}

Desired desired_from(const Person& p) {
  Desired d;
  d.unit = p.unit;
  d.position = p.position;
  d.status = p.status;
  return d;
}

}  // namespace

std::string user_version(const Person& p) {
  auto digest = crypto::sha256(encode(p));
  return "W/\"" + crypto::hex(std::string_view(reinterpret_cast<const char*>(digest.data()), 8)) + "\"";
}

json::object render_user(Snapshot& s, const Ctx& ctx, const Person& p) {
  json::object o;
  o["schemas"] = json::array{kUserSchema, kEnterpriseSchema, kCongvuUserSchema};
  o["id"] = p.id.str();
  // Personal data (Decree 13/2023/NĐ-CP): the staff number, birth date and gender go only to
  // those who manage the person.
  const bool need_to_know = ctx.who.writes_person(s, p);
  if (need_to_know) o["externalId"] = p.staff_no;
  o["userName"] = p.login;
  json::object name;
  name["formatted"] = p.full_name;
  name["familyName"] = p.family;
  if (!p.middle.empty()) name["middleName"] = p.middle;
  name["givenName"] = p.given;
  o["name"] = std::move(name);
  o["displayName"] = p.full_name;
  if (!p.position.empty()) o["title"] = p.position;
  o["active"] = p.status == PersonStatus::active;
  json::array emails;
  emails.push_back(json::object{{"value", p.address}, {"type", "work"}, {"primary", true}});
  for (const auto& a : p.aliases) emails.push_back(json::object{{"value", a}, {"type", "other"}});
  o["emails"] = std::move(emails);
  json::array groups;
  if (p.status == PersonStatus::active)
    for (const auto& g : s.groups_of(p)) {
      json::object gr{{"value", g}, {"$ref", ctx.base + "/Groups/" + g}};
      if (auto rec = s.group(g)) gr["display"] = rec->title;
      groups.push_back(std::move(gr));
    }
  o["groups"] = std::move(groups);

  json::object ent;
  if (need_to_know) ent["employeeNumber"] = p.staff_no;
  auto top = s.children("");
  if (!top.empty()) ent["organization"] = top.front().name;
  std::optional<Unit> unit = p.unit.empty() ? std::nullopt : s.unit(p.unit);
  if (unit) ent["department"] = unit->name;
  if (auto m = manager_of(s, p))
    ent["manager"] = json::object{{"value", m->id.str()}, {"$ref", ctx.base + "/Users/" + m->id.str()}, {"displayName", m->full_name}};
  o[kEnterpriseSchema] = std::move(ent);

  json::object cv;
  if (unit) {
    cv["unitCode"] = unit->code;
    cv["unitName"] = unit->name;
    json::array path;
    for (std::string code = unit->code; !code.empty() && path.size() < 64;) {
      path.insert(path.begin(), json::value(code));
      auto u = s.unit(code);
      code = u ? u->parent : std::string();
    }
    cv["unitPath"] = std::move(path);
  }
  if (!p.position.empty()) cv["position"] = p.position;
  cv["status"] = status_name(p.status);
  if (need_to_know) {
    if (!p.gender.empty()) cv["gender"] = p.gender;
    if (!p.birth_date.empty()) cv["birthDate"] = p.birth_date;
  }
  json::array history;
  for (const auto& a : s.history(p.id)) {
    json::object h = unit_ref(s, a.unit);
    h["position"] = a.position;
    if (!a.from.empty()) h["from"] = a.from;
    if (!a.to.empty()) h["to"] = a.to;
    if (!a.decision.empty()) h["decision"] = a.decision;
    if (!a.closed_by.empty()) h["closedBy"] = a.closed_by;
    h["kind"] = assignment_kind_name(a.kind);
    history.push_back(std::move(h));
  }
  cv["assignments"] = std::move(history);
  json::array sched;
  for (const auto& sc : scheduled_changes(s, p.id)) {
    json::object x{{"number", sc.number}, {"kind", life_kind_name(sc.change.kind)}, {"effectiveDate", sc.change.date},
                   {"decision", sc.change.decision}};
    if (!sc.change.to_unit.empty()) x["unitCode"] = sc.change.to_unit;
    if (!sc.change.position.empty()) x["position"] = sc.change.position;
    sched.push_back(std::move(x));
  }
  if (!sched.empty()) cv["scheduled"] = std::move(sched);
  if (auto r = retirement_of(s, p.id)) {
    json::object x{{"keepUntil", r->keep_until}};
    if (!r->successor.empty()) x["successor"] = r->successor;
    cv["retirement"] = std::move(x);
  }
  o[kCongvuUserSchema] = std::move(cv);
  o["meta"] = json::object{{"resourceType", "User"}, {"created", rfc3339(p.created)}, {"lastModified", rfc3339(p.updated)},
                           {"location", ctx.base + "/Users/" + p.id.str()}, {"version", user_version(p)}};
  return o;
}

Reply users_list(Snapshot& s, const Ctx& ctx, const ListParams& lp) {
  std::unique_ptr<Filter> filter;
  std::optional<Attr> sort;
  if (auto refused = parse_listing(lp, Resource::user, filter, sort)) return std::move(*refused);
  bool everywhere = ctx.who.is_province_admin(s);
  std::unordered_map<std::string, bool> unit_ok;  // per unit: inside the actor's read scope
  auto visible = [&](const Person& p) {
    if (everywhere) return true;
    std::string u = scope_unit(s, p);
    auto it = unit_ok.find(u);
    if (it != unit_ok.end()) return it->second;
    return unit_ok[u] = ctx.who.reads_unit(s, u);
  };
  std::vector<Person> found;
  // A filter sees only what the caller may read: without need-to-know no staff number (so
  // `employeeNumber eq X` cannot confirm whose number X is) and no birth date or gender.
  auto filter_matches = [&](const Person& p) {
    if (!filter) return true;
    if (ctx.who.writes_person(s, p)) return matches(s, p, *filter);
    Person view = p;
    view.staff_no.clear();
    view.birth_date.clear();
    view.gender.clear();
    return matches(s, view, *filter);
  };
  auto consider = [&](Person&& p) {
    if (visible(p) && filter_matches(p)) found.push_back(std::move(p));
  };
  std::optional<std::vector<Person>> start = filter ? plan(s, *filter) : std::nullopt;
  if (start) {
    for (auto& p : *start) consider(std::move(p));
  } else {
    s.scan(schema::person, "", [&](std::string_view k, std::string_view v) {
      consider(decode_person(k, v));
      return true;
    });
  }
  if (sort) {
    std::vector<std::pair<std::string, std::size_t>> keys;
    keys.reserve(found.size());
    for (std::size_t i = 0; i < found.size(); ++i) keys.emplace_back(sort_key(s, found[i], *sort), i);
    std::stable_sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
      return lp.descending ? b.first < a.first : a.first < b.first;
    });
    std::vector<Person> sorted;
    sorted.reserve(found.size());
    for (auto& [_, i] : keys) sorted.push_back(std::move(found[i]));
    found = std::move(sorted);
  }
  return list_page(found, lp, [&](const Person& p) { return render_user(s, ctx, p); });
}

Reply user_get(Snapshot& s, const Ctx& ctx, std::string_view id) {
  auto pid = PersonId::parse(id);
  auto p = pid ? s.person(*pid) : std::nullopt;
  if (!p) return error_reply(404, "no User " + std::string(id));
  if (!ctx.who.reads_person(s, *p)) return out_of_scope(s, ctx, *p);
  Reply r;
  r.body = render_user(s, ctx, *p);
  r.version = user_version(*p);
  r.location = ctx.base + "/Users/" + p->id.str();
  return r;
}

Reply user_create(Change& c, const Ctx& ctx, const json::value& body) {
  const auto& o = body.get_object();
  const auto* schemas_v = o.if_contains("schemas");
  bool has_schema = false;
  if (schemas_v && schemas_v->is_array())
    for (const auto& sv : schemas_v->get_array())
      if (sv.is_string() && lower(sv.get_string()) == lower(kUserSchema)) has_schema = true;
  if (!has_schema) return error_reply(400, std::string("schemas must list ") + kUserSchema, "invalidSyntax");
  LifeChange lc;
  lc.kind = LifeKind::hire;
  HireSpec& h = lc.hire;
  Desired d;
  for (const auto& [k, v] : o) {
    auto [urn, rest] = split_path(k);
    if (urn.empty()) {
      if (rest == "schemas" || rest == "id" || rest == "meta" || rest == "username" || rest == "emails" ||
          rest == "groups" || (rest == "active" && v.is_bool() && v.get_bool()))
        continue;  // read-only: ignored; userName and emails come from the address rule
      if (rest == "active") return error_reply(400, "a hire is active; suspend afterwards if needed", "invalidValue");
      if (rest == "externalid" || rest == "displayname" || rest == "title") {
        if (!v.is_string()) return error_reply(400, std::string(k) + " must be a string", "invalidValue");
        if (rest == "externalid") h.staff_no = std::string(v.get_string());
        else if (rest == "displayname" && h.full_name.empty()) h.full_name = std::string(v.get_string());
        else if (rest == "title") h.position = std::string(v.get_string());
        continue;
      }
      if (rest == "name") {
        const auto* n = as_object(v);
        if (!n) return error_reply(400, "name must be an object", "invalidValue");
        for (const auto& [nk, nv] : *n) {
          std::string key = lower(nk);
          if (!nv.is_string()) return error_reply(400, "name." + std::string(nk) + " must be a string", "invalidValue");
          std::string val(nv.get_string());
          if (key == "formatted") h.full_name = val;
          else if (key == "familyname") h.parts.family = val;
          else if (key == "middlename") h.parts.middle = val;
          else if (key == "givenname") h.parts.given = val;
          else return error_reply(400, "name has no sub-attribute '" + std::string(nk) + "'", "invalidSyntax");
        }
        continue;
      }
      return error_reply(400, "unknown attribute '" + std::string(k) + "' (see /scim/v2/Schemas)", "invalidSyntax");
    }
    const auto* ext = as_object(v);
    if (!ext || !rest.empty()) return error_reply(400, std::string(k) + " must be an object", "invalidSyntax");
    for (const auto& [ek, ev] : *ext) {
      std::string key = lower(ek);
      if (urn == kEnterpriseSchema) {
        if (key == "employeenumber") {
          if (!ev.is_string()) return error_reply(400, "employeeNumber must be a string", "invalidValue");
          h.staff_no = std::string(ev.get_string());
        } else if (key != "department" && key != "organization" && key != "manager") {
          return error_reply(400, "unknown enterprise attribute '" + std::string(ek) + "'", "invalidSyntax");
        }
        continue;
      }
      if (key == "change") {
        if (auto e = set_change(d, "", ev)) return *e;
        continue;
      }
      if (key == "unitname" || key == "unitpath" || key == "assignments" || key == "status" || key == "scheduled") continue;
      if (!ev.is_string()) return error_reply(400, std::string(ek) + " must be a string", "invalidValue");
      std::string val(ev.get_string());
      if (key == "unitcode") h.unit = val;
      else if (key == "position") h.position = val;
      else if (key == "gender") h.gender = val;
      else if (key == "birthdate") h.birth_date = val;
      else return error_reply(400, "unknown attribute '" + std::string(ek) + "' of " + kCongvuUserSchema, "invalidSyntax");
    }
  }
  if (h.full_name.empty() && !h.parts.family.empty() && !h.parts.given.empty())
    h.full_name = h.parts.family + (h.parts.middle.empty() ? "" : " " + h.parts.middle) + " " + h.parts.given;
  if (h.full_name.empty()) return error_reply(400, "name.formatted (or familyName and givenName) is required", "invalidValue");
  if (h.staff_no.empty()) return error_reply(400, std::string(kEnterpriseSchema) + ":employeeNumber is required", "invalidValue");
  if (h.unit.empty()) return error_reply(400, std::string(kCongvuUserSchema) + ":unitCode is required", "invalidValue");
  if (h.position.empty()) return error_reply(400, "title (or " + std::string(kCongvuUserSchema) + ":position) is required", "invalidValue");
  if (d.kind && *d.kind != LifeKind::hire) return error_reply(400, "a POST is a hire; change.kind must be empty", "invalidValue");
  lc.decision = d.decision;
  lc.date = d.date;
  lc.reason = d.reason;
  auto r = apply_change(c, ctx.who, lc, ctx.today);
  if (!r) {
    if (r.error().code == Errc::not_found) return error_reply(400, r.error().message, "invalidValue");
    return from_error(r.error());
  }
  Reply out;
  out.status = 201;
  json::object u = render_user(c, ctx, *r->person);
  auto& cv = u[kCongvuUserSchema].as_object();
  cv["activationCode"] = r->activation_code;
  cv["activationUrl"] = ctx.activation_url;
  out.body = std::move(u);
  out.version = user_version(*r->person);
  out.location = ctx.base + "/Users/" + r->person->id.str();
  return out;
}

Reply user_replace(Change& c, const Ctx& ctx, std::string_view id, const json::value& body, std::string_view if_match) {
  auto t = target(c, ctx, id, if_match);
  if (auto* r = std::get_if<Reply>(&t)) return std::move(*r);
  const Person& cur = std::get<Person>(t);
  Desired d = desired_from(cur);
  if (auto e = set_all(d, cur, body.get_object(), true)) return *e;
  return commit_desired(c, ctx, cur, d);
}

Reply user_patch(Change& c, const Ctx& ctx, std::string_view id, const json::value& body, std::string_view if_match) {
  const auto& o = body.get_object();
  const auto* ops = o.if_contains("Operations");
  if (!ops || !ops->is_array() || ops->get_array().empty())
    return error_reply(400, "a PatchOp needs a non-empty Operations array", "invalidSyntax");
  auto t = target(c, ctx, id, if_match);
  if (auto* r = std::get_if<Reply>(&t)) return std::move(*r);
  const Person& cur = std::get<Person>(t);
  Desired d = desired_from(cur);
  for (const auto& op_v : ops->get_array()) {
    const auto* op = as_object(op_v);
    if (!op) return error_reply(400, "each operation must be an object", "invalidSyntax");
    const auto* kind_v = op->if_contains("op");
    std::string kind = kind_v && kind_v->is_string() ? lower(kind_v->get_string()) : "";
    const auto* path_v = op->if_contains("path");
    if (path_v && !path_v->is_string()) return error_reply(400, "path must be a string", "invalidPath");
    std::string path = path_v ? std::string(path_v->get_string()) : "";
    const auto* value = op->if_contains("value");
    if (kind == "remove") {
      auto [urn, rest] = split_path(path);
      if (path.empty()) return error_reply(400, "remove needs a path", "noTarget");
      if (urn == kCongvuUserSchema && rest.rfind("change", 0) == 0) continue;
      return mutability(path, "required or read-only here and cannot be removed");
    }
    if (kind != "add" && kind != "replace") return error_reply(400, "op must be add, replace or remove", "invalidSyntax");
    if (!value) return error_reply(400, "an " + kind + " operation needs a value", "invalidValue");
    if (path.empty()) {
      const auto* vo = as_object(*value);
      if (!vo) return error_reply(400, "without a path the value must be an object", "invalidValue");
      if (auto e = set_all(d, cur, *vo, false)) return *e;
      continue;
    }
    if (path.find('[') != std::string::npos) return error_reply(400, "value filters in paths are not supported for Users", "invalidPath");
    auto [urn, rest] = split_path(path);
    if (auto e = set_attr(d, cur, urn, rest, *value, false)) return *e;
  }
  return commit_desired(c, ctx, cur, d);
}

}  // namespace congvu::directory::scim
