#include "directory/demo.hpp"

#include "directory/import.hpp"

namespace congvu::directory {
namespace {

constexpr const char* kUnits =
    "code,parent_code,kind,name,slug\n"
    "000.00.00.H99,,province,Ủy ban nhân dân tỉnh Mẫu,ubnd\n"
    "000.00.01.H99,000.00.00.H99,department,Văn phòng Ủy ban nhân dân tỉnh,vpubnd\n"
    "000.01.01.H99,000.00.01.H99,division,Phòng Hành chính - Tổ chức,vpubnd-hcth\n"
    "000.00.02.H99,000.00.00.H99,department,Sở Nội vụ,sonv\n"
    "000.01.02.H99,000.00.02.H99,division,Phòng Tổ chức cán bộ,sonv-tccb\n"
    "000.02.02.H99,000.00.02.H99,division,Văn phòng,sonv-vanphong\n"
    "000.00.03.H99,000.00.00.H99,department,\"Sở Văn hóa, Thể thao và Du lịch\",sovhttdl\n"
    "000.01.03.H99,000.00.03.H99,division,Phòng Quản lý Văn hóa,sovhttdl-qlvh\n"
    "001.00.00.H99,000.00.00.H99,district,Ủy ban nhân dân huyện Hòa Bình,ubnd-hoabinh\n"
    "001.01.00.H99,001.00.00.H99,commune,Ủy ban nhân dân xã Tam An,xa-taman\n";

constexpr const char* kStaff =
    "staff_no,full_name,family,middle,given,gender,birth_date,unit_code,position\n"
    "DM0001,Nguyễn Văn An,Nguyễn,Văn,An,M,1975-03-12,000.00.01.H99,Giám đốc\n"
    "DM0002,Trần Thị Bích Ngọc,Trần,Thị Bích,Ngọc,F,1988-07-02,000.01.01.H99,Văn thư\n"
    "DM0003,Lê Hoàng Nam,Lê,Hoàng,Nam,M,1990-11-23,000.01.01.H99,Chuyên viên\n"
    "DM0004,Phạm Thu Hà,Phạm,Thu,Hà,F,1983-01-30,000.00.02.H99,Giám đốc\n"
    "DM0005,Nguyễn Thị Thu Hà,Nguyễn,Thị Thu,Hà,F,1992-05-14,000.01.02.H99,Trưởng phòng\n"
    "DM0006,Đặng Văn Đức,Đặng,Văn,Đức,M,1979-09-09,000.01.02.H99,Chuyên viên chính\n"
    "DM0007,Nguyễn Văn An,Nguyễn,Văn,An,M,1996-12-01,000.02.02.H99,Văn thư\n"
    "DM0008,Võ Minh Tuấn,Võ,Minh,Tuấn,M,1985-04-18,000.02.02.H99,Chuyên viên\n"
    "DM0009,Huỳnh Ngọc Lan,Huỳnh,Ngọc,Lan,F,1991-08-08,000.00.03.H99,Giám đốc\n"
    "DM0010,Bùi Thị Hương,Bùi,Thị,Hương,F,1987-02-27,000.01.03.H99,Trưởng phòng\n"
    "DM0011,Đỗ Quang Huy,Đỗ,Quang,Huy,M,1993-06-06,000.01.03.H99,Văn thư\n"
    "DM0012,Hồ Thanh Tâm,Hồ,Thanh,Tâm,F,1989-10-10,000.01.03.H99,Chuyên viên\n"
    "DM0013,Ngô Đình Khoa,Ngô,Đình,Khoa,M,1977-12-24,001.00.00.H99,Chủ tịch\n"
    "DM0014,Dương Thị Mai,Dương,Thị,Mai,F,1994-03-03,001.00.00.H99,Văn thư\n"
    "DM0015,Lý Văn Hùng,Lý,Văn,Hùng,M,1982-05-05,001.01.00.H99,Chủ tịch UBND xã\n"
    "DM0016,Trương Thị Yến,Trương,Thị,Yến,F,1995-07-07,001.01.00.H99,Công chức Văn phòng - Thống kê\n"
    "DM0017,Mai Xuân Phúc,Mai,Xuân,Phúc,M,1990-09-19,001.01.00.H99,Công chức Tư pháp - Hộ tịch\n"
    "DM0018,Phan Thùy Linh,Phan,Thùy,Linh,F,1997-11-11,000.01.02.H99,Chuyên viên\n"
    "DM0019,Châu Minh Quân,Châu,Minh,Quân,M,1986-01-21,000.00.00.H99,Chủ tịch\n"
    "DM0020,Tạ Thị Hạnh,Tạ,Thị,Hạnh,F,1998-04-04,000.00.00.H99,Văn thư\n";

}  // namespace

Status seed_demo(Change& c, const std::string& date) {
  CsvFile units{"demo units", kUnits}, staff{"demo staff", kStaff};
  auto r = import_csv(c, &units, &staff, nullptr, date);
  if (!r) return r.error();
  for (int i = 1; i <= 20; ++i) {
    char no[8];
    std::snprintf(no, sizeof no, "DM%04d", i);
    auto p = c.by_staff_no(no);
    if (!p) return make_error(Errc::corrupt, std::string("demo person ") + no + " missing");
    if (auto s = c.set_password(p->id, kDemoPassword); !s) return s;
  }
  return ok_status();
}

}  // namespace congvu::directory
