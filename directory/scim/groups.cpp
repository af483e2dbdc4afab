// SCIM Groups: distribution lists and access groups. Static groups have members that SCIM
// adds and removes (province administrators only); unit-derived groups list the people their
// rule selects now and are created by an administrator of their unit.
#include <algorithm>
#include <set>

#include "common/crypto.hpp"
#include "common/text.hpp"
#include "directory/address.hpp"
#include "directory/scim/internal.hpp"

namespace congvu::directory::scim {
namespace {

std::vector<Person> members_of(Snapshot& s, const Group& g) { return s.group_members(g); }

Reply mutability_error(const std::string& attr) { return error_reply(400, attr + " cannot change", "mutability"); }

// "Ban chỉ đạo Chuyển đổi số" -> "ban-chi-dao-chuyen-doi-so".
std::string slug_of(std::string_view title) {
  std::string out;
  for (char ch : text::fold(title)) {
    bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
    if (alnum) out += ch;
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.substr(0, 64);
}

std::string group_version(Snapshot& s, const Group& g) {
  std::string body = encode(g);
  std::vector<std::string> ids;
  for (const auto& p : members_of(s, g)) ids.emplace_back(p.id.bytes());
  std::sort(ids.begin(), ids.end());
  for (const auto& id : ids) body += id;
  auto d = crypto::sha256(body);
  return "W/\"" + crypto::hex(std::string_view(reinterpret_cast<const char*>(d.data()), 8)) + "\"";
}

json::object render_group(Snapshot& s, const Ctx& ctx, const Group& g, bool with_members) {
  json::object o;
  o["schemas"] = json::array{kGroupSchema, kCongvuGroupSchema};
  o["id"] = g.name;
  o["displayName"] = g.title;
  if (with_members) {
    json::array members;
    for (const auto& p : members_of(s, g))
      members.push_back(json::object{{"value", p.id.str()}, {"$ref", ctx.base + "/Users/" + p.id.str()},
                                     {"display", p.full_name}, {"type", "User"}});
    o["members"] = std::move(members);
  }
  json::object cv;
  cv["name"] = g.name;
  cv["address"] = g.name + "@" + s.settings().domain;
  cv["kind"] = g.kind == GroupKind::static_members ? "static" : "derived";
  if (g.kind == GroupKind::unit_derived) {
    if (!g.unit.empty()) cv["unitCode"] = g.unit;
    cv["subtree"] = g.subtree;
    json::array positions;
    for (const auto& p : g.positions) positions.emplace_back(p);
    cv["positions"] = std::move(positions);
  }
  cv["posting"] = posting_name(g.posting);
  o[kCongvuGroupSchema] = std::move(cv);
  o["meta"] = json::object{{"resourceType", "Group"}, {"created", rfc3339(g.created)},
                           {"location", ctx.base + "/Groups/" + g.name}, {"version", group_version(s, g)}};
  return o;
}

bool group_matches(Snapshot& s, const Group& g, const Filter& f) {
  switch (f.kind) {
    case Filter::and_: return group_matches(s, g, *f.left) && group_matches(s, g, *f.right);
    case Filter::or_: return group_matches(s, g, *f.left) || group_matches(s, g, *f.right);
    case Filter::not_: return !group_matches(s, g, *f.left);
    case Filter::value_path: return group_matches(s, g, *f.left);
    case Filter::compare: break;
  }
  std::vector<std::string> values;
  if (f.attr == Attr::id || f.attr == Attr::external_id) values = {g.name};
  else if (f.attr == Attr::display_name) values = {g.title};
  else if (f.attr == Attr::created) values = {rfc3339(g.created)};
  else if (f.attr == Attr::group_members)
    for (const auto& p : members_of(s, g)) values.push_back(p.id.str());
  if (f.op == Op::pr) return !values.empty();
  if (f.value.type != Value::string) return false;
  const std::string& want = f.value.folded;
  auto test = [&](const std::string& raw) { return compare_text(text::fold(raw), f.op, want); };
  if (f.op == Op::ne) return std::all_of(values.begin(), values.end(), test);
  return std::any_of(values.begin(), values.end(), test);
}

// Who may change a group: province administrators any; an administrator of a unit the
// derived groups of its subtree.
bool may_manage(Snapshot& s, const Authority& who, const Group& g) {
  if (who.is_province_admin(s)) return true;
  return g.kind == GroupKind::unit_derived && !g.unit.empty() && who.writes_unit(s, g.unit);
}

// Person ids from [{"value": id}, ...]; an error reply names the first bad one.
std::variant<std::vector<PersonId>, Reply> member_ids(Snapshot& s, const json::value& v) {
  std::vector<PersonId> out;
  if (!v.is_array()) return error_reply(400, "members must be an array of {\"value\": id}", "invalidValue");
  for (const auto& m : v.get_array()) {
    const auto* o = as_object(m);
    const json::value* id_v = o ? o->if_contains("value") : nullptr;
    if (!id_v || !id_v->is_string()) return error_reply(400, "each member needs a string value (a User id)", "invalidValue");
    auto id = PersonId::parse(id_v->get_string());
    if (!id || !s.person(*id)) return error_reply(400, "member " + std::string(id_v->get_string()) + " is not a User here", "invalidValue");
    out.push_back(*id);
  }
  return out;
}

// Makes the static group's members exactly `want` (when `replace`), or adds/removes them.
Status apply_members(Change& c, const Group& g, const std::set<PersonId>& add, const std::set<PersonId>& remove) {
  for (const auto& id : remove)
    if (c.get_raw(schema::group_member, schema::join0(g.name, id.bytes())))
      if (auto s = c.remove_group_member(g.name, id); !s) return s;
  for (const auto& id : add)
    if (!c.get_raw(schema::group_member, schema::join0(g.name, id.bytes())))
      if (auto s = c.add_group_member(g.name, id); !s) return s;
  return ok_status();
}

std::variant<Group, Reply> target(Change& c, const Ctx& ctx, std::string_view id, std::string_view if_match) {
  auto g = c.group(id);
  if (!g) return error_reply(404, "no Group " + std::string(id));
  if (!may_manage(c, ctx.who, *g)) return error_reply(403, ctx.who.actor() + " may not change group " + g->name);
  if (g->kind != GroupKind::static_members)
    return error_reply(400, "group " + g->name + " is derived from units: its members follow their positions", "mutability");
  if (!if_match.empty() && !etag_matches(if_match, group_version(c, *g)))
    return error_reply(412, "the Group changed since version " + std::string(if_match));
  return *g;
}

Reply done(Change& c, const Ctx& ctx, const std::string& name, int status = 200) {
  auto g = c.group(name);
  Reply r;
  r.status = status;
  r.body = render_group(c, ctx, *g, true);
  r.version = group_version(c, *g);
  r.location = ctx.base + "/Groups/" + name;
  return r;
}

}  // namespace

Reply groups_list(Snapshot& s, const Ctx& ctx, const ListParams& lp) {
  std::unique_ptr<Filter> filter;
  std::optional<Attr> sort;
  if (auto refused = parse_listing(lp, Resource::group, filter, sort)) return std::move(*refused);
  std::vector<Group> found;
  for (auto& g : s.groups())
    if (!filter || group_matches(s, g, *filter)) found.push_back(std::move(g));
  if (sort) {
    auto key = [&](const Group& g) {
      return *sort == Attr::display_name ? text::fold(g.title) : *sort == Attr::created ? rfc3339(g.created) : g.name;
    };
    std::stable_sort(found.begin(), found.end(), [&](const Group& a, const Group& b) {
      return lp.descending ? key(b) < key(a) : key(a) < key(b);
    });
  }
  bool with_members = std::none_of(lp.excluded.begin(), lp.excluded.end(), [](const std::string& e) { return lower(e) == "members"; });
  return list_page(found, lp, [&](const Group& g) { return render_group(s, ctx, g, with_members); });
}

Reply group_get(Snapshot& s, const Ctx& ctx, std::string_view id) {
  auto g = s.group(id);
  if (!g) return error_reply(404, "no Group " + std::string(id));
  Reply r;
  r.body = render_group(s, ctx, *g, true);
  r.version = group_version(s, *g);
  r.location = ctx.base + "/Groups/" + g->name;
  return r;
}

Reply group_create(Change& c, const Ctx& ctx, const json::value& body) {
  const auto& o = body.get_object();
  Group g;
  const json::value* members = nullptr;
  for (const auto& [k, v] : o) {
    auto [urn, rest] = split_path(k);
    if (urn.empty()) {
      if (rest == "schemas" || rest == "id" || rest == "meta") continue;
      if (rest == "displayname" && v.is_string()) {
        g.title = std::string(v.get_string());
      } else if (rest == "members") {
        members = &v;
      } else if (rest == "externalid" && v.is_string()) {
        if (g.name.empty()) g.name = std::string(v.get_string());
      } else {
        return error_reply(400, "unknown or mistyped Group attribute '" + std::string(k) + "'", "invalidSyntax");
      }
      continue;
    }
    const auto* ext = as_object(v);
    if (urn != kCongvuGroupSchema || !ext || !rest.empty())
      return error_reply(400, "unknown Group attribute '" + std::string(k) + "'", "invalidSyntax");
    for (const auto& [ek, ev] : *ext) {
      std::string key = lower(ek);
      if (key == "address" || key == "members") continue;
      if (key == "subtree") {
        if (!ev.is_bool()) return error_reply(400, "subtree must be true or false", "invalidValue");
        g.subtree = ev.get_bool();
      } else if (key == "positions") {
        if (!ev.is_array()) return error_reply(400, "positions must be an array of strings", "invalidValue");
        for (const auto& p : ev.get_array()) {
          if (!p.is_string()) return error_reply(400, "positions must be an array of strings", "invalidValue");
          g.positions.push_back(text::nfc(p.get_string()));
        }
      } else if (ev.is_string()) {
        std::string val(ev.get_string());
        if (key == "name") g.name = val;
        else if (key == "unitcode") g.unit = val;
        else if (key == "kind") {
          if (val != "static" && val != "derived") return error_reply(400, "kind must be static or derived", "invalidValue");
          g.kind = val == "static" ? GroupKind::static_members : GroupKind::unit_derived;
        } else if (key == "posting") {
          auto p = parse_posting(val);
          if (!p) return error_reply(400, "posting must be members, staff or anyone", "invalidValue");
          g.posting = *p;
        } else {
          return error_reply(400, "unknown attribute '" + std::string(ek) + "' of " + kCongvuGroupSchema, "invalidSyntax");
        }
      } else {
        return error_reply(400, "unknown or mistyped attribute '" + std::string(ek) + "' of " + kCongvuGroupSchema, "invalidSyntax");
      }
    }
  }
  if (g.title.empty()) return error_reply(400, "displayName is required", "invalidValue");
  if (g.name.empty()) g.name = slug_of(g.title);
  if (!c.unit(g.unit) && !g.unit.empty()) return error_reply(400, "unit " + g.unit + " does not exist", "invalidValue");
  if (!may_manage(c, ctx.who, g)) return error_reply(403, ctx.who.actor() + " may not create this group");
  std::vector<PersonId> ids;
  if (members) {
    if (g.kind != GroupKind::static_members) return error_reply(400, "a derived group takes no members", "invalidValue");
    auto m = member_ids(c, *members);
    if (auto* r = std::get_if<Reply>(&m)) return std::move(*r);
    ids = std::get<std::vector<PersonId>>(m);
  }
  auto made = c.add_group(g);
  if (!made) return from_error(made.error());
  std::set<PersonId> add(ids.begin(), ids.end());
  if (auto s = apply_members(c, *made, add, {}); !s) return from_error(s.error());
  return done(c, ctx, made->name, 201);
}

Reply group_replace(Change& c, const Ctx& ctx, std::string_view id, const json::value& body, std::string_view if_match) {
  auto t = target(c, ctx, id, if_match);
  if (auto* r = std::get_if<Reply>(&t)) return std::move(*r);
  const Group& g = std::get<Group>(t);
  const auto& o = body.get_object();
  std::set<PersonId> want;
  for (const auto& [k, v] : o) {
    auto [urn, rest] = split_path(k);
    if (!urn.empty() || rest == "schemas" || rest == "id" || rest == "meta" || rest == "externalid") continue;
    if (rest == "displayname") {
      if (!v.is_string() || v.get_string() != g.title) return mutability_error("displayName");
      continue;
    }
    if (rest != "members") return error_reply(400, "unknown Group attribute '" + std::string(k) + "'", "invalidSyntax");
    auto m = member_ids(c, v);
    if (auto* r = std::get_if<Reply>(&m)) return std::move(*r);
    for (const auto& pid : std::get<std::vector<PersonId>>(m)) want.insert(pid);
  }
  std::set<PersonId> have, add, remove;
  for (const auto& p : members_of(c, g)) have.insert(p.id);
  std::set_difference(want.begin(), want.end(), have.begin(), have.end(), std::inserter(add, add.end()));
  std::set_difference(have.begin(), have.end(), want.begin(), want.end(), std::inserter(remove, remove.end()));
  if (auto s = apply_members(c, g, add, remove); !s) return from_error(s.error());
  return done(c, ctx, g.name);
}

Reply group_patch(Change& c, const Ctx& ctx, std::string_view id, const json::value& body, std::string_view if_match) {
  const auto* ops = body.get_object().if_contains("Operations");
  if (!ops || !ops->is_array() || ops->get_array().empty())
    return error_reply(400, "a PatchOp needs a non-empty Operations array", "invalidSyntax");
  auto t = target(c, ctx, id, if_match);
  if (auto* r = std::get_if<Reply>(&t)) return std::move(*r);
  const Group& g = std::get<Group>(t);
  std::set<PersonId> members;
  for (const auto& p : members_of(c, g)) members.insert(p.id);
  const std::set<PersonId> before = members;
  for (const auto& op_v : ops->get_array()) {
    const auto* op = as_object(op_v);
    if (!op) return error_reply(400, "each operation must be an object", "invalidSyntax");
    const auto* kind_v = op->if_contains("op");
    std::string kind = kind_v && kind_v->is_string() ? lower(kind_v->get_string()) : "";
    const auto* path_v = op->if_contains("path");
    std::string path = path_v && path_v->is_string() ? std::string(path_v->get_string()) : "";
    const auto* value = op->if_contains("value");
    if (kind != "add" && kind != "replace" && kind != "remove") return error_reply(400, "op must be add, replace or remove", "invalidSyntax");
    std::string lp = lower(path);
    // members[value eq "id"]: one member, by a value filter.
    if (lp.rfind("members[", 0) == 0) {
      if (kind != "remove") return error_reply(400, "a value filter path is only used to remove a member", "invalidPath");
      auto f = parse_filter(path, Resource::group);
      if (!f || (*f)->kind != Filter::value_path || (*f)->left->kind != Filter::compare || (*f)->left->op != Op::eq)
        return error_reply(400, "use members[value eq \"ID\"]", "invalidPath");
      auto pid = PersonId::parse((*f)->left->value.text);
      if (!pid) return error_reply(400, "members[value eq ...] needs a User id", "invalidValue");
      members.erase(*pid);
      continue;
    }
    json::value members_value;
    if (lp.empty()) {
      const auto* vo = value ? as_object(*value) : nullptr;
      if (!vo) return error_reply(400, "without a path the value must be an object", "invalidValue");
      for (const auto& [k, v] : *vo) {
        std::string key = lower(k);
        if (key == "members") members_value = v;
        else if (key == "displayname" && v.is_string() && v.get_string() == g.title) continue;
        else return error_reply(400, "only members can change here ('" + std::string(k) + "')", "mutability");
      }
    } else if (lp == "members") {
      if (value) members_value = *value;
    } else if (lp == "displayname") {
      return mutability_error("displayName");
    } else {
      return error_reply(400, "unknown Group path '" + path + "'", "invalidPath");
    }
    if (kind == "remove" && members_value.is_null()) {
      members.clear();
      continue;
    }
    auto ids = member_ids(c, members_value);
    if (auto* r = std::get_if<Reply>(&ids)) return std::move(*r);
    const auto& list = std::get<std::vector<PersonId>>(ids);
    if (kind == "replace") members.clear();
    for (const auto& pid : list) {
      if (kind == "remove") members.erase(pid);
      else members.insert(pid);
    }
  }
  std::set<PersonId> add, remove;
  std::set_difference(members.begin(), members.end(), before.begin(), before.end(), std::inserter(add, add.end()));
  std::set_difference(before.begin(), before.end(), members.begin(), members.end(), std::inserter(remove, remove.end()));
  if (auto s = apply_members(c, g, add, remove); !s) return from_error(s.error());
  return done(c, ctx, g.name);
}

}  // namespace congvu::directory::scim
