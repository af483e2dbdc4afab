#include "directory/import.hpp"

#include <algorithm>
#include <functional>
#include <map>

#include "common/csv.hpp"
#include "common/json.hpp"
#include "common/text.hpp"

namespace congvu::directory {
namespace {

Error at(const CsvFile& f, std::size_t line, const std::string& why) {
  return make_error(Errc::invalid_argument, f.name + ":" + std::to_string(line) + ": " + why);
}

// Rewrites the other province's unit codes and staff numbers (merge imports only).
std::string recode(const MergeImport* m, const std::string& code) {
  if (!m || m->recode_from.empty() || !code.ends_with(m->recode_from)) return code;
  return code.substr(0, code.size() - m->recode_from.size()) + m->recode_to;
}

Status import_units(Change& c, const CsvFile& f, ImportReport& rep, const MergeImport* m = nullptr) {
  auto table = CsvTable::parse(f.text, {"code", "parent_code", "kind", "name", "slug"}, f.name);
  if (!table) return table.error();
  std::map<std::string, const CsvRow*> rows;
  for (const auto& row : table->rows()) {
    const auto& code = table->get(row, "code");
    if (!text::valid_utf8(code) || !text::valid_utf8(table->get(row, "name")))
      return at(f, row.line, "not valid UTF-8 (save the file as UTF-8)");
    auto [it, fresh] = rows.emplace(code, &row);
    if (!fresh) return at(f, row.line, "unit " + code + " already appears on line " + std::to_string(it->second->line));
  }
  // Parents before children, whatever the order of the file; a cycle is an error.
  std::map<std::string, int> state;  // 1 visiting, 2 done
  std::function<Status(const std::string&)> add = [&](const std::string& code) -> Status {
    const CsvRow& row = *rows.at(code);
    if (state[code] == 2) return ok_status();
    if (state[code] == 1) return at(f, row.line, "unit " + code + " is its own ancestor");
    state[code] = 1;
    const auto& file_parent = table->get(row, "parent_code");
    if (!file_parent.empty() && rows.count(file_parent))
      if (auto s = add(file_parent); !s) return s;
    std::string parent = recode(m, file_parent);
    if (m && file_parent.empty()) parent = m->under;
    auto kind = parse_kind(table->get(row, "kind"));
    if (!kind) return at(f, row.line, "kind '" + table->get(row, "kind") + "' is not one of province, department, district, division, commune");
    NewUnit nu{recode(m, code), parent, table->get(row, "name"), table->get(row, "slug"), *kind, ""};
    if (m && nu.kind == UnitKind::province && !parent.empty()) nu.kind = UnitKind::department;  // under this province now
    auto existing = c.unit(nu.code);
    if (m && !existing && valid_slug(nu.slug)) {
      // A slug taken here (the same agencies exist in both provinces) takes the next suffix.
      std::string slug = nu.slug;
      for (unsigned n = 2; c.get_raw(schema::addr, slug + "@" + c.settings().domain) || c.get_raw(schema::login, slug); ++n)
        slug = nu.slug + std::to_string(n);
      if (slug != nu.slug) ++rep.slugs_changed;
      nu.slug = slug;
    }
    if (existing) {
      if (existing->parent != nu.parent || existing->kind != nu.kind || existing->name != text::nfc(nu.name) ||
          (!m && existing->slug != nu.slug))
        return at(f, row.line, "unit " + nu.code + " already exists with other values (" +
                                 (m ? "give --recode FROM=TO so that the merged province's codes differ" : "change units with `congvu unit`") + ")");
      ++rep.units_unchanged;
    } else {
      auto r = c.add_unit(nu);
      if (!r) return at(f, row.line, r.error().message);
      ++rep.units_added;
      if (m) {  // its old role address keeps delivering to its role mailbox
        std::string old = text::ascii_lower(table->get(row, "slug")) + "@" + m->domain;
        if (!valid_slug(table->get(row, "slug")) || c.get_raw(schema::addr, old))
          return at(f, row.line, "the old role address " + old + " is not valid or already taken");
        c.put(schema::addr, old, "U" + nu.code);
        c.audit("unit.alias", nu.code, "merged from " + m->domain, json_object({{"alias", old}}));
        ++rep.aliases;
      }
    }
    state[code] = 2;
    return ok_status();
  };
  for (const auto& row : table->rows())
    if (auto s = add(table->get(row, "code")); !s) return s;
  return ok_status();
}

Status import_staff(Change& c, const CsvFile& f, const std::string& date, ImportReport& rep, const MergeImport* m = nullptr) {
  auto table = CsvTable::parse(f.text, {"staff_no", "full_name", "unit_code", "position"}, f.name);
  if (!table) return table.error();
  auto opt = [&](const CsvRow& row, const char* col) {
    return table->has_column(col) ? table->get(row, col) : std::string();
  };
  std::map<std::string, std::size_t> seen;
  std::map<std::string, unsigned> issued;  // merge: address base -> suffixes the old province issued
  for (const auto& row : table->rows()) {
    for (const auto& field : row.fields)
      if (!text::valid_utf8(field)) return at(f, row.line, "not valid UTF-8 (save the file as UTF-8)");
    HireSpec h;
    h.staff_no = (m ? m->staff_prefix : std::string()) + table->get(row, "staff_no");
    if (auto [it, fresh] = seen.emplace(h.staff_no, row.line); !fresh)
      return at(f, row.line, "staff number " + h.staff_no + " already appears on line " + std::to_string(it->second));
    h.full_name = table->get(row, "full_name");
    h.parts = {opt(row, "family"), opt(row, "middle"), opt(row, "given")};
    h.gender = opt(row, "gender");
    h.birth_date = opt(row, "birth_date");
    h.unit = recode(m, table->get(row, "unit_code"));
    h.position = table->get(row, "position");
    h.date = date;
    h.kind = AssignmentKind::import;
    auto r = c.hire(h);
    if (!r) return at(f, row.line, r.error().message);
    ++rep.people_added;
    if (!m) continue;
    std::string old = text::ascii_lower(opt(row, "address"));
    if (old.empty()) {
      std::string base = address_base({r->family, r->middle, r->given});
      if (base.empty()) continue;  // no Latin letters: they had no rule-made address
      old = address_candidate(base, ++issued[base]) + "@" + m->domain;
    } else if (!old.ends_with("@" + m->domain)) {
      return at(f, row.line, "address " + old + " is not at " + m->domain);
    }
    if (auto s = c.add_alias(r->id, old, "merged from " + m->domain); !s) return at(f, row.line, s.error().message);
    ++rep.aliases;
    if (old.substr(0, old.find('@')) != r->login) ++rep.addresses_changed;
  }
  return ok_status();
}

Status import_credentials(Change& c, const CsvFile& f, ImportReport& rep, const std::string& staff_prefix = {}) {
  auto table = CsvTable::parse(f.text, {"staff_no", "password_hash"}, f.name);
  if (!table) return table.error();
  for (const auto& row : table->rows()) {
    const auto& staff_no = table->get(row, "staff_no");
    auto p = c.by_staff_no(staff_prefix + staff_no);
    if (!p) return at(f, row.line, "staff number " + staff_prefix + staff_no + " is not in the directory");
    auto s = c.set_password_hash(p->id, table->get(row, "password_hash"));
    if (!s) return at(f, row.line, s.error().message);
    ++rep.credentials;
  }
  return ok_status();
}

}  // namespace

Result<ImportReport> import_merge(Change& c, const CsvFile& units, const CsvFile& staff, const CsvFile* credentials,
                                  const MergeImport& m0, const std::string& date) {
  MergeImport m = m0;
  m.domain = text::ascii_lower(m.domain);
  const auto& merged = c.settings().merged_domains;
  if (m.domain == c.settings().domain) return make_error(Errc::invalid_argument, m.domain + " is this province's own domain");
  if (std::find(merged.begin(), merged.end(), m.domain) == merged.end())
    return make_error(Errc::invalid_argument, "add \"" + m.domain + "\" to [directory] merged_domains in the configuration first, so that mail to the old addresses is accepted");
  if (m.under.empty()) {
    auto top = c.children("");
    if (top.empty()) return make_error(Errc::not_found, "this province has no units yet: import its own files first");
    m.under = top.front().code;
  }
  auto under = c.unit(m.under);
  if (!under || !under->dissolved.empty()) return make_error(Errc::not_found, "unit " + m.under + " (--under) does not exist");
  ImportReport rep;
  if (auto s = import_units(c, units, rep, &m); !s) return s.error();
  if (auto s = import_staff(c, staff, date, rep, &m); !s) return s.error();
  if (credentials)  // it names the old staff numbers
    if (auto s = import_credentials(c, *credentials, rep, m.staff_prefix); !s) return s.error();
  return rep;
}

Result<ImportReport> import_csv(Change& c, const CsvFile* units, const CsvFile* staff,
                                const CsvFile* credentials, const std::string& date) {
  ImportReport rep;
  if (units)
    if (auto s = import_units(c, *units, rep); !s) return s.error();
  if (staff)
    if (auto s = import_staff(c, *staff, date, rep); !s) return s.error();
  if (credentials)
    if (auto s = import_credentials(c, *credentials, rep); !s) return s.error();
  return rep;
}

}  // namespace congvu::directory
