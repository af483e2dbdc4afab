// A directory on either store, with a small province: a department with two divisions and a
// commune, and cheap Argon2 parameters so that password tests run fast.
#pragma once

#include <gtest/gtest.h>

#include "directory/directory.hpp"
#include "directory/import.hpp"
#include "tests/support/stores.hpp"

namespace congvu::test {

constexpr UnixMs kNow = 1795280400000;  // 2026-11-21T17:00:00Z

inline const char* kUnitsCsv =
    "code,parent_code,kind,name,slug\n"
    "000.00.00.H99,,province,Ủy ban nhân dân tỉnh Mẫu,ubnd\n"
    "000.00.02.H99,000.00.00.H99,department,Sở Nội vụ,sonv\n"
    "000.01.02.H99,000.00.02.H99,division,Phòng Tổ chức cán bộ,sonv-tccb\n"
    "000.02.02.H99,000.00.02.H99,division,Văn phòng,sonv-vanphong\n"
    "000.00.03.H99,000.00.00.H99,department,\"Sở Văn hóa, Thể thao và Du lịch\",sovhttdl\n"
    "001.01.00.H99,000.00.00.H99,commune,Ủy ban nhân dân xã Tam An,xa-taman\n";

inline const char* kStaffCsv =
    "staff_no,full_name,family,middle,given,gender,birth_date,unit_code,position\n"
    "T001,Nguyễn Văn An,Nguyễn,Văn,An,M,1980-01-01,000.01.02.H99,Trưởng phòng\n"
    "T002,Nguyễn Thị Thu Hà,Nguyễn,Thị Thu,Hà,F,1990-02-02,000.01.02.H99,Văn thư\n"
    "T003,Đặng Văn Đức,Đặng,Văn,Đức,M,1985-03-03,000.02.02.H99,Chuyên viên\n"
    "T004,Nguyễn Văn An,Nguyễn,Văn,An,M,1995-04-04,000.02.02.H99,Văn thư\n"
    "T005,Trần Anh Tuấn,Trần,Anh,Tuấn,M,1970-05-05,000.00.03.H99,Giám đốc\n"
    "T006,Lê Thị Mai,Lê,Thị,Mai,F,1992-06-06,001.01.00.H99,Công chức Văn phòng - Thống kê\n";

class DirectoryTest : public testing::TestWithParam<Backend> {
 protected:
  DirectoryTest() : h_(GetParam(), directory::schema::table_names()), dir_(h_.store(), settings()) {}

  static directory::Settings settings() {
    directory::Settings s;
    s.argon2 = {1, 64, 1};
    return s;
  }

  void import_province() {
    directory::CsvFile units{"units.csv", kUnitsCsv}, staff{"staff.csv", kStaffCsv};
    auto r = dir_.write(actor_, kNow, [&](directory::Change& c) {
      return directory::import_csv(c, &units, &staff, nullptr, "2020-01-01");
    });
    ASSERT_TRUE(r) << r.error().message;
  }

  directory::Person who(std::string_view any) {
    auto p = dir_.read([&](directory::Snapshot& s) { return s.resolve(any); });
    if (!p) throw std::runtime_error("no person " + std::string(any));
    return *p;
  }

  std::uint64_t audit_records() {
    return dir_.read([](directory::Snapshot& s) { return s.verify_audit().records; });
  }

  StoreHolder h_;
  directory::Directory dir_;
  directory::Actor actor_{"test"};
};

}  // namespace congvu::test
