#include "directory/reorg.hpp"

#include <algorithm>

#include "common/csv.hpp"
#include "common/json.hpp"
#include "common/text.hpp"
#include "common/time.hpp"
#include "directory/clients.hpp"

namespace congvu::directory {
namespace {

Error invalid(std::string m) { return make_error(Errc::invalid_argument, std::move(m)); }
Error conflict(std::string m) { return make_error(Errc::conflict, std::move(m)); }

constexpr const char* kOpNames[] = {"add", "rename", "reparent", "move", "merge", "recode"};

// A unit that exists and has not been dissolved, or the error that says why not.
Result<Unit> live_unit(Snapshot& s, std::string_view code, const char* role) {
  auto u = s.unit(code);
  if (!u) return make_error(Errc::not_found, std::string(role) + " unit " + std::string(code) + " does not exist");
  if (!u->dissolved.empty())
    return conflict(std::string(role) + " unit " + u->code + " was dissolved on " + u->dissolved + " (" + u->dissolved_by +
                    "); its successor is " + u->successor);
  return *u;
}

Status may_administer(Snapshot& s, const Authority& who, std::string_view code) {
  if (who.administers_unit(s, code)) return ok_status();
  return make_error(Errc::forbidden, "reorganising unit " + std::string(code) + " needs the province-admin role over it (" +
                                         who.actor() + " does not hold it)");
}

void put_unit(Change& c, const Unit& u) { c.put(schema::unit, u.code, encode(u)); }

// Moves a unit (and so its subtree) under another parent.
Status reparent(Change& c, const Authority& who, Unit u, const std::string& parent, const std::string& decision) {
  if (u.parent.empty()) return invalid("the province has no parent to change");
  auto p = live_unit(c, parent, "parent");
  if (!p) return p.error();
  for (const auto& code : c.subtree(u.code))
    if (code == parent) return invalid("unit " + parent + " lies under " + u.code + ": that would make a cycle");
  if (auto ok = may_administer(c, who, u.code); !ok) return ok;
  if (auto ok = may_administer(c, who, parent); !ok) return ok;
  if (u.parent == parent) return ok_status();
  c.del(schema::unit_child, schema::join0(u.parent, u.code));
  c.put(schema::unit_child, schema::join0(parent, u.code), "");
  std::string from = u.parent;
  u.parent = parent;
  put_unit(c, u);
  c.audit("unit.reparent", u.code, decision, json_object({{"from", from}, {"to", parent}}));
  return ok_status();
}

// Moves people of `from` into `to` (everyone when `who_moves` is empty).
Result<std::size_t> move_people(Change& c, const Reorganisation& r, const std::string& from, const std::string& to,
                                const std::vector<std::string>& who_moves, const std::string& position) {
  std::vector<PersonId> ids;
  if (who_moves.empty()) {
    for (const auto& p : c.members(from, false)) ids.push_back(p.id);
  } else {
    for (const auto& w : who_moves) {
      auto p = c.resolve(w);
      if (!p) return make_error(Errc::not_found, "person " + w + " is not in the directory");
      if (p->unit != from) return conflict(p->login + " is in unit " + (p->unit.empty() ? "-" : p->unit) + ", not " + from);
      ids.push_back(p->id);
    }
  }
  for (const auto& id : ids) {
    MoveSpec m{id, to, position, from, r.date, r.decision, AssignmentKind::reorganisation, r.reason};
    if (auto moved = c.move(m); !moved) return moved.error();
  }
  return ids.size();
}

// Hands everything that named `u` over to `successor` and takes `u` out of the tree. Rights
// over `u` follow only a re-code (`same_unit`): after a merge the successor is a larger unit,
// so admin grants over `u` are revoked and clients bound to it lose their role, to be granted
// again over the successor by decision rather than widened silently.
Status dissolve(Change& c, Unit u, const std::string& successor, const Reorganisation& r, bool same_unit) {
  if (!c.members(u.code, false).empty()) return conflict("unit " + u.code + " still has people");
  if (!c.children(u.code).empty()) return conflict("unit " + u.code + " still has sub-units");
  const std::string tag = "U" + u.code;
  std::vector<std::string> addresses;
  c.scan(schema::addr, "", [&](std::string_view k, std::string_view v) {
    if (v == tag) addresses.emplace_back(k);
    return true;
  });
  for (const auto& a : addresses) {
    c.put(schema::addr, a, "U" + successor);
    c.audit("address.redirect", a, r.decision, json_object({{"from", u.code}, {"to", successor}}));
  }
  for (auto g : c.groups()) {
    if (g.kind != GroupKind::unit_derived || g.unit != u.code) continue;
    g.unit = successor;
    c.put(schema::group, g.name, encode(g));
    c.audit("group.retarget", g.name, r.decision, json_object({{"from", u.code}, {"to", successor}}));
  }
  std::vector<std::pair<std::string, std::string>> grants;  // key, value
  c.scan(schema::admin_grant, "", [&](std::string_view k, std::string_view v) {
    if (k.size() > 17 && k.substr(17) == u.code) grants.emplace_back(k, v);
    return true;
  });
  for (const auto& [k, v] : grants) {
    std::string moved = k.substr(0, 17) + successor;
    c.del(schema::admin_grant, k);
    if (same_unit && !c.get_raw(schema::admin_grant, moved)) c.put(schema::admin_grant, moved, v);
    auto id = PersonId::from_bytes(std::string_view(k).substr(0, 16));
    std::string role = role_name(static_cast<Role>(static_cast<std::uint8_t>(k[16])));
    if (same_unit)
      c.audit("grant.retarget", id ? id->str() : std::string(), r.decision, json_object({{"role", role}, {"from", u.code}, {"to", successor}}));
    else
      c.audit("grant.revoke", id ? id->str() : std::string(), r.decision,
              json_object({{"role", role}, {"unit", u.code}, {"why", "unit merged into " + successor}}));
  }
  for (auto cl : list_clients(c)) {
    if (cl.unit != u.code) continue;
    std::string role = cl.role;
    cl.unit = successor;
    if (!same_unit) cl.role.clear();  // an empty role acts on nobody
    c.put(schema::client, cl.id, encode(cl));
    if (same_unit) c.audit("client.retarget", cl.id, r.decision, json_object({{"from", u.code}, {"to", successor}}));
    else c.audit("client.unbind", cl.id, r.decision, json_object({{"role", role}, {"unit", u.code}, {"why", "unit merged into " + successor}}));
  }
  retarget_scheduled(c, u.code, successor);
  c.del(schema::unit_child, schema::join0(u.parent, u.code));
  u.dissolved = r.date;
  u.successor = successor;
  u.dissolved_by = r.decision;
  put_unit(c, u);
  c.audit("unit.dissolve", u.code, r.decision, json_object({{"successor", successor}, {"date", r.date}}));
  return ok_status();
}

// Everything under and in `u` goes to `to`, then `u` is dissolved into it.
Result<std::size_t> absorb(Change& c, const Authority& who, const Unit& u, const std::string& to, const Reorganisation& r,
                           bool same_unit) {
  auto moved = move_people(c, r, u.code, to, {}, {});
  if (!moved) return moved.error();
  for (const auto& child : c.children(u.code))
    if (auto ok = reparent(c, who, child, to, r.decision); !ok) return ok.error();
  if (auto ok = dissolve(c, u, to, r, same_unit); !ok) return ok.error();
  return *moved;
}

Status apply_step(Change& c, const Authority& who, const Reorganisation& r, const ReorgStep& st, ReorgOutcome& out) {
  switch (st.op) {
    case ReorgOp::add: {
      if (auto ok = may_administer(c, who, st.target); !ok) return ok;
      NewUnit nu{st.unit, st.target, st.name, st.slug, st.kind, r.decision};
      if (auto added = c.add_unit(nu); !added) return added.error();
      return ok_status();
    }
    case ReorgOp::rename: {
      auto u = live_unit(c, st.unit, "the");
      if (!u) return u.error();
      if (auto ok = may_administer(c, who, u->code); !ok) return ok;
      std::string name = text::nfc(text::squeeze(st.name));
      if (!valid_text(name)) return invalid("a rename needs the new name (1..512 bytes of UTF-8)");
      if (name == u->name) return ok_status();
      std::string from = u->name;
      u->name = name;
      put_unit(c, *u);
      c.audit("unit.rename", u->code, r.decision, json_object({{"from", from}, {"to", name}}));
      return ok_status();
    }
    case ReorgOp::reparent: {
      auto u = live_unit(c, st.unit, "the");
      if (!u) return u.error();
      return reparent(c, who, *u, st.target, r.decision);
    }
    case ReorgOp::move: {
      auto from = live_unit(c, st.unit, "the");
      if (!from) return from.error();
      auto to = live_unit(c, st.target, "the receiving");
      if (!to) return to.error();
      if (from->code == to->code) return invalid("a move needs another unit to go to");
      if (auto ok = may_administer(c, who, from->code); !ok) return ok;
      if (auto ok = may_administer(c, who, to->code); !ok) return ok;
      auto moved = move_people(c, r, from->code, to->code, st.people, st.position);
      if (!moved) return moved.error();
      out.people_moved += *moved;
      return ok_status();
    }
    case ReorgOp::merge: {
      auto from = live_unit(c, st.unit, "the");
      if (!from) return from.error();
      auto to = live_unit(c, st.target, "the receiving");
      if (!to) return to.error();
      if (from->parent.empty()) return invalid("the province cannot be merged into another unit");
      for (const auto& code : c.subtree(from->code))
        if (code == to->code) return invalid("unit " + to->code + " lies under " + from->code + ": merge it the other way round");
      if (auto ok = may_administer(c, who, from->code); !ok) return ok;
      if (auto ok = may_administer(c, who, to->code); !ok) return ok;
      auto moved = absorb(c, who, *from, to->code, r, false);
      if (!moved) return moved.error();
      out.people_moved += *moved;
      out.dissolved.push_back(from->code);
      return ok_status();
    }
    case ReorgOp::recode: {
      auto from = live_unit(c, st.unit, "the");
      if (!from) return from.error();
      if (!valid_unit_code(st.target))
        return invalid("new code '" + st.target + "' is not valid (letters, digits, '.', '-', '_', e.g. 000.00.01.H99)");
      if (c.unit(st.target)) return conflict("unit " + st.target + " already exists");
      if (auto ok = may_administer(c, who, from->code); !ok) return ok;
      // The new record takes the slug and the role address with it.
      Unit next = *from;
      next.code = st.target;
      next.created = c.now();
      put_unit(c, next);
      c.put(schema::unit_child, schema::join0(next.parent, next.code), "");
      c.audit("unit.recode", next.code, r.decision, json_object({{"from", from->code}, {"to", next.code}}));
      auto moved = absorb(c, who, *from, next.code, r, true);
      if (!moved) return moved.error();
      out.people_moved += *moved;
      out.dissolved.push_back(from->code);
      return ok_status();
    }
  }
  return invalid("unknown step");
}

}  // namespace

const char* reorg_op_name(ReorgOp op) { return kOpNames[static_cast<std::size_t>(op)]; }

Result<std::vector<ReorgStep>> parse_plan(std::string_view text, const std::string& source) {
  auto table = CsvTable::parse(text, {"op", "unit"}, source);
  if (!table) return table.error();
  auto field = [&](const CsvRow& row, const char* name) {
    return table->has_column(name) ? text::squeeze(table->get(row, name)) : std::string();
  };
  std::vector<ReorgStep> steps;
  for (const auto& row : table->rows()) {
    ReorgStep st;
    st.where = source + ":" + std::to_string(row.line);
    auto bad = [&](const std::string& why) { return invalid(st.where + ": " + why); };
    std::string op = field(row, "op");
    auto it = std::find(std::begin(kOpNames), std::end(kOpNames), op);
    if (it == std::end(kOpNames)) return bad("op '" + op + "' is not one of add, rename, reparent, move, merge, recode");
    st.op = static_cast<ReorgOp>(it - std::begin(kOpNames));
    st.unit = field(row, "unit");
    st.target = field(row, "target");
    st.name = field(row, "name");
    st.slug = field(row, "slug");
    st.position = field(row, "position");
    std::string people = field(row, "people");  // squeezed: single spaces
    for (std::size_t at = 0; at < people.size();) {
      std::size_t end = std::min(people.find(' ', at), people.size());
      st.people.push_back(people.substr(at, end - at));
      at = end + 1;
    }
    if (st.unit.empty()) return bad("the unit column is empty");
    bool needs_target = st.op != ReorgOp::rename;
    if (needs_target && st.target.empty())
      return bad(std::string(op) + " needs the target column (" +
                 (st.op == ReorgOp::add || st.op == ReorgOp::reparent ? "the parent unit"
                  : st.op == ReorgOp::recode                          ? "the new code"
                                                                      : "the receiving unit") +
                 ")");
    if ((st.op == ReorgOp::add || st.op == ReorgOp::rename) && st.name.empty()) return bad(op + " needs the name column");
    if (st.op == ReorgOp::add) {
      if (st.slug.empty()) return bad("add needs the slug column (the local part of the unit's role address)");
      auto kind = parse_kind(field(row, "kind"));
      if (!kind) return bad("add needs the kind column: department, district, division or commune");
      st.kind = *kind;
    }
    if (!st.people.empty() && st.op != ReorgOp::move) return bad("only a move names people");
    steps.push_back(std::move(st));
  }
  if (steps.empty()) return invalid(source + ": the plan has no steps");
  return steps;
}

Result<ReorgOutcome> reorganise(Change& c, const Authority& who, const Reorganisation& r) {
  if (r.decision.empty() || !valid_text(r.decision, 128)) return invalid("a reorganisation needs its decision number");
  if (!valid_date(r.date)) return invalid("date '" + r.date + "' is not a calendar date YYYY-MM-DD");
  if (r.steps.empty()) return invalid("a reorganisation needs at least one step");
  ReorgOutcome out;
  std::uint64_t head = c.audit_head_seq();
  for (const auto& st : r.steps) {
    auto done = apply_step(c, who, r, st, out);
    if (!done) {
      std::string where = st.where.empty() ? std::string(reorg_op_name(st.op)) + " " + st.unit : st.where;
      return make_error(done.error().code, where + ": " + done.error().message);
    }
  }
  out.changes = c.audit_after(head, SIZE_MAX);
  return out;
}

std::string current_unit(Snapshot& s, std::string_view code) {
  std::string at(code);
  for (int depth = 0; depth < 64; ++depth) {
    auto u = s.unit(at);
    if (!u) return {};
    if (u->dissolved.empty() || u->successor.empty()) return at;
    at = u->successor;
  }
  return {};
}

std::vector<Unit> dissolved_units(Snapshot& s) {
  std::vector<Unit> out;
  s.scan(schema::unit, "", [&](std::string_view, std::string_view v) {
    Unit u = decode_unit(v);
    if (!u.dissolved.empty()) out.push_back(std::move(u));
    return true;
  });
  return out;
}

}  // namespace congvu::directory
