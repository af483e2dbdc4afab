// RFC 4180 CSV, as written by spreadsheets and by the province's HR exports: comma separated,
// fields optionally in double quotes (with "" for a quote, and line breaks allowed inside),
// CRLF or LF line ends, an optional UTF-8 byte order mark. Excel's "Unicode Text" export is
// read too: UTF-16 (LE or BE) after its byte order mark is decoded to UTF-8, and a header row
// with tabs and no comma makes the file tab-separated. A NUL byte (UTF-16 without a byte order
// mark, a binary file) is refused with the fix. Every row remembers the line it started on so
// that callers can report `file:line: reason`.
// parse_csv() is a pure function over bytes; it is fuzzed (tests/fuzz/csv_fuzz.cpp).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace congvu {

struct CsvRow {
  std::size_t line = 0;
  std::vector<std::string> fields;
};

// All rows, header included; blank lines are skipped. The error message starts with
// "SOURCE:N:" (or "line N:" when no source is given) naming the first line that cannot be read.
Result<std::vector<CsvRow>> parse_csv(std::string_view text, const std::string& source = "");

// A CSV file whose first row names the columns.
class CsvTable {
 public:
  // Fails with "SOURCE:1: missing column 'x'" when a required column is absent, and with the
  // line of any row whose field count differs from the header's.
  static Result<CsvTable> parse(std::string_view text, const std::vector<std::string>& required,
                                const std::string& source = "");

  const std::vector<CsvRow>& rows() const { return rows_; }
  // The field of `row` in column `name` (which must be one of the required columns).
  const std::string& get(const CsvRow& row, const std::string& name) const;
  bool has_column(const std::string& name) const { return columns_.count(name) != 0; }

 private:
  std::map<std::string, std::size_t> columns_;
  std::vector<CsvRow> rows_;
};

}  // namespace congvu
