#include "common/time.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <utility>

namespace congvu {

namespace {
UnixMs g_clock_offset = 0;

UnixMs wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string g_clock_file;            // set once at startup, before other threads start
std::atomic<UnixMs> g_clock_last{0};  // the last instant read from g_clock_file

std::optional<UnixMs> read_clock_file() {
  std::ifstream f(g_clock_file);
  if (!f) return std::nullopt;
  std::stringstream text;
  text << f.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return parse_clock(s);
}
}  // namespace

UnixMs system_now_ms() {
  if (!g_clock_file.empty()) {
    if (auto t = read_clock_file()) g_clock_last.store(*t, std::memory_order_relaxed);
    return g_clock_last.load(std::memory_order_relaxed);
  }
  return wall_ms() + g_clock_offset;
}

bool set_clock_file(const std::string& path) {
  std::string previous = std::exchange(g_clock_file, path);
  auto t = read_clock_file();
  if (!t) {
    g_clock_file = std::move(previous);
    return false;
  }
  g_clock_last.store(*t);
  return true;
}

void set_clock_start(UnixMs start) { g_clock_offset = start - wall_ms(); }

std::optional<UnixMs> parse_clock(std::string_view s) {
  if (valid_date(s)) {
    using namespace std::chrono;
    year_month_day ymd{year{std::stoi(std::string(s.substr(0, 4)))},
                       month{static_cast<unsigned>(std::stoi(std::string(s.substr(5, 2))))},
                       day{static_cast<unsigned>(std::stoi(std::string(s.substr(8, 2))))}};
    // 09:00 in Asia/Ho_Chi_Minh (UTC+7) is 02:00 UTC.
    return duration_cast<milliseconds>(sys_days{ymd}.time_since_epoch()).count() + 2 * 3600 * 1000;
  }
  if (s.empty() || s.size() > 15 || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return std::stoll(std::string(s));
}

bool valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  int y = std::stoi(std::string(s.substr(0, 4)));
  unsigned m = static_cast<unsigned>(std::stoi(std::string(s.substr(5, 2))));
  unsigned d = static_cast<unsigned>(std::stoi(std::string(s.substr(8, 2))));
  if (y < 1900 || y > 2999) return false;
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  return ymd.ok();
}

namespace {
std::string format_utc(UnixMs t, bool with_time) {
  using namespace std::chrono;
  sys_time<milliseconds> tp{milliseconds{t}};
  auto day = floor<days>(tp);
  year_month_day ymd{day};
  char buf[40];
  if (!with_time) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()),
                  unsigned(ymd.day()));
  } else {
    hh_mm_ss hms{tp - day};
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                  int(hms.minutes().count()), int(hms.seconds().count()),
                  int(hms.subseconds().count()));
  }
  return buf;
}
}  // namespace

std::string vn_date(UnixMs now) { return format_utc(now + 7LL * 3600 * 1000, false); }

std::string rfc3339(UnixMs t) { return format_utc(t, true); }

std::string rfc5322_date(UnixMs t) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t secs = static_cast<std::time_t>(t / 1000) + 7 * 3600;  // UTC+7, no DST
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %d %s %04d %02d:%02d:%02d +0700", kDays[tm.tm_wday], tm.tm_mday, kMonths[tm.tm_mon],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace congvu
