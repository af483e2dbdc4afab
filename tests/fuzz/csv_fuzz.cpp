// CSV: parse_csv and CsvTable must never crash, and rows must keep increasing line numbers.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto rows = congvu::parse_csv(in);
  if (rows) {
    std::size_t last = 0;
    for (const auto& r : *rows) {
      if (r.line <= last && last != 0) std::abort();
      last = r.line;
    }
  }
  (void)congvu::CsvTable::parse(in, {"staff_no", "full_name"});
  return 0;
}
