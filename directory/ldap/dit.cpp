#include "directory/ldap/dit.hpp"

#include <ldap.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

#include "common/text.hpp"
#include "directory/directory.hpp"

namespace congvu::directory::ldap {
namespace {

enum Kind : std::uint8_t { k_root_dse, k_base, k_people, k_groups, k_subschema, k_unit, k_person, k_person_stable, k_group };

struct Ref {
  Kind kind;
  std::uint32_t idx = 0;
  std::uint64_t pack() const { return (static_cast<std::uint64_t>(kind) << 32) | idx; }
  static Ref unpack(std::uint64_t v) { return {static_cast<Kind>(v >> 32), static_cast<std::uint32_t>(v)}; }
};

struct UnitRow {
  Unit u;
  std::string dn, dn_norm, name_f;
  std::int32_t parent = -1;
  std::vector<std::uint32_t> children, members;
};

struct GroupRow {
  Group g;
  std::string dn, name_norm;
  std::unordered_set<std::uint32_t> static_members;  // person indices
};

struct PersonRow {
  Person p;
  std::string cn_f, sn_f, given_f, id_str;
  std::int32_t unit = -1;
  std::vector<std::uint32_t> trigrams;
};

std::string generalized_time(UnixMs ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
  return buf;
}

std::uint32_t tri(const char* p) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(p[0])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(p[1])) << 8) | static_cast<unsigned char>(p[2]);
}

void add_trigrams(std::string_view s, std::vector<std::uint32_t>& out) {
  for (std::size_t i = 0; i + 3 <= s.size(); ++i) out.push_back(tri(s.data() + i));
}

std::vector<std::uint32_t> intersect(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
  std::vector<std::uint32_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<std::uint32_t> unite(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
  std::vector<std::uint32_t> out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// Three-valued filter results (RFC 4511 4.5.1.7).
enum Tri : std::uint8_t { F, T, U };

// A filter with attributes resolved and assertion values normalised once.
struct Compiled {
  Filter::Kind kind;
  Attr attr = Attr::unknown;
  std::string raw_attr;  // unknown attributes and static entries (root DSE, subschema)
  std::string value;     // normalised
  std::string raw_value;
  std::optional<std::string> initial, final_;
  std::vector<std::string> any;
  std::vector<std::string> tokens;  // approx
  enum Rule : std::uint8_t { r_default, r_case_exact, r_octet, r_unknown } rule = r_default;
  bool dn_attributes = false;
  std::vector<Compiled> children;
};

Syntax syntax_of(Attr a) { return a == Attr::unknown ? Syntax::exact : attr_type(a).syntax; }

Compiled compile(const Filter& f) {
  Compiled c;
  c.kind = f.kind;
  c.raw_attr = text::ascii_lower(f.attr);
  c.attr = f.attr.empty() ? Attr::unknown : find_attr(f.attr);
  Syntax syn = syntax_of(c.attr);
  c.raw_value = f.value;
  c.value = normalize(syn, f.value);
  if (f.initial) c.initial = normalize(syn, *f.initial);
  if (f.final_) c.final_ = normalize(syn, *f.final_);
  for (const auto& a : f.any) {
    auto n = normalize(syn, a);
    if (!n.empty()) c.any.push_back(std::move(n));
  }
  if (f.kind == Filter::approx) c.tokens = text::fold_tokens(f.value);
  if (f.kind == Filter::extensible) {
    std::string r = text::ascii_lower(f.rule);
    if (r.empty() || r == "caseignorematch" || r == "2.5.13.2" || r == "caseignoreia5match" ||
        r == "1.3.6.1.4.1.1466.109.114.2" || r == "distinguishednamematch" || r == "2.5.13.1" ||
        r == "objectidentifiermatch" || r == "2.5.13.0")
      c.rule = Compiled::r_default;
    else if (r == "caseexactmatch" || r == "2.5.13.5" || r == "caseexactia5match" || r == "1.3.6.1.4.1.1466.109.114.1")
      c.rule = Compiled::r_case_exact;
    else if (r == "octetstringmatch" || r == "2.5.13.17")
      c.rule = Compiled::r_octet;
    else
      c.rule = Compiled::r_unknown;
    c.dn_attributes = f.dn_attributes;
  }
  for (const auto& ch : f.children) c.children.push_back(compile(ch));
  return c;
}

bool substring_match(const Compiled& f, std::string_view v) {
  std::size_t pos = 0;
  if (f.initial) {
    if (v.substr(0, f.initial->size()) != *f.initial) return false;
    pos = f.initial->size();
  }
  for (const auto& a : f.any) {
    auto at = v.find(a, pos);
    if (at == std::string_view::npos) return false;
    pos = at + a.size();
  }
  if (f.final_) {
    if (v.size() < pos + f.final_->size()) return false;
    if (v.substr(v.size() - f.final_->size()) != *f.final_) return false;
  }
  return true;
}

bool approx_match(const std::vector<std::string>& tokens, std::string_view v) {
  // Every assertion word begins a distinct word of the value.
  std::vector<std::string_view> words;
  std::size_t start = 0;
  while (start < v.size()) {
    auto end = v.find(' ', start);
    if (end == std::string_view::npos) end = v.size();
    if (end > start) words.push_back(v.substr(start, end - start));
    start = end + 1;
  }
  std::vector<bool> used(words.size());
  for (const auto& t : tokens) {
    bool found = false;
    for (std::size_t i = 0; i < words.size() && !found; ++i)
      if (!used[i] && words[i].substr(0, t.size()) == t) used[i] = found = true;
    if (!found) return false;
  }
  return !tokens.empty();
}

int compare_values(Syntax syn, std::string_view a, std::string_view b) {
  if (syn == Syntax::integer) {
    long long x = std::strtoll(std::string(a).c_str(), nullptr, 10), y = std::strtoll(std::string(b).c_str(), nullptr, 10);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a.compare(b);
}

struct StaticAttr {
  std::string name;
  std::vector<std::string> values;
  bool operational = false;
};

// Which attributes a search returns.
struct Selection {
  bool all_user = false, all_operational = false;
  std::vector<Attr> named;
  std::vector<std::string> raw;  // lowercased, for static entries
  explicit Selection(const std::vector<std::string>& attrs) {
    if (attrs.empty()) all_user = true;
    for (const auto& a : attrs) {
      if (a == "*") all_user = true;
      else if (a == "+") all_operational = true;
      else if (a == "1.1") continue;
      else {
        raw.push_back(text::ascii_lower(a.substr(0, a.find(';'))));
        Attr id = find_attr(a);
        if (id != Attr::unknown && std::find(named.begin(), named.end(), id) == named.end()) named.push_back(id);
      }
    }
  }
  bool wants(Attr a) const {
    if (std::find(named.begin(), named.end(), a) != named.end()) return true;
    return attr_type(a).operational ? all_operational : all_user;
  }
  bool wants(const StaticAttr& s) const {
    if (std::find(raw.begin(), raw.end(), text::ascii_lower(s.name)) != raw.end()) return true;
    return s.operational ? all_operational : all_user;
  }
};

}  // namespace

struct Dit::Impl {
  Directory& dir;
  DitConfig cfg;
  std::string base, base_norm, people_norm, groups_norm, province_name;
  std::vector<std::string> base_labels;

  mutable std::shared_mutex mu;
  std::atomic<std::uint64_t> seq{~0ULL};
  std::uint64_t generation = 0;

  std::vector<UnitRow> units;
  std::unordered_map<std::string, std::uint32_t> unit_by_code, unit_by_dn;
  std::vector<std::uint32_t> top_units;
  std::vector<GroupRow> groups;
  std::unordered_map<std::string, std::uint32_t> group_by_norm;
  std::vector<PersonRow> persons;
  std::unordered_map<std::string, std::uint32_t> by_login, by_address, by_staff, by_id;
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> postings;

  Impl(Directory& d, DitConfig c) : dir(d), cfg(std::move(c)) {
    std::string domain = text::ascii_lower(cfg.domain);
    std::size_t start = 0;
    while (start <= domain.size()) {
      auto dot = domain.find('.', start);
      if (dot == std::string::npos) dot = domain.size();
      base_labels.push_back(domain.substr(start, dot - start));
      base += (base.empty() ? "" : ",") + std::string("dc=") + escape_dn_value(base_labels.back());
      start = dot + 1;
    }
    base_norm = *normalize_dn(base);
    people_norm = "ou=people," + base_norm;
    groups_norm = "ou=groups," + base_norm;
  }

  // ---- building -------------------------------------------------------------------------

  void rebuild(Snapshot& s) {
    units.clear();
    unit_by_code.clear();
    unit_by_dn.clear();
    top_units.clear();
    groups.clear();
    group_by_norm.clear();
    persons.clear();
    by_login.clear();
    by_address.clear();
    by_staff.clear();
    by_id.clear();
    postings.clear();
    ++generation;
    // Units in tree order, parents first.
    std::vector<std::pair<std::string, std::int32_t>> queue = {{"", -1}};
    for (std::size_t qi = 0; qi < queue.size(); ++qi) {
      auto [code, parent] = queue[qi];
      for (auto& u : s.children(code)) {
        UnitRow row;
        row.parent = parent;
        row.dn = "ou=" + escape_dn_value(u.slug) + "," + (parent < 0 ? base : units[static_cast<std::size_t>(parent)].dn);
        row.dn_norm = normalize_dn(row.dn).value_or(row.dn);
        row.name_f = text::fold(u.name);
        auto idx = static_cast<std::uint32_t>(units.size());
        if (parent < 0) {
          top_units.push_back(idx);
          if (province_name.empty()) province_name = u.name;
        } else {
          units[static_cast<std::size_t>(parent)].children.push_back(idx);
        }
        unit_by_code[u.code] = idx;
        unit_by_dn[row.dn_norm] = idx;
        row.u = std::move(u);
        queue.emplace_back(row.u.code, static_cast<std::int32_t>(idx));
        units.push_back(std::move(row));
      }
    }
    for (auto& g : s.groups()) {
      GroupRow row;
      row.dn = "cn=" + escape_dn_value(g.name) + ",ou=groups," + base;
      row.name_norm = normalize(Syntax::name, g.name);
      group_by_norm[row.name_norm] = static_cast<std::uint32_t>(groups.size());
      row.g = std::move(g);
      groups.push_back(std::move(row));
    }
    s.scan(schema::person, "", [&](std::string_view k, std::string_view v) {
      load_person(decode_person(k, v));
      return true;
    });
    for (auto& g : groups) {
      if (g.g.kind != GroupKind::static_members) continue;
      std::string prefix = schema::join0(g.g.name, "");
      s.scan(schema::group_member, prefix, [&](std::string_view k, std::string_view) {
        auto id = PersonId::from_bytes(k.substr(prefix.size()));
        if (id) {
          auto it = by_id.find(id->str());
          if (it != by_id.end()) g.static_members.insert(it->second);
        }
        return true;
      });
    }
  }

  void unindex(std::uint32_t idx) {
    PersonRow& r = persons[idx];
    for (auto t : r.trigrams) {
      auto& list = postings[t];
      auto it = std::lower_bound(list.begin(), list.end(), idx);
      if (it != list.end() && *it == idx) list.erase(it);
    }
    by_login.erase(r.p.login);
    by_address.erase(r.p.address);
    for (const auto& a : r.p.aliases) by_address.erase(text::ascii_lower(a));
    by_staff.erase(r.p.staff_no);
    if (r.unit >= 0) {
      auto& m = units[static_cast<std::size_t>(r.unit)].members;
      m.erase(std::remove(m.begin(), m.end(), idx), m.end());
    }
  }

  void index(std::uint32_t idx) {
    PersonRow& r = persons[idx];
    std::string text = r.cn_f + '\x1f' + r.p.login + '\x1f' + r.p.address;
    for (const auto& a : r.p.aliases) text += '\x1f' + text::ascii_lower(a);
    r.trigrams.clear();
    add_trigrams(text, r.trigrams);
    std::sort(r.trigrams.begin(), r.trigrams.end());
    r.trigrams.erase(std::unique(r.trigrams.begin(), r.trigrams.end()), r.trigrams.end());
    for (auto t : r.trigrams) {
      auto& list = postings[t];
      if (list.empty() || list.back() < idx) list.push_back(idx);
      else list.insert(std::lower_bound(list.begin(), list.end(), idx), idx);
    }
    by_login[r.p.login] = idx;
    by_address[r.p.address] = idx;
    for (const auto& a : r.p.aliases) by_address[text::ascii_lower(a)] = idx;
    if (!r.p.staff_no.empty()) by_staff[text::ascii_lower(r.p.staff_no)] = idx;
    by_id[r.id_str] = idx;
    r.unit = -1;
    if (r.p.status != PersonStatus::retired && !r.p.unit.empty()) {
      auto it = unit_by_code.find(r.p.unit);
      if (it != unit_by_code.end()) {
        r.unit = static_cast<std::int32_t>(it->second);
        units[it->second].members.push_back(idx);
      }
    }
  }

  void load_person(Person p) {
    std::string id = p.id.str();
    auto it = by_id.find(id);
    std::uint32_t idx;
    if (it == by_id.end()) {
      idx = static_cast<std::uint32_t>(persons.size());
      persons.emplace_back();
    } else {
      idx = it->second;
      unindex(idx);
    }
    PersonRow& r = persons[idx];
    r.cn_f = p.folded.empty() ? text::fold(p.full_name) : p.folded;
    r.sn_f = text::fold(p.family);
    r.given_f = text::fold(p.given);
    r.id_str = std::move(id);
    r.p = std::move(p);
    index(idx);
  }

  void refresh() {
    auto head = dir.read([](Snapshot& s) { return s.audit_head_seq(); });
    if (head == seq.load()) return;
    std::unique_lock lk(mu);
    if (head == seq.load()) return;
    dir.read([&](Snapshot& s) {
      std::uint64_t now_head = s.audit_head_seq();
      constexpr std::size_t kBatch = 5000;
      bool full = seq.load() == ~0ULL;
      std::vector<PersonId> changed;
      if (!full) {
        auto recs = s.audit_after(seq.load(), kBatch);
        if (recs.size() >= kBatch) full = true;
        for (const auto& r : recs) {
          if (full) break;
          std::string_view a = r.action;
          auto family = a.substr(0, a.find('.'));
          if (family == "session" || family == "token" || family == "consent" || family == "keys" ||
              family == "client" || family == "sp" || family == "ldap")
            continue;
          if (family == "person") {
            if (auto id = PersonId::parse(r.target)) {
              changed.push_back(*id);
              continue;
            }
          }
          full = true;  // units, groups and anything unknown
        }
      }
      if (full) {
        rebuild(s);
      } else {
        for (const auto& id : changed)
          if (auto p = s.person(id)) load_person(std::move(*p));
      }
      seq.store(now_head);
    });
  }

  // ---- names ----------------------------------------------------------------------------

  static std::string join(const std::vector<Rdn>& rdns, std::size_t from) {
    std::string out;
    for (std::size_t i = from; i < rdns.size(); ++i) {
      if (!out.empty()) out += ',';
      out += rdns[i].attr + "=" + escape_dn_value(rdns[i].value);
    }
    return out;
  }

  // The entry a normalised DN names.
  std::optional<Ref> resolve(const std::vector<Rdn>& rdns) {
    if (rdns.empty()) return Ref{k_root_dse};
    std::string dn = join(rdns, 0);
    if (dn == base_norm) return Ref{k_base};
    if (dn == people_norm) return Ref{k_people};
    if (dn == groups_norm) return Ref{k_groups};
    if (dn == "cn=subschema") return Ref{k_subschema};
    if (auto it = unit_by_dn.find(dn); it != unit_by_dn.end()) return Ref{k_unit, it->second};
    std::string parent = join(rdns, 1);
    if (rdns[0].attr == "uid") {
      auto it = by_login.find(rdns[0].value);
      if (it == by_login.end()) return std::nullopt;
      const PersonRow& r = persons[it->second];
      if (parent == people_norm) return Ref{k_person_stable, it->second};
      if (r.unit >= 0 && parent == units[static_cast<std::size_t>(r.unit)].dn_norm) return Ref{k_person, it->second};
      return std::nullopt;
    }
    if (rdns[0].attr == "cn" && parent == groups_norm) {
      auto it = group_by_norm.find(rdns[0].value);
      if (it != group_by_norm.end()) return Ref{k_group, it->second};
    }
    return std::nullopt;
  }

  // The longest existing suffix of a DN that does not exist (RFC 4511 matchedDN).
  std::string matched(const std::vector<Rdn>& rdns) {
    for (std::size_t i = 1; i < rdns.size(); ++i) {
      std::vector<Rdn> rest(rdns.begin() + static_cast<std::ptrdiff_t>(i), rdns.end());
      if (auto r = resolve(rest); r && r->kind != k_root_dse) return dn_of(*r);
    }
    return "";
  }

  std::string dn_of(Ref r) const {
    switch (r.kind) {
      case k_root_dse: return "";
      case k_base: return base;
      case k_people: return "ou=people," + base;
      case k_groups: return "ou=groups," + base;
      case k_subschema: return "cn=Subschema";
      case k_unit: return units[r.idx].dn;
      case k_group: return groups[r.idx].dn;
      case k_person: {
        const PersonRow& p = persons[r.idx];
        return "uid=" + escape_dn_value(p.p.login) + "," + units[static_cast<std::size_t>(p.unit)].dn;
      }
      case k_person_stable: return "uid=" + escape_dn_value(persons[r.idx].p.login) + ",ou=people," + base;
    }
    return "";
  }

  // ---- access ---------------------------------------------------------------------------

  bool visible(Ref r, const Identity& who) const {
    if (r.kind == k_root_dse || r.kind == k_subschema) return true;
    if (!who.address_book) return false;
    if (r.kind == k_person || r.kind == k_person_stable) {
      const auto& p = persons[r.idx].p;
      if (p.status == PersonStatus::retired) return who.see_retired && r.kind == k_person_stable;
    }
    return true;
  }

  static bool readable(Attr a, const Identity& who) {
    if (a == Attr::userPassword || a == Attr::unknown) return false;
    if (attr_type(a).personal)
      return std::find(who.personal.begin(), who.personal.end(), a) != who.personal.end();
    return true;
  }

  // ---- values ---------------------------------------------------------------------------

  bool in_group(const GroupRow& g, std::uint32_t person_idx) const {
    const PersonRow& r = persons[person_idx];
    if (g.g.kind == GroupKind::static_members) return g.static_members.count(person_idx) > 0;
    std::vector<std::string> ancestors;
    for (auto u = r.unit; u >= 0; u = units[static_cast<std::size_t>(u)].parent)
      ancestors.push_back(units[static_cast<std::size_t>(u)].u.code);
    return in_derived_group(g.g, r.p, ancestors);
  }

  std::vector<std::string> object_classes(Kind k) const {
    switch (k) {
      case k_root_dse: return {"top"};
      case k_base: return {"top", "dcObject", "organization"};
      case k_people:
      case k_groups: return {"top", "organizationalUnit"};
      case k_subschema: return {"top", "subentry", "subschema"};
      case k_unit: return {"top", "organizationalUnit", "congvuUnit"};
      case k_group: return {"top", "groupOfNames", "congvuGroup"};
      case k_person:
      case k_person_stable: return {"top", "person", "organizationalPerson", "inetOrgPerson", "congvuPerson"};
    }
    return {};
  }

  // The values of attribute `a` of entry `r` as served (empty when absent or not readable).
  void values(Ref r, Attr a, const Identity& who, std::vector<std::string>& out) const {
    if (!readable(a, who)) return;
    switch (a) {
      case Attr::objectClass: {
        auto oc = object_classes(r.kind);
        out.insert(out.end(), oc.begin(), oc.end());
        return;
      }
      case Attr::entryDN: out.push_back(dn_of(r)); return;
      case Attr::subschemaSubentry:
        if (r.kind != k_root_dse) out.emplace_back("cn=Subschema");
        return;
      case Attr::structuralObjectClass: {
        static const char* s[] = {"", "organization", "organizationalUnit", "organizationalUnit", "subentry",
                                  "organizationalUnit", "inetOrgPerson", "inetOrgPerson", "groupOfNames"};
        if (r.kind != k_root_dse) out.emplace_back(s[r.kind]);
        return;
      }
      case Attr::hasSubordinates:
        if (r.kind == k_person || r.kind == k_person_stable || r.kind == k_group || r.kind == k_subschema) out.emplace_back("FALSE");
        else if (r.kind == k_unit) out.emplace_back(units[r.idx].children.empty() && units[r.idx].members.empty() ? "FALSE" : "TRUE");
        else if (r.kind != k_root_dse) out.emplace_back("TRUE");
        return;
      default: break;
    }
    switch (r.kind) {
      case k_base:
        if (a == Attr::dc) out.push_back(base_labels.front());
        if (a == Attr::o && !province_name.empty()) out.push_back(province_name);
        return;
      case k_people:
      case k_groups:
        if (a == Attr::ou) out.emplace_back(r.kind == k_people ? "people" : "groups");
        if (a == Attr::description)
          out.emplace_back(r.kind == k_people ? "Mọi người, ở DN cố định (every person, at the stable DN)" : "Nhóm (groups)");
        return;
      case k_unit: {
        const UnitRow& u = units[r.idx];
        if (a == Attr::ou) {
          out.push_back(u.u.slug);
          out.push_back(u.u.name);
        } else if (a == Attr::description) out.push_back(u.u.name);
        else if (a == Attr::congvuUnitCode) out.push_back(u.u.code);
        else if (a == Attr::mail && !u.u.role_address.empty()) out.push_back(u.u.role_address);
        else if (a == Attr::createTimestamp || a == Attr::modifyTimestamp) out.push_back(generalized_time(u.u.created));
        return;
      }
      case k_group: {
        const GroupRow& g = groups[r.idx];
        if (a == Attr::cn) out.push_back(g.g.name);
        else if (a == Attr::description && !g.g.title.empty()) out.push_back(g.g.title);
        else if (a == Attr::mail) out.push_back(g.g.name + "@" + text::ascii_lower(cfg.domain));
        else if (a == Attr::createTimestamp || a == Attr::modifyTimestamp) out.push_back(generalized_time(g.g.created));
        else if (a == Attr::member) for_members(g, [&](std::uint32_t i) { out.push_back(dn_of(Ref{k_person, i})); });
        return;
      }
      case k_person:
      case k_person_stable: {
        const PersonRow& row = persons[r.idx];
        const Person& p = row.p;
        switch (a) {
          case Attr::cn:
          case Attr::displayName: out.push_back(p.full_name); break;
          case Attr::sn: out.push_back(p.family.empty() ? p.full_name : p.family); break;
          case Attr::givenName:
            if (!p.given.empty()) out.push_back(p.given);
            break;
          case Attr::uid: out.push_back(p.login); break;
          case Attr::mail:
            out.push_back(p.address);
            out.insert(out.end(), p.aliases.begin(), p.aliases.end());
            break;
          case Attr::title:
          case Attr::congvuPosition:
            if (!p.position.empty()) out.push_back(p.position);
            break;
          case Attr::ou:
            if (row.unit >= 0) out.push_back(units[static_cast<std::size_t>(row.unit)].u.name);
            break;
          case Attr::departmentNumber:
          case Attr::congvuUnitCode:
            if (!p.unit.empty()) out.push_back(p.unit);
            break;
          case Attr::o:
            if (!province_name.empty()) out.push_back(province_name);
            break;
          case Attr::congvuId:
          case Attr::entryUUID: out.push_back(row.id_str); break;
          case Attr::congvuStatus: out.emplace_back(status_name(p.status)); break;
          case Attr::employeeNumber:
            if (!p.staff_no.empty()) out.push_back(p.staff_no);
            break;
          case Attr::congvuBirthDate:
            if (!p.birth_date.empty()) out.push_back(p.birth_date);
            break;
          case Attr::congvuGender:
            if (!p.gender.empty()) out.push_back(p.gender);
            break;
          case Attr::createTimestamp: out.push_back(generalized_time(p.created)); break;
          case Attr::modifyTimestamp: out.push_back(generalized_time(p.updated ? p.updated : p.created)); break;
          case Attr::memberOf:
            for (const auto& g : groups)
              if (in_group(g, r.idx)) out.push_back(g.dn);
            break;
          default: break;
        }
        return;
      }
      default: return;
    }
  }

  template <class F>
  void for_members(const GroupRow& g, F&& fn) const {
    if (g.g.kind == GroupKind::static_members) {
      std::vector<std::uint32_t> m(g.static_members.begin(), g.static_members.end());
      std::sort(m.begin(), m.end());
      for (auto i : m)
        if (persons[i].unit >= 0) fn(i);
      return;
    }
    auto visit_unit = [&](auto&& self, std::uint32_t u, bool deep) -> void {
      for (auto i : units[u].members)
        if (in_group(g, i)) fn(i);
      if (deep)
        for (auto c : units[u].children) self(self, c, true);
    };
    if (g.g.unit.empty()) {
      for (auto u : top_units) visit_unit(visit_unit, u, true);
    } else if (auto it = unit_by_code.find(g.g.unit); it != unit_by_code.end()) {
      visit_unit(visit_unit, it->second, g.g.subtree);
    }
  }

  std::vector<StaticAttr> static_attrs(Kind k) const {
    if (k == k_root_dse) {
      std::vector<StaticAttr> s = {
          {"objectClass", {"top"}, false},
          {"namingContexts", {base}, true},
          {"subschemaSubentry", {"cn=Subschema"}, true},
          {"supportedLDAPVersion", {"3"}, true},
          {"supportedControl", {kPagedResults, kSortRequest}, true},
          {"supportedExtension", {kStartTls, kWhoAmI}, true},
          {"supportedFeatures", {"1.3.6.1.4.1.4203.1.5.1", "1.3.6.1.4.1.4203.1.5.2", "1.3.6.1.4.1.4203.1.5.3"}, true},
          {"supportedSASLMechanisms", cfg.sasl_mechanisms, true},
          {"vendorName", {"Congvu"}, true},
          {"vendorVersion", {"Congvu LDAP 1"}, true},
      };
      return s;
    }
    return {
        {"objectClass", {"top", "subentry", "subschema"}, false},
        {"cn", {"Subschema"}, false},
        {"attributeTypes", schema_attribute_types(), true},
        {"objectClasses", schema_object_classes(), true},
        {"ldapSyntaxes", schema_syntaxes(), true},
        {"matchingRules", schema_matching_rules(), true},
        {"structuralObjectClass", {"subentry"}, true},
        {"entryDN", {"cn=Subschema"}, true},
        {"createTimestamp", {"20260101000000Z"}, true},
        {"modifyTimestamp", {"20260101000000Z"}, true},
    };
  }

  // ---- filters --------------------------------------------------------------------------

  // Calls fn(normalised value) for each value until it returns true; returns whether it did.
  template <class F>
  bool any_value(Ref r, Attr a, const Identity& who, F&& fn) const {
    if ((r.kind == k_person || r.kind == k_person_stable) && readable(a, who)) {
      const PersonRow& row = persons[r.idx];
      switch (a) {
        case Attr::cn:
        case Attr::displayName: return fn(std::string_view(row.cn_f));
        case Attr::sn: return fn(std::string_view(row.sn_f.empty() ? row.cn_f : row.sn_f));
        case Attr::givenName: return !row.given_f.empty() && fn(std::string_view(row.given_f));
        case Attr::uid: return fn(std::string_view(row.p.login));
        case Attr::mail:
          if (fn(std::string_view(row.p.address))) return true;
          for (const auto& al : row.p.aliases)
            if (fn(std::string_view(text::ascii_lower(al)))) return true;
          return false;
        default: break;
      }
    }
    if (r.kind == k_unit && a == Attr::ou) {
      const UnitRow& u = units[r.idx];
      return fn(std::string_view(normalize(Syntax::name, u.u.slug))) || fn(std::string_view(u.name_f));
    }
    std::vector<std::string> vals;
    values(r, a, who, vals);
    Syntax syn = attr_type(a).syntax;
    for (const auto& v : vals)
      if (fn(std::string_view(normalize(syn, v)))) return true;
    return false;
  }

  bool has_attr(Ref r, Attr a, const Identity& who) const {
    std::vector<std::string> vals;
    values(r, a, who, vals);
    return !vals.empty();
  }

  Tri eval_static(const Compiled& f, Ref r) const {
    for (const auto& s : static_attrs(r.kind)) {
      if (text::ascii_lower(s.name) != f.raw_attr && !(f.attr != Attr::unknown && text::ascii_lower(s.name) == text::ascii_lower(attr_type(f.attr).name)))
        continue;
      if (f.kind == Filter::present) return T;
      for (const auto& v : s.values) {
        std::string n = text::ascii_lower(v);
        if (f.kind == Filter::equality && n == text::ascii_lower(f.raw_value)) return T;
        if (f.kind == Filter::substrings && substring_match(f, n)) return T;
      }
      return F;
    }
    return f.kind == Filter::present ? F : U;
  }

  Tri eval(const Compiled& f, Ref r, const Identity& who) const {
    switch (f.kind) {
      case Filter::and_: {
        Tri out = T;
        for (const auto& c : f.children) {
          Tri t = eval(c, r, who);
          if (t == F) return F;
          if (t == U) out = U;
        }
        return out;
      }
      case Filter::or_: {
        Tri out = F;
        for (const auto& c : f.children) {
          Tri t = eval(c, r, who);
          if (t == T) return T;
          if (t == U) out = U;
        }
        return out;
      }
      case Filter::not_: {
        Tri t = eval(f.children.front(), r, who);
        return t == T ? F : t == F ? T : U;
      }
      default: break;
    }
    if (r.kind == k_root_dse || r.kind == k_subschema) return eval_static(f, r);
    if (f.kind == Filter::extensible) return eval_extensible(f, r, who);
    if (f.attr == Attr::unknown || !readable(f.attr, who)) return f.kind == Filter::present ? F : U;
    Syntax syn = attr_type(f.attr).syntax;
    switch (f.kind) {
      case Filter::present: return has_attr(r, f.attr, who) ? T : F;
      case Filter::equality:
        return any_value(r, f.attr, who, [&](std::string_view v) { return v == f.value; }) ? T : F;
      case Filter::substrings:
        return any_value(r, f.attr, who, [&](std::string_view v) { return substring_match(f, v); }) ? T : F;
      case Filter::ge:
        return any_value(r, f.attr, who, [&](std::string_view v) { return compare_values(syn, v, f.value) >= 0; }) ? T : F;
      case Filter::le:
        return any_value(r, f.attr, who, [&](std::string_view v) { return compare_values(syn, v, f.value) <= 0; }) ? T : F;
      case Filter::approx:
        if (syn != Syntax::name) return any_value(r, f.attr, who, [&](std::string_view v) { return v == f.value; }) ? T : F;
        return any_value(r, f.attr, who, [&](std::string_view v) { return approx_match(f.tokens, v); }) ? T : F;
      default: return U;
    }
  }

  Tri eval_extensible(const Compiled& f, Ref r, const Identity& who) const {
    if (f.rule == Compiled::r_unknown) return U;
    auto match = [&](Attr a, std::string_view raw) {
      if (f.rule == Compiled::r_default) return normalize(attr_type(a).syntax, raw) == normalize(attr_type(a).syntax, f.raw_value);
      return raw == f.raw_value;  // caseExact, octetString
    };
    std::vector<Attr> attrs;
    if (f.attr != Attr::unknown) {
      attrs.push_back(f.attr);
    } else if (!f.raw_attr.empty()) {
      return U;  // an attribute Congvu does not know
    } else {
      for (std::size_t i = 0; i < kAttrCount; ++i) attrs.push_back(static_cast<Attr>(i));
    }
    bool any = false;
    for (Attr a : attrs) {
      if (!readable(a, who)) continue;
      std::vector<std::string> vals;
      values(r, a, who, vals);
      for (const auto& v : vals)
        if (match(a, v)) return T;
      any = any || !vals.empty();
    }
    if (f.dn_attributes) {
      if (auto rdns = parse_dn(dn_of(r)))
        for (const auto& rdn : *rdns) {
          Attr a = find_attr(rdn.attr);
          if (a == Attr::unknown || (f.attr != Attr::unknown && a != f.attr)) continue;
          if (normalize(attr_type(a).syntax, f.raw_value) == rdn.value) return T;
        }
    }
    return F;
  }

  // ---- planning -------------------------------------------------------------------------

  std::optional<std::vector<std::uint32_t>> lookup(const std::unordered_map<std::string, std::uint32_t>& m,
                                                   const std::string& key) const {
    std::vector<std::uint32_t> out;
    if (auto it = m.find(key); it != m.end()) out.push_back(it->second);
    return out;
  }

  std::optional<std::vector<std::uint32_t>> by_trigrams(const std::vector<std::string>& parts) const {
    std::vector<std::uint32_t> grams;
    for (const auto& p : parts) add_trigrams(p, grams);
    if (grams.empty()) return std::nullopt;
    std::sort(grams.begin(), grams.end());
    grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
    std::vector<const std::vector<std::uint32_t>*> lists;
    for (auto g : grams) {
      auto it = postings.find(g);
      if (it == postings.end() || it->second.empty()) return std::vector<std::uint32_t>{};
      lists.push_back(&it->second);
    }
    std::sort(lists.begin(), lists.end(), [](auto* a, auto* b) { return a->size() < b->size(); });
    std::vector<std::uint32_t> out = *lists.front();
    for (std::size_t i = 1; i < lists.size() && !out.empty(); ++i) out = intersect(out, *lists[i]);
    return out;
  }

  // Candidate people for a filter (sorted indices), or nullopt when it cannot be narrowed.
  std::optional<std::vector<std::uint32_t>> plan(const Compiled& f, const Identity& who) const {
    switch (f.kind) {
      case Filter::and_: {
        std::optional<std::vector<std::uint32_t>> best;
        for (const auto& c : f.children) {
          auto p = plan(c, who);
          if (!p) continue;
          best = best ? intersect(*best, *p) : std::move(*p);
          if (best->empty()) break;
        }
        return best;
      }
      case Filter::or_: {
        std::vector<std::uint32_t> all;
        for (const auto& c : f.children) {
          auto p = plan(c, who);
          if (!p) return std::nullopt;
          all = unite(all, *p);
        }
        return all;
      }
      case Filter::equality:
        switch (f.attr) {
          case Attr::uid: return lookup(by_login, f.value);
          case Attr::mail: return lookup(by_address, f.value);
          case Attr::congvuId:
          case Attr::entryUUID: return lookup(by_id, f.value);
          case Attr::employeeNumber:
            if (readable(Attr::employeeNumber, who)) return lookup(by_staff, f.value);
            return std::vector<std::uint32_t>{};
          case Attr::cn:
          case Attr::sn:
          case Attr::givenName:
          case Attr::displayName: return by_trigrams({f.value});
          default: return std::nullopt;
        }
      case Filter::substrings:
      case Filter::approx:
        switch (f.attr) {
          case Attr::uid:
          case Attr::mail:
          case Attr::cn:
          case Attr::sn:
          case Attr::givenName:
          case Attr::displayName: {
            std::vector<std::string> parts = f.kind == Filter::approx ? f.tokens : f.any;
            if (f.initial) parts.push_back(*f.initial);
            if (f.final_) parts.push_back(*f.final_);
            return by_trigrams(parts);
          }
          default: return std::nullopt;
        }
      default: return std::nullopt;
    }
  }

  // ---- scopes ---------------------------------------------------------------------------

  bool unit_within(std::int32_t u, std::uint32_t ancestor) const {
    for (; u >= 0; u = units[static_cast<std::size_t>(u)].parent)
      if (static_cast<std::uint32_t>(u) == ancestor) return true;
    return false;
  }

  // Visits the entries of a scope in tree order; people only when `with_people`. fn returns
  // false to stop; so does walk.
  template <class F>
  bool walk(Ref base_ref, int scope, bool with_people, F&& fn) const {
    if (scope == LDAP_SCOPE_BASE) return fn(base_ref);
    bool deep = scope != LDAP_SCOPE_ONELEVEL;  // subtree, or subordinates (the base excluded)
    if (scope == LDAP_SCOPE_SUBTREE && !fn(base_ref)) return false;
    auto unit_walk = [&](auto&& me, std::uint32_t u) -> bool {
      if (!fn(Ref{k_unit, u})) return false;
      if (!deep) return true;
      if (with_people)
        for (auto i : units[u].members)
          if (!fn(Ref{k_person, i})) return false;
      for (auto c : units[u].children)
        if (!me(me, c)) return false;
      return true;
    };
    switch (base_ref.kind) {
      case k_base:
        if (!fn(Ref{k_people}) || !fn(Ref{k_groups})) return false;
        if (deep)
          for (std::uint32_t g = 0; g < groups.size(); ++g)
            if (!fn(Ref{k_group, g})) return false;
        for (auto u : top_units)
          if (!unit_walk(unit_walk, u)) return false;
        return true;
      case k_people:
        if (with_people)
          for (std::uint32_t i = 0; i < persons.size(); ++i)
            if (!fn(Ref{k_person_stable, i})) return false;
        return true;
      case k_groups:
        for (std::uint32_t g = 0; g < groups.size(); ++g)
          if (!fn(Ref{k_group, g})) return false;
        return true;
      case k_unit:
        if (with_people)
          for (auto i : units[base_ref.idx].members)
            if (!fn(Ref{k_person, i})) return false;
        for (auto c : units[base_ref.idx].children)
          if (!(deep ? unit_walk(unit_walk, c) : fn(Ref{k_unit, c}))) return false;
        return true;
      default: return true;
    }
  }

  // Whether person `i` is in the scope (for planned candidates), and as which entry.
  std::optional<Ref> person_in_scope(std::uint32_t i, Ref base_ref, int scope) const {
    const PersonRow& r = persons[i];
    switch (base_ref.kind) {
      case k_base:
        if (scope != LDAP_SCOPE_ONELEVEL && r.unit >= 0) return Ref{k_person, i};
        return std::nullopt;
      case k_people:
        if (scope != LDAP_SCOPE_BASE) return Ref{k_person_stable, i};
        return std::nullopt;
      case k_unit:
        if (r.unit < 0) return std::nullopt;
        if (scope == LDAP_SCOPE_ONELEVEL ? static_cast<std::uint32_t>(r.unit) == base_ref.idx
                                         : scope != LDAP_SCOPE_BASE && unit_within(r.unit, base_ref.idx))
          return Ref{k_person, i};
        return std::nullopt;
      default: return std::nullopt;
    }
  }

  // ---- output ---------------------------------------------------------------------------

  std::string encode(int id, Ref r, const Selection& sel, const Identity& who, bool types_only) const {
    std::vector<Attribute> attrs;
    if (r.kind == k_root_dse || r.kind == k_subschema) {
      for (auto& s : static_attrs(r.kind))
        if (sel.wants(s)) attrs.push_back({s.name, std::move(s.values)});
      return encode_entry(id, dn_of(r), attrs, types_only);
    }
    for (std::size_t i = 0; i < kAttrCount; ++i) {
      Attr a = static_cast<Attr>(i);
      if (!sel.wants(a)) continue;
      Attribute at{attr_type(a).name, {}};
      values(r, a, who, at.values);
      if (!at.values.empty()) attrs.push_back(std::move(at));
    }
    return encode_entry(id, dn_of(r), attrs, types_only);
  }

  std::string sort_key(Ref r, const SortKey& k, const Identity& who) const {
    Attr a = find_attr(k.attr);
    std::string best;
    bool first = true;
    any_value(r, a, who, [&](std::string_view v) {
      if (first || v < best) best = std::string(v);
      first = false;
      return false;
    });
    return first ? std::string("\xff") : best;  // entries without a value sort last
  }
};

Dit::Dit(Directory& dir, DitConfig cfg) : impl_(std::make_unique<Impl>(dir, std::move(cfg))) { impl_->refresh(); }
Dit::~Dit() = default;

const std::string& Dit::base_dn() const { return impl_->base; }
void Dit::refresh() { impl_->refresh(); }

std::size_t Dit::people() const {
  std::shared_lock lk(impl_->mu);
  return impl_->persons.size();
}

std::string Dit::person_dn(std::string_view login) const {
  return "uid=" + escape_dn_value(login) + ",ou=people," + impl_->base;
}
std::string Dit::service_dn(std::string_view name) const {
  return "cn=" + escape_dn_value(name) + ",ou=services," + impl_->base;
}

Dit::BindName Dit::bind_name(std::string_view dn) {
  Impl& m = *impl_;
  // An address or login instead of a DN (a habit of applications written for Active Directory).
  if (dn.find('=') == std::string_view::npos) {
    std::string who = text::ascii_lower(text::squeeze(dn));
    if (who.empty() || who.size() > 256) return {BindName::invalid, ""};
    std::shared_lock lk(m.mu);
    if (auto it = m.by_address.find(who); it != m.by_address.end()) return {BindName::person, m.persons[it->second].p.login};
    if (auto it = m.by_login.find(who); it != m.by_login.end()) return {BindName::person, who};
    return {BindName::none, ""};
  }
  auto rdns = parse_dn(dn);
  if (!rdns || rdns->empty()) return {BindName::invalid, ""};
  std::string parent = Impl::join(*rdns, 1);
  if ((*rdns)[0].attr == "cn" && parent == "ou=services," + m.base_norm) return {BindName::service, (*rdns)[0].value};
  std::shared_lock lk(m.mu);
  auto r = m.resolve(*rdns);
  if (r && (r->kind == k_person || r->kind == k_person_stable)) return {BindName::person, m.persons[r->idx].p.login};
  return {BindName::none, ""};
}

Code Dit::compare(const CompareRequest& req, const Identity& who, std::string& matched, std::string& diagnostic) {
  Impl& m = *impl_;
  auto rdns = parse_dn(req.dn);
  if (!rdns) {
    diagnostic = "invalid DN";
    return Code::invalid_dn_syntax;
  }
  std::shared_lock lk(m.mu);
  auto r = m.resolve(*rdns);
  if (!r || !m.visible(*r, who)) {
    if (!who.address_book) {
      diagnostic = "bind first";
      return Code::insufficient_access_rights;
    }
    matched = m.matched(*rdns);
    diagnostic = "no such entry";
    return Code::no_such_object;
  }
  Attr a = find_attr(req.attr);
  if (a == Attr::userPassword || (a != Attr::unknown && !Impl::readable(a, who))) {
    diagnostic = "not readable by this account";
    return Code::insufficient_access_rights;
  }
  Filter f;
  f.kind = Filter::equality;
  f.attr = req.attr;
  f.value = req.value;
  Compiled c = compile(f);
  if (r->kind != k_root_dse && r->kind != k_subschema) {
    if (a == Attr::unknown) {
      diagnostic = "unknown attribute type";
      return Code::undefined_attribute_type;
    }
    if (!m.has_attr(*r, a, who)) {
      diagnostic = "the entry has no such attribute";
      return Code::no_such_attribute;
    }
  }
  Tri t = m.eval(c, *r, who);
  if (t == U) {
    diagnostic = "the entry has no such attribute";
    return Code::no_such_attribute;
  }
  return t == T ? Code::compare_true : Code::compare_false;
}

SearchOutcome Dit::search(int msg_id, const SearchRequest& req, const std::vector<Control>& controls,
                          const Identity& who, PagedSearches& paging, const std::function<void(std::string&&)>& emit) {
  Impl& m = *impl_;
  SearchOutcome out;
  auto rdns = parse_dn(req.base);
  if (!rdns) {
    out.code = Code::invalid_dn_syntax;
    out.diagnostic = "invalid base DN";
    return out;
  }
  // Controls.
  const Control* paged_ctl = nullptr;
  const Control* sort_ctl = nullptr;
  for (const auto& c : controls) {
    if (c.oid == kPagedResults) paged_ctl = &c;
    if (c.oid == kSortRequest) sort_ctl = &c;
  }
  std::optional<PagedResults> paged;
  if (paged_ctl) {
    paged = paged_ctl->value ? decode_paged(*paged_ctl->value) : std::nullopt;
    if (!paged) {
      out.code = Code::protocol_error;
      out.diagnostic = "malformed paged results control";
      return out;
    }
  }
  std::optional<std::vector<SortKey>> sort;
  if (sort_ctl) {
    sort = sort_ctl->value ? decode_sort(*sort_ctl->value) : std::nullopt;
    if (!sort) {
      out.code = Code::protocol_error;
      out.diagnostic = "malformed sort control";
      return out;
    }
    for (const auto& k : *sort)
      if (find_attr(k.attr) == Attr::unknown) {
        if (sort_ctl->critical) {
          out.code = Code::unavailable_critical_extension;
          out.diagnostic = "cannot sort on " + k.attr;
          out.controls.push_back({kSortResponse, false, encode_sort_result(Code::no_such_attribute)});
          return out;
        }
        sort.reset();
        out.controls.push_back({kSortResponse, false, encode_sort_result(Code::no_such_attribute)});
        break;
      }
  }

  Selection sel(req.attributes);
  std::shared_lock lk(m.mu);
  std::string fingerprint = req.base + '\0' + std::to_string(req.scope) + '\0' + to_string(req.filter);
  for (const auto& a : req.attributes) fingerprint += '\0' + a;

  auto finish_page = [&](PagedSearch& st, const std::string& cookie) {
    std::size_t end = std::min(st.refs.size(), st.next + static_cast<std::size_t>(paged->size));
    for (; st.next < end; ++st.next) {
      emit(m.encode(msg_id, Ref::unpack(st.refs[st.next]), sel, who, req.types_only));
      ++out.entries;
    }
    bool more = st.next < st.refs.size();
    out.controls.push_back({kPagedResults, false, encode_paged(static_cast<std::int64_t>(st.refs.size()), more ? cookie : "")});
    if (!more) paging.open.erase(cookie);
  };
  if (paged && !paged->cookie.empty()) {
    auto it = paging.open.find(paged->cookie);
    if (it == paging.open.end() || it->second.fingerprint != fingerprint) {
      out.code = Code::unwilling_to_perform;
      out.diagnostic = "unknown paged results cookie (a later page must repeat the first request)";
      return out;
    }
    if (paged->size == 0) {  // RFC 2696: abandons the paged search
      paging.open.erase(it);
      out.controls.push_back({kPagedResults, false, encode_paged(0, "")});
      return out;
    }
    if (it->second.generation != m.generation) {
      paging.open.erase(it);
      out.code = Code::unwilling_to_perform;
      out.diagnostic = "the directory was reorganised since the first page; start again";
      return out;
    }
    std::string cookie = it->first;
    finish_page(it->second, cookie);
    return out;
  }

  auto base_ref = m.resolve(*rdns);
  if (base_ref && !m.visible(*base_ref, who)) {
    out.code = who.address_book ? Code::no_such_object : Code::insufficient_access_rights;
    out.diagnostic = who.address_book ? "no such entry" : "bind first: this server does not answer anonymous searches";
    return out;
  }
  if (!base_ref || (base_ref->kind == k_root_dse && req.scope != LDAP_SCOPE_BASE)) {
    out.code = Code::no_such_object;
    out.matched = base_ref ? "" : m.matched(*rdns);
    out.diagnostic = "no such entry; the base is " + m.base;
    return out;
  }
  Compiled filter = compile(req.filter);
  bool collect = paged.has_value() || sort.has_value();
  std::size_t limit = req.size_limit > 0 ? static_cast<std::size_t>(req.size_limit) : 0;
  if (!paged && (limit == 0 || limit > m.cfg.size_limit)) limit = m.cfg.size_limit;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::seconds(req.time_limit > 0 ? std::min<std::int64_t>(req.time_limit, 60) : 60);
  std::vector<std::uint64_t> found;
  std::size_t seen = 0;
  auto consider = [&](Ref r) {
    if ((++seen & 255) == 0 && std::chrono::steady_clock::now() > deadline) {
      out.code = Code::time_limit_exceeded;
      return false;
    }
    if (!m.visible(r, who) || m.eval(filter, r, who) != T) return true;
    if (!collect && limit && out.entries >= limit) {
      out.code = Code::size_limit_exceeded;
      return false;
    }
    if (collect) {
      found.push_back(r.pack());
    } else {
      emit(m.encode(msg_id, r, sel, who, req.types_only));
      ++out.entries;
    }
    return true;
  };
  bool people_in_scope = req.scope != LDAP_SCOPE_BASE &&
                         (base_ref->kind == k_base || base_ref->kind == k_people || base_ref->kind == k_unit);
  auto candidates = people_in_scope ? m.plan(filter, who) : std::nullopt;
  if (m.walk(*base_ref, req.scope, !candidates, consider) && candidates) {
    for (auto i : *candidates) {
      auto r = m.person_in_scope(i, *base_ref, req.scope);
      if (r && !consider(*r)) break;
    }
  }
  if (!collect) return out;

  if (sort) {
    std::vector<std::pair<std::vector<std::string>, std::uint64_t>> keyed;
    keyed.reserve(found.size());
    for (auto f : found) {
      std::vector<std::string> keys;
      for (const auto& k : *sort) keys.push_back(m.sort_key(Ref::unpack(f), k, who));
      keyed.emplace_back(std::move(keys), f);
    }
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
      for (std::size_t i = 0; i < sort->size(); ++i) {
        int c = a.first[i].compare(b.first[i]);
        if (c != 0) return (*sort)[i].reverse ? c > 0 : c < 0;
      }
      return false;
    });
    for (std::size_t i = 0; i < found.size(); ++i) found[i] = keyed[i].second;
    out.controls.push_back({kSortResponse, false, encode_sort_result(Code::success)});
  }
  if (limit && found.size() > limit) {
    found.resize(limit);
    out.code = Code::size_limit_exceeded;
  }
  if (!paged) {
    for (auto f : found) {
      emit(m.encode(msg_id, Ref::unpack(f), sel, who, req.types_only));
      ++out.entries;
    }
    return out;
  }
  if (paged->size == 0) {
    out.controls.push_back({kPagedResults, false, encode_paged(static_cast<std::int64_t>(found.size()), "")});
    return out;
  }
  // At most 8 paged searches per connection: the oldest goes.
  if (paging.open.size() >= 8) paging.open.erase(paging.open.begin());
  std::string cookie = std::to_string(++paging.counter);
  cookie.insert(0, 8 - std::min<std::size_t>(8, cookie.size()), '0');
  auto& st = paging.open[cookie];
  st.generation = m.generation;
  st.fingerprint = fingerprint;
  st.refs = std::move(found);
  finish_page(st, cookie);
  return out;
}

}  // namespace congvu::directory::ldap
