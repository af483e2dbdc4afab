// Calendar dates and clock values. Time is read once at the edge (main, the server loop) and
// passed down as plain values; nothing below reads the clock.
// HR dates are calendar dates in Asia/Ho_Chi_Minh (UTC+7 all year, no daylight saving), kept
// as "YYYY-MM-DD" strings, which sort chronologically.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace congvu {

// Milliseconds since the Unix epoch.
using UnixMs = std::int64_t;

// The wall clock, plus the offset set by set_clock_start() (zero unless set).
UnixMs system_now_ms();
// Makes the clock read `start` now and advance from there (drills and tests of scheduled
// changes: CONGVU_CLOCK). Call once at startup, before other threads read the clock.
void set_clock_start(UnixMs start);
// Tests (CONGVU_TEST_CLOCK): the clock stands still at the instant written in the file at `path`
// and moves only when the test rewrites it (atomically: write, then rename), so that a backoff
// or an expiry is observed through the server's answers without racing a busy machine. Every
// read of the clock reads the file; an unreadable or unparsable file keeps the last instant.
// False (and nothing changed) when the file cannot be read or parsed now. Call once at startup.
bool set_clock_file(const std::string& path);
// "YYYY-MM-DD" (09:00 of that day in Asia/Ho_Chi_Minh) or milliseconds since the epoch.
std::optional<UnixMs> parse_clock(std::string_view s);

// True if `s` is a real calendar date written YYYY-MM-DD (1900..2999).
bool valid_date(std::string_view s);

// The calendar date in Asia/Ho_Chi_Minh at the given instant.
std::string vn_date(UnixMs now);

// RFC 3339 UTC timestamp with milliseconds, e.g. 2026-11-21T05:03:01.123Z.
std::string rfc3339(UnixMs t);
// RFC 5322 3.3 date-time in Asia/Ho_Chi_Minh, e.g. "Sat, 21 Nov 2026 12:03:01 +0700".
std::string rfc5322_date(UnixMs t);

}  // namespace congvu
