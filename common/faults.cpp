#include "common/faults.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>

namespace congvu::faults {

namespace {
std::atomic<bool> g_armed{false};
std::mutex g_mu;
std::map<std::string, long, std::less<>> g_due;   // point -> the hit that throws
std::map<std::string, long, std::less<>> g_hits;  // point -> hits so far
}  // namespace

bool arm(std::string_view spec) {
  std::map<std::string, long, std::less<>> due;
  while (!spec.empty()) {
    auto comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == 0 || eq == std::string_view::npos || eq + 1 == item.size()) return false;
    std::string n(item.substr(eq + 1));
    if (n.find_first_not_of("0123456789") != std::string::npos || n.size() > 9) return false;
    due[std::string(item.substr(0, eq))] = std::stol(n);
  }
  std::lock_guard lk(g_mu);
  g_due = std::move(due);
  g_hits.clear();
  g_armed = !g_due.empty();
  return true;
}

void point(std::string_view name) {
  if (!g_armed.load(std::memory_order_relaxed)) return;
  std::lock_guard lk(g_mu);
  auto it = g_due.find(name);
  if (it == g_due.end()) return;
  long hit = ++g_hits[std::string(name)];
  if (hit == it->second) throw std::runtime_error("injected fault at " + std::string(name));
}

}  // namespace congvu::faults
