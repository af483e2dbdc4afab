// HR event files against a small province in the in-memory store: any file either fails with
// a message or applies, and the directory stays consistent either way.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "directory/directory.hpp"
#include "directory/import.hpp"

namespace {
const char* kUnits =
    "code,parent_code,kind,name,slug\nP,,province,Tỉnh,tinh\nD,P,department,Sở,so\nV,D,division,Phòng,phong\n";
const char* kStaff =
    "staff_no,full_name,unit_code,position\nA1,Nguyễn Văn An,D,Giám đốc\nA2,Lê Thị Hà,V,Văn thư\nA3,Trần Văn Ba,V,Chuyên viên\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace congvu::directory;
  auto store = congvu::kv::open_memory(schema::table_names());
  Settings settings;
  Directory dir(*store, settings);
  CsvFile units{"u", kUnits}, staff{"s", kStaff};
  auto imported = dir.write(Actor{"fuzz"}, 1, [&](Change& c) { return import_csv(c, &units, &staff, nullptr, ""); });
  if (!imported) std::abort();
  CsvFile events{"e", std::string(reinterpret_cast<const char*>(data), size)};
  for (bool stop : {false, true}) {
    auto r = dir.write(Actor{"fuzz"}, 2, [&](Change& c) { return apply_events(c, events, "2027-06-01", stop); });
    (void)r;
  }
  if (!dir.read([](Snapshot& s) { return s.check(); }).empty()) std::abort();
  return 0;
}
