// Brute-force protection for every password check (IdP login page, and later LDAP binds):
// failures are counted per (account, source address) and per source address, never per
// account alone, so an attacker cannot lock a person out from elsewhere: after any number of
// failures from one address, the right password from another address still logs in.
//   - (account, address): from the 5th consecutive failure, each attempt must wait
//     2^(n-5) seconds, at most 15 minutes; a success resets it.
//   - address: more than 100 failures within 10 minutes block that address for 10 minutes.
// In memory (a restart forgets), bounded (emptied past 100 000 entries). Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/time.hpp"

namespace congvu::directory {

// Seconds to tell a throttled client (rounded up: 1000 ms is "1", 1001 ms is "2").
inline std::string wait_seconds(UnixMs wait_ms) { return std::to_string((wait_ms + 999) / 1000); }

class LoginThrottle {
 public:
  // Milliseconds before (who, from) may try again; 0 when it may try now.
  UnixMs wait_ms(std::string_view who, std::string_view from, UnixMs now);
  void failure(std::string_view who, std::string_view from, UnixMs now);
  void success(std::string_view who, std::string_view from);

 private:
  struct Pair {
    unsigned failures = 0;
    UnixMs not_before = 0;
  };
  struct Address {
    unsigned failures = 0;
    UnixMs window_start = 0, blocked_until = 0;
  };
  static std::string key(std::string_view who, std::string_view from);
  std::mutex mu_;
  std::unordered_map<std::string, Pair> pairs_;
  std::unordered_map<std::string, Address> addresses_;
};

}  // namespace congvu::directory
