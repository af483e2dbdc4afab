#include "common/csv.hpp"

namespace congvu {
namespace {

// "units.csv:12: why", or "line 12: why" without a source name.
Error at_line(const std::string& source, std::size_t line, const std::string& why) {
  return make_error(Errc::invalid_argument,
                    (source.empty() ? "line " : source + ":") + std::to_string(line) + ": " + why);
}

}  // namespace

Result<std::vector<CsvRow>> parse_csv(std::string_view in, const std::string& source) {
  std::vector<CsvRow> rows;
  std::size_t i = 0, line = 1;
  if (in.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  auto err = [&](std::size_t at, const std::string& why) { return at_line(source, at, why); };
  while (i < in.size()) {
    CsvRow row;
    row.line = line;
    std::string field;
    bool row_done = false;
    // A line holding only a line break is blank: skip it.
    if (in[i] == '\n' || (in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n')) {
      i += in[i] == '\r' ? 2 : 1;
      ++line;
      continue;
    }
    while (!row_done) {
      if (i < in.size() && in[i] == '"') {
        ++i;
        for (;;) {
          if (i >= in.size()) return err(row.line, "a quoted field is never closed (add the closing \")");
          char c = in[i++];
          if (c == '"') {
            if (i < in.size() && in[i] == '"') {
              field += '"';
              ++i;
            } else {
              break;
            }
          } else {
            if (c == '\n') ++line;
            field += c;
          }
        }
        if (i < in.size() && in[i] != ',' && in[i] != '\n' && in[i] != '\r')
          return err(line, "text after a closing quote (quote the whole field, doubling inner quotes)");
      } else {
        while (i < in.size() && in[i] != ',' && in[i] != '\n' && in[i] != '\r') {
          if (in[i] == '"')
            return err(line, "a quote inside an unquoted field (quote the field and double the quote)");
          field += in[i++];
        }
      }
      row.fields.push_back(std::move(field));
      field.clear();
      if (i >= in.size()) {
        row_done = true;
      } else if (in[i] == ',') {
        ++i;
      } else if (in[i] == '\n') {
        ++i;
        ++line;
        row_done = true;
      } else {  // '\r'
        if (i + 1 >= in.size() || in[i + 1] != '\n')
          return err(line, "a carriage return not followed by a line feed");
        i += 2;
        ++line;
        row_done = true;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<CsvTable> CsvTable::parse(std::string_view text, const std::vector<std::string>& required,
                                 const std::string& source) {
  auto rows = parse_csv(text, source);
  if (!rows) return rows.error();
  if (rows->empty()) return at_line(source, 1, "the file is empty (expected a header row)");
  CsvTable t;
  const auto& header = rows->front();
  for (std::size_t k = 0; k < header.fields.size(); ++k) {
    if (!t.columns_.emplace(header.fields[k], k).second)
      return at_line(source, 1, "column '" + header.fields[k] + "' appears twice");
  }
  for (const auto& name : required) {
    if (!t.columns_.count(name)) return at_line(source, 1, "missing column '" + name + "'");
  }
  for (std::size_t r = 1; r < rows->size(); ++r) {
    auto& row = (*rows)[r];
    if (row.fields.size() != header.fields.size())
      return at_line(source, row.line,
                     std::to_string(row.fields.size()) + " fields where the header has " +
                         std::to_string(header.fields.size()) + " (quote fields that contain commas)");
    t.rows_.push_back(std::move(row));
  }
  return t;
}

const std::string& CsvTable::get(const CsvRow& row, const std::string& name) const {
  return row.fields.at(columns_.at(name));
}

}  // namespace congvu
