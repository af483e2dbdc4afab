#include "directory/throttle.hpp"

#include <algorithm>

#include "common/text.hpp"

namespace congvu::directory {

namespace {
constexpr unsigned kFreeFailures = 4;
constexpr UnixMs kMaxDelayMs = 15 * 60 * 1000;
constexpr unsigned kAddressFailures = 100;
constexpr UnixMs kAddressWindowMs = 10 * 60 * 1000;
constexpr std::size_t kMaxEntries = 100000;
}  // namespace

std::string LoginThrottle::key(std::string_view who, std::string_view from) {
  return text::ascii_lower(who) + '\n' + std::string(from);
}

UnixMs LoginThrottle::wait_ms(std::string_view who, std::string_view from, UnixMs now) {
  std::lock_guard lk(mu_);
  UnixMs wait = 0;
  if (auto a = addresses_.find(std::string(from)); a != addresses_.end() && a->second.blocked_until > now)
    wait = a->second.blocked_until - now;
  if (auto p = pairs_.find(key(who, from)); p != pairs_.end() && p->second.not_before > now)
    wait = std::max(wait, p->second.not_before - now);
  return wait;
}

void LoginThrottle::failure(std::string_view who, std::string_view from, UnixMs now) {
  std::lock_guard lk(mu_);
  if (pairs_.size() > kMaxEntries) pairs_.clear();
  if (addresses_.size() > kMaxEntries) addresses_.clear();
  auto& p = pairs_[key(who, from)];
  ++p.failures;
  if (p.failures > kFreeFailures) {
    unsigned shift = std::min(p.failures - kFreeFailures - 1, 20u);
    p.not_before = now + std::min<UnixMs>(1000LL << shift, kMaxDelayMs);
  }
  auto& a = addresses_[std::string(from)];
  if (now - a.window_start > kAddressWindowMs) {
    a.window_start = now;
    a.failures = 0;
  }
  if (++a.failures > kAddressFailures) a.blocked_until = now + kAddressWindowMs;
}

void LoginThrottle::success(std::string_view who, std::string_view from) {
  std::lock_guard lk(mu_);
  pairs_.erase(key(who, from));
}

}  // namespace congvu::directory
