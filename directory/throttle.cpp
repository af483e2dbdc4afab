#include "directory/throttle.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>

#include "common/text.hpp"
#include "directory/directory.hpp"

namespace congvu::directory {

namespace {
constexpr unsigned kFreeFailures = 4;
constexpr UnixMs kMaxDelayMs = 15 * 60 * 1000;
constexpr unsigned kNetworkFailures = 100;
constexpr unsigned kAccountFailures = 20;
constexpr UnixMs kWindowMs = 10 * 60 * 1000;
constexpr UnixMs kKnownGoodMs = 30LL * 24 * 3600 * 1000;
constexpr std::size_t kMaxEntries = 100000;

UnixMs delay_after(unsigned counted_failures, unsigned free) {
  if (counted_failures <= free) return 0;
  unsigned shift = std::min(counted_failures - free - 1, 20u);
  return std::min<UnixMs>(1000LL << shift, kMaxDelayMs);
}
}  // namespace

std::string source_network(std::string_view address) {
  std::string a(address);
  if (a.size() > 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address(a, ec);
  if (ec) return a;
  if (ip.is_v4()) return ip.to_string();
  auto v6 = ip.to_v6();
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

std::string log_value(std::string_view v) {
  bool plain = !v.empty() && std::all_of(v.begin(), v.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           std::string_view("@._+-:/[]").find(ch) != std::string_view::npos;
  });
  if (plain) return std::string(v);
  std::string out = "\"";
  for (unsigned char ch : v) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += static_cast<char>(ch);
    } else if (ch <= 0x20 || ch >= 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[ch >> 4];
      out += hex[ch & 15];
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out + '"';
}

std::string LoginThrottle::key(std::string_view who, std::string_view net) {
  return text::ascii_lower(who) + '\n' + std::string(net);
}

bool LoginThrottle::known_good(const std::string& pair_key, UnixMs now) const {
  auto g = good_.find(pair_key);
  return g != good_.end() && now - g->second < kKnownGoodMs;
}

void LoginThrottle::log(std::string_view event, std::string_view proto, std::string_view from, std::string_view who,
                        std::string_view result, std::string_view extra) {
  if (!log_ || proto.empty()) return;
  std::string line = "event=" + std::string(event) + " proto=" + log_value(proto) + " src=" + log_value(from);
  if (!who.empty()) line += " user=" + log_value(who);
  if (!result.empty()) line += " result=" + std::string(result);
  if (!extra.empty()) line += " " + std::string(extra);
  log_(line);
}

UnixMs LoginThrottle::wait_ms(std::string_view who, std::string_view from, UnixMs now, std::string_view proto) {
  const std::string net = source_network(from);
  const std::string k = key(who, net);
  UnixMs wait = 0;
  {
    std::lock_guard lk(mu_);
    if (auto n = networks_.find(net); n != networks_.end() && n->second.blocked_until > now && !known_good(k, now))
      wait = n->second.blocked_until - now;
    if (auto p = pairs_.find(k); p != pairs_.end() && p->second.not_before > now)
      wait = std::max(wait, p->second.not_before - now);
  }
  if (wait > 0) log("auth", proto, from, who, "throttled", "wait=" + wait_seconds(wait));
  return wait;
}

void LoginThrottle::sweep(UnixMs now) {
  auto old_window = [&](const auto& e) { return now - e.second.start > kWindowMs && e.second.blocked_until <= now; };
  if (pairs_.size() > kMaxEntries)
    std::erase_if(pairs_, [&](const auto& e) { return e.second.not_before <= now; });
  if (networks_.size() > kMaxEntries) std::erase_if(networks_, old_window);
  if (accounts_.size() > kMaxEntries) std::erase_if(accounts_, old_window);
  if (good_.size() > kMaxEntries)
    std::erase_if(good_, [&](const auto& e) { return now - e.second >= kKnownGoodMs; });
  // Still too many live entries (a flood of distinct sources): forget rather than grow.
  if (pairs_.size() > kMaxEntries) pairs_.clear();
  if (networks_.size() > kMaxEntries) networks_.clear();
  if (accounts_.size() > kMaxEntries) accounts_.clear();
  if (good_.size() > kMaxEntries) good_.clear();
}

void LoginThrottle::failure(std::string_view who, std::string_view from, UnixMs now, std::string_view proto,
                            bool repeated, std::string_view reason) {
  std::string extra = reason.empty() ? std::string() : "reason=" + log_value(reason);
  if (repeated) {
    log("auth", proto, from, who, "repeat", extra);
    return;
  }
  const std::string net = source_network(from);
  const std::string k = key(who, net);
  {
    std::lock_guard lk(mu_);
    sweep(now);
    auto bump = [&](Window& w, unsigned limit) {
      if (now - w.start > kWindowMs) {
        w.start = now;
        w.failures = 0;
      }
      return ++w.failures > limit;
    };
    Window& account = accounts_[text::ascii_lower(who)];
    bool guessed = bump(account, kAccountFailures);
    Window& network = networks_[net];
    if (bump(network, kNetworkFailures)) network.blocked_until = now + kWindowMs;
    Pair& p = pairs_[k];
    ++p.failures;
    unsigned free = guessed && !known_good(k, now) ? 0 : kFreeFailures;
    if (UnixMs d = delay_after(p.failures, free); d > 0) p.not_before = now + d;
  }
  log("auth", proto, from, who, "fail", extra);
}

void LoginThrottle::success(std::string_view who, std::string_view from, UnixMs now) {
  const std::string k = key(who, source_network(from));
  std::lock_guard lk(mu_);
  sweep(now);  // good_ grows with successes too
  pairs_.erase(k);
  good_[k] = now;
}

void LoginThrottle::busy(std::string_view who, std::string_view from, std::string_view proto) {
  log("auth", proto, from, who, "busy");
}

void LoginThrottle::disconnected(std::string_view from, std::string_view proto, unsigned failures) {
  log("auth_disconnect", proto, from, "", "", "failures=" + std::to_string(failures));
}

LoginThrottle::Checked LoginThrottle::password(Directory& dir, std::string_view proto, std::string_view login,
                                               std::string_view password, std::string_view from, UnixMs now,
                                               bool web) {
  Checked out;
  // Failures count against the person's login however it was typed (address, alias, any
  // case): one account, one count.
  const std::string who = dir.read([&](Snapshot& s) {
    auto p = s.resolve(login);
    return p ? p->login : text::ascii_lower(login);
  });
  if (UnixMs wait = wait_ms(who, from, now, proto); wait > 0) {
    out.kind = Checked::throttled;
    out.wait = wait;
    return out;
  }
  Directory::AuthDetail detail;
  {
    std::lock_guard lk(mu_);
    detail.trusted = known_good(key(who, source_network(from)), now);
  }
  auto r = dir.authenticate(login, password, now, web ? Directory::Purpose::web : Directory::Purpose::mail, &detail);
  if (r && r->status == PersonStatus::active) {
    success(who, from, now);
    out.kind = Checked::ok;
    out.person = std::move(*r);
    return out;
  }
  if (!r && r.error().code == Errc::unavailable) {
    busy(who, from, proto);
    out.kind = Checked::busy;
    return out;
  }
  failure(who, from, now, proto, detail.repeated, detail.reason);
  return out;
}

LoginThrottle::Checked LoginThrottle::secret(std::string_view proto, std::string_view key, std::string_view from,
                                             UnixMs now, const std::function<std::optional<bool>()>& check) {
  Checked out;
  if (UnixMs wait = wait_ms(key, from, now, proto); wait > 0) {
    out.kind = Checked::throttled;
    out.wait = wait;
    return out;
  }
  auto right = check();
  if (!right) {
    busy(key, from, proto);
    out.kind = Checked::busy;
    return out;
  }
  if (*right) {
    success(key, from, now);
    out.kind = Checked::ok;
    return out;
  }
  failure(key, from, now, proto);
  return out;
}

}  // namespace congvu::directory
