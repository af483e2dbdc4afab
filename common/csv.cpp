#include "common/csv.hpp"

#include <algorithm>

namespace congvu {
namespace {

// "units.csv:12: why", or "line 12: why" without a source name.
Error at_line(const std::string& source, std::size_t line, const std::string& why) {
  return make_error(Errc::invalid_argument,
                    (source.empty() ? "line " : source + ":") + std::to_string(line) + ": " + why);
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// UTF-16 after its byte order mark (Excel's "Unicode Text" export) as UTF-8.
Result<std::string> utf16_to_utf8(std::string_view in, bool big_endian, const std::string& source) {
  std::string out;
  out.reserve(in.size());
  std::size_t line = 1;
  auto unit = [&](std::size_t k) -> char16_t {
    auto a = static_cast<unsigned char>(in[k]), b = static_cast<unsigned char>(in[k + 1]);
    return static_cast<char16_t>(big_endian ? (a << 8 | b) : (b << 8 | a));
  };
  const std::string fix = " (save the file again as \"CSV UTF-8\")";
  if (in.size() % 2) return at_line(source, line, "the file is UTF-16 but ends in the middle of a character" + fix);
  for (std::size_t k = 0; k < in.size(); k += 2) {
    char32_t c = unit(k);
    if (c >= 0xD800 && c <= 0xDBFF) {
      if (k + 2 >= in.size() || unit(k + 2) < 0xDC00 || unit(k + 2) > 0xDFFF)
        return at_line(source, line, "the file is UTF-16 with a broken surrogate pair" + fix);
      c = 0x10000 + ((c - 0xD800) << 10) + (unit(k + 2) - 0xDC00);
      k += 2;
    } else if (c >= 0xDC00 && c <= 0xDFFF) {
      return at_line(source, line, "the file is UTF-16 with a broken surrogate pair" + fix);
    }
    if (c == '\n') ++line;
    append_utf8(out, c);
  }
  return out;
}

}  // namespace

Result<std::vector<CsvRow>> parse_csv(std::string_view text, const std::string& source) {
  // Spreadsheets save "Unicode Text" as UTF-16 with a byte order mark: read it as UTF-8.
  std::string decoded;
  if (text.substr(0, 2) == "\xFF\xFE" || text.substr(0, 2) == "\xFE\xFF") {
    auto utf8 = utf16_to_utf8(text.substr(2), text[0] == '\xFE', source);
    if (!utf8) return utf8.error();
    decoded = std::move(*utf8);
    text = decoded;
  }
  std::string_view in = text;
  std::vector<CsvRow> rows;
  std::size_t i = 0, line = 1;
  if (in.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  auto err = [&](std::size_t at, const std::string& why) { return at_line(source, at, why); };
  if (auto nul = in.find('\0'); nul != std::string_view::npos)
    return err(1 + static_cast<std::size_t>(std::count(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(nul), '\n')),
               "a NUL byte: the file looks like UTF-16 without a byte order mark or a binary file "
               "(save it as \"CSV UTF-8\")");
  // Tab-separated when the header row has tabs and no comma (the "Unicode Text" export).
  std::string_view header = in.substr(i);
  header = header.substr(0, header.find('\n'));
  const char sep = header.find('\t') != std::string_view::npos && header.find(',') == std::string_view::npos ? '\t' : ',';
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
        if (i < in.size() && in[i] != sep && in[i] != '\n' && in[i] != '\r')
          return err(line, "text after a closing quote (quote the whole field, doubling inner quotes)");
      } else {
        while (i < in.size() && in[i] != sep && in[i] != '\n' && in[i] != '\r') {
          if (in[i] == '"')
            return err(line, "a quote inside an unquoted field (quote the field and double the quote)");
          field += in[i++];
        }
      }
      row.fields.push_back(std::move(field));
      field.clear();
      if (i >= in.size()) {
        row_done = true;
      } else if (in[i] == sep) {
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
