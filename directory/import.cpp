#include "directory/import.hpp"

#include <functional>
#include <map>

#include "common/csv.hpp"
#include "common/text.hpp"

namespace congvu::directory {
namespace {

Error at(const CsvFile& f, std::size_t line, const std::string& why) {
  return make_error(Errc::invalid_argument, f.name + ":" + std::to_string(line) + ": " + why);
}

Status import_units(Change& c, const CsvFile& f, ImportReport& rep) {
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
    const auto& parent = table->get(row, "parent_code");
    if (!parent.empty() && rows.count(parent))
      if (auto s = add(parent); !s) return s;
    auto kind = parse_kind(table->get(row, "kind"));
    if (!kind) return at(f, row.line, "kind '" + table->get(row, "kind") + "' is not one of province, department, district, division, commune");
    NewUnit nu{code, parent, table->get(row, "name"), table->get(row, "slug"), *kind, ""};
    if (auto existing = c.unit(code)) {
      if (existing->parent != nu.parent || existing->kind != nu.kind || existing->name != text::nfc(nu.name) ||
          existing->slug != nu.slug)
        return at(f, row.line, "unit " + code + " already exists with other values (change units with `congvu unit`)");
      ++rep.units_unchanged;
    } else {
      auto r = c.add_unit(nu);
      if (!r) return at(f, row.line, r.error().message);
      ++rep.units_added;
    }
    state[code] = 2;
    return ok_status();
  };
  for (const auto& row : table->rows())
    if (auto s = add(table->get(row, "code")); !s) return s;
  return ok_status();
}

Status import_staff(Change& c, const CsvFile& f, const std::string& date, ImportReport& rep) {
  auto table = CsvTable::parse(f.text, {"staff_no", "full_name", "unit_code", "position"}, f.name);
  if (!table) return table.error();
  auto opt = [&](const CsvRow& row, const char* col) {
    return table->has_column(col) ? table->get(row, col) : std::string();
  };
  std::map<std::string, std::size_t> seen;
  for (const auto& row : table->rows()) {
    for (const auto& field : row.fields)
      if (!text::valid_utf8(field)) return at(f, row.line, "not valid UTF-8 (save the file as UTF-8)");
    HireSpec h;
    h.staff_no = table->get(row, "staff_no");
    if (auto [it, fresh] = seen.emplace(h.staff_no, row.line); !fresh)
      return at(f, row.line, "staff number " + h.staff_no + " already appears on line " + std::to_string(it->second));
    h.full_name = table->get(row, "full_name");
    h.parts = {opt(row, "family"), opt(row, "middle"), opt(row, "given")};
    h.gender = opt(row, "gender");
    h.birth_date = opt(row, "birth_date");
    h.unit = table->get(row, "unit_code");
    h.position = table->get(row, "position");
    h.date = date;
    h.kind = AssignmentKind::import;
    auto r = c.hire(h);
    if (!r) return at(f, row.line, r.error().message);
    ++rep.people_added;
  }
  return ok_status();
}

Status import_credentials(Change& c, const CsvFile& f, ImportReport& rep) {
  auto table = CsvTable::parse(f.text, {"staff_no", "password_hash"}, f.name);
  if (!table) return table.error();
  for (const auto& row : table->rows()) {
    const auto& staff_no = table->get(row, "staff_no");
    auto p = c.by_staff_no(staff_no);
    if (!p) return at(f, row.line, "staff number " + staff_no + " is not in the directory");
    auto s = c.set_password_hash(p->id, table->get(row, "password_hash"));
    if (!s) return at(f, row.line, s.error().message);
    ++rep.credentials;
  }
  return ok_status();
}

}  // namespace

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
