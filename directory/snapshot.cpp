// Reads of the directory: lookups, the unit tree, history, groups, role mailboxes.
#include <algorithm>
#include <filesystem>

#include "common/codec.hpp"
#include "common/files.hpp"
#include "common/text.hpp"
#include "directory/directory.hpp"
#include "directory/factors.hpp"

namespace congvu::directory {

Settings::Settings(const config::DirectoryConfig& c) : domain(c.domain) {
  argon2 = {c.argon2_iterations, c.argon2_memory_kib, c.argon2_parallelism};
  for (const auto& [kind, positions] : c.role_holders)
    if (auto k = parse_kind(kind))
      for (const auto& pos : positions) role_holders[*k].push_back(text::nfc(text::squeeze(pos)));
  second_factor_groups = c.second_factor_groups;
  merged_domains = c.merged_domains;
  retention_years = c.retention_years;
  retirement_notice = c.retirement_notice;
}

bool Snapshot::second_factor_required(const Person& p) {
  if (auto f = find_factor(*this, p.id); f && f->confirmed) return true;
  // Administrators (any role in admin_grant) always sign in with a second factor.
  bool admin = false;
  scan(schema::admin_grant, p.id.bytes(), [&](std::string_view, std::string_view) { return !(admin = true); });
  if (admin) return true;
  if (settings_.second_factor_groups.empty()) return false;
  for (const auto& g : groups_of(p))
    if (std::find(settings_.second_factor_groups.begin(), settings_.second_factor_groups.end(), g) !=
        settings_.second_factor_groups.end())
      return true;
  return false;
}

namespace {
// Whether `k` can be an LMDB key (1..511 bytes): anything else names nothing, and must not
// reach the store (which refuses it with an exception).
bool lookup_key(std::string_view k) { return !k.empty() && k.size() <= 511; }
}  // namespace

std::optional<Person> Snapshot::person(const PersonId& id) {
  auto v = t_.get(schema::person, id.bytes());
  if (!v) return std::nullopt;
  return decode_person(id.bytes(), *v);
}

std::optional<Person> Snapshot::by_login(std::string_view login) {
  if (!lookup_key(login)) return std::nullopt;
  auto v = t_.get(schema::login, text::ascii_lower(login));
  if (!v) return std::nullopt;
  auto id = PersonId::from_bytes(*v);
  return id ? person(*id) : std::nullopt;
}

std::optional<Person> Snapshot::by_staff_no(std::string_view staff_no) {
  if (!lookup_key(staff_no)) return std::nullopt;
  auto v = t_.get(schema::staffno, staff_no);
  if (!v) return std::nullopt;
  auto id = PersonId::from_bytes(*v);
  return id ? person(*id) : std::nullopt;
}

std::optional<AddressOwner> Snapshot::address_owner(std::string_view address) {
  if (!lookup_key(address)) return std::nullopt;
  auto v = t_.get(schema::addr, text::ascii_lower(address));
  if (!v || v->empty()) return std::nullopt;
  std::string key(v->substr(1));
  switch ((*v)[0]) {
    case 'P': return AddressOwner{AddressOwner::person, key};
    case 'U': return AddressOwner{AddressOwner::unit, key};
    case 'G': return AddressOwner{AddressOwner::group, key};
  }
  return std::nullopt;
}

std::optional<Person> Snapshot::resolve(std::string_view who) {
  if (auto id = PersonId::parse(who)) return person(*id);
  if (who.find('@') != std::string_view::npos) {
    auto owner = address_owner(who);
    if (!owner || owner->kind != AddressOwner::person) return std::nullopt;
    auto id = PersonId::from_bytes(owner->key);
    if (!id) return std::nullopt;  // a damaged index entry names nobody
    return person(*id);
  }
  if (auto p = by_login(who)) return p;
  return by_staff_no(who);
}

std::optional<Unit> Snapshot::unit(std::string_view code) {
  if (!lookup_key(code)) return std::nullopt;
  auto v = t_.get(schema::unit, code);
  if (!v) return std::nullopt;
  return decode_unit(*v);
}

std::vector<Unit> Snapshot::children(std::string_view code) {
  std::vector<Unit> out;
  std::string prefix = schema::join0(code, "");
  kv::scan_prefix(t_, schema::unit_child, prefix, [&](std::string_view k, std::string_view) {
    if (auto u = unit(k.substr(prefix.size()))) out.push_back(std::move(*u));
    return true;
  });
  return out;
}

std::vector<std::string> Snapshot::subtree(std::string_view code) {
  std::vector<std::string> out{std::string(code)};
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::string prefix = schema::join0(out[i], "");
    kv::scan_prefix(t_, schema::unit_child, prefix, [&](std::string_view k, std::string_view) {
      out.emplace_back(k.substr(prefix.size()));
      return true;
    });
  }
  return out;
}

std::vector<Assignment> Snapshot::history(const PersonId& id) {
  std::vector<Assignment> out;
  kv::scan_prefix(t_, schema::assignment, id.bytes(), [&](std::string_view k, std::string_view v) {
    out.push_back(decode_assignment(k, v));
    return true;
  });
  return out;
}

std::optional<Credential> Snapshot::credential(const PersonId& id) {
  auto v = t_.get(schema::cred, id.bytes());
  if (!v) return std::nullopt;
  return decode_credential(*v);
}

std::optional<Group> Snapshot::group(std::string_view name) {
  if (!lookup_key(name)) return std::nullopt;
  auto v = t_.get(schema::group, name);
  if (!v) return std::nullopt;
  return decode_group(*v);
}

std::vector<Group> Snapshot::groups() {
  std::vector<Group> out;
  kv::scan_prefix(t_, schema::group, "", [&](std::string_view, std::string_view v) {
    out.push_back(decode_group(v));
    return true;
  });
  return out;
}

namespace {
// member value: status byte + position + '\0' + folded name
struct MemberEntry {
  PersonStatus status;
  std::string_view position;
};
MemberEntry parse_member(std::string_view v) {
  if (v.empty()) throw codec::DecodeError("empty member entry");
  auto end = v.find('\0', 1);
  if (end == std::string_view::npos) throw codec::DecodeError("bad member entry");
  return {static_cast<PersonStatus>(v[0]), v.substr(1, end - 1)};
}
}  // namespace

std::vector<Person> Snapshot::members(std::string_view unit_code, bool with_subtree) {
  std::vector<Person> out;
  auto units = with_subtree ? subtree(unit_code) : std::vector<std::string>{std::string(unit_code)};
  for (const auto& u : units) {
    std::string prefix = schema::join0(u, "");
    kv::scan_prefix(t_, schema::member, prefix, [&](std::string_view k, std::string_view) {
      if (auto p = person(*PersonId::from_bytes(k.substr(prefix.size())))) out.push_back(std::move(*p));
      return true;
    });
  }
  return out;
}

std::vector<std::string> Snapshot::groups_of(const Person& p) {
  std::vector<std::string> out;
  std::vector<std::string> ancestors;  // the person's unit and every unit above it
  for (std::string code = p.unit; !code.empty() && ancestors.size() < 64;) {
    ancestors.push_back(code);
    auto u = unit(code);
    code = u ? u->parent : std::string();
  }
  for (const auto& g : groups()) {
    bool in = false;
    if (g.kind == GroupKind::static_members) {
      in = t_.get(schema::group_member, schema::join0(g.name, p.id.bytes())).has_value();
    } else {
      in = in_derived_group(g, p, ancestors);
    }
    if (in) out.push_back(g.name);
  }
  return out;
}

std::vector<Person> Snapshot::group_members(const Group& g) {
  std::vector<Person> out;
  if (g.kind == GroupKind::static_members) {
    std::string prefix = schema::join0(g.name, "");
    kv::scan_prefix(t_, schema::group_member, prefix, [&](std::string_view k, std::string_view) {
      if (auto p = person(*PersonId::from_bytes(k.substr(prefix.size())))) out.push_back(std::move(*p));
      return true;
    });
    return out;
  }
  std::unordered_set<std::string> units;
  if (!g.unit.empty()) {
    for (auto& u : g.subtree ? subtree(g.unit) : std::vector<std::string>{g.unit}) units.insert(u);
  }
  auto wanted = [&](std::string_view position) {
    if (g.positions.empty()) return true;
    const std::string normal = text::nfc(position);
    for (const auto& p : g.positions)
      if (p == normal) return true;
    return false;
  };
  auto visit = [&](std::string_view prefix_unit) {
    std::string prefix = prefix_unit.empty() ? std::string() : schema::join0(prefix_unit, "");
    kv::scan_prefix(t_, schema::member, prefix, [&](std::string_view k, std::string_view v) {
      auto m = parse_member(v);
      if (m.status == PersonStatus::active && wanted(m.position)) {
        auto id = PersonId::from_bytes(k.substr(k.size() - PersonId::kSize));
        if (auto p = person(*id)) out.push_back(std::move(*p));
      }
      return true;
    });
  };
  if (units.empty()) visit("");
  else
    for (const auto& u : units) visit(u);
  return out;
}

std::vector<Person> Snapshot::role_holders(std::string_view unit_code) {
  std::vector<Person> out;
  auto u = unit(unit_code);
  if (!u) return out;
  auto it = settings_.role_holders.find(u->kind);
  if (it == settings_.role_holders.end()) return out;
  std::string prefix = schema::join0(unit_code, "");
  kv::scan_prefix(t_, schema::member, prefix, [&](std::string_view k, std::string_view v) {
    auto m = parse_member(v);
    if (m.status != PersonStatus::active) return true;
    // NFC on both sides (records written before positions were normalised may not be).
    const std::string position = text::nfc(m.position);
    for (const auto& pos : it->second) {
      if (pos == position) {
        if (auto p = person(*PersonId::from_bytes(k.substr(prefix.size())))) out.push_back(std::move(*p));
        break;
      }
    }
    return true;
  });
  return out;
}

std::uint64_t Snapshot::count_people() { return t_.count(schema::person); }

std::uint64_t Snapshot::count_units() { return t_.count(schema::unit); }

std::unique_ptr<kv::Store> open_store(const std::string& data_dir, std::uint64_t map_size_mb) {
  make_private_dir(data_dir);
  kv::LmdbOptions o;
  o.map_size = map_size_mb << 20;
  return kv::open_lmdb(data_dir + "/directory.mdb", schema::table_names(), o);
}

}  // namespace congvu::directory
