// The one guard in front of every credential check (DESIGN.md, "Security defaults"): IMAP LOGIN
// and AUTHENTICATE, SMTP AUTH, LDAP binds, the login page, its second-factor step, the reset
// page, app passwords (they are checked with the password) and OIDC/SCIM client secrets.
//
// Policy, keyed on account × source network (an IPv4 address, or an IPv6 /64: one household,
// one office or one attacker holds a whole /64):
//   - pair (account, network): from the 5th consecutive failure each attempt must wait
//     2^(n-5) s, at most 15 min; a success resets it. A pair with no failures is never refused,
//     so failures from one network never refuse the right password from another.
//   - the same wrong password again (a phone retrying a stale one) is not counted again:
//     `failure(..., repeated = true)` (Directory::authenticate recognises it without Argon2id).
//   - account-wide: more than 20 failures within 10 min from all networks means the account
//     is being guessed; then every network that has not signed in to it in the last 30 days
//     waits from its 1st failure (2^(n-1) s). Nobody is locked out: a network with no failures,
//     or one the person used before, keeps its normal allowance.
//   - network-wide: more than 100 failures within 10 min (spraying many accounts) block the
//     network for 10 min, except for accounts that signed in from it in the last 30 days (the
//     colleagues behind the same NAT keep working).
//   - a connection is closed after kConnectionFailures failures on it (the protocols count).
//   - Argon2id slots (Directory::set_hash_slots) bound the checks of unknown sources only: a
//     network that signed in to the account in the last 30 days is always checked.
// Every failure and every refusal writes one log line, key=value:
//   event=auth proto=imap src=203.0.113.5 user=nva result=fail [reason=wrong-password]
//   event=auth proto=imap src=203.0.113.5 user=nva result=throttled wait=4
//   event=auth proto=imap src=203.0.113.5 user=nva result=busy
//   event=auth_disconnect proto=imap src=203.0.113.5 failures=3
// (src= comes before user= so that nothing a client types can be read as the address:
// contrib/fail2ban/filter.d/congvu.conf relies on it.)
// In memory (a restart forgets), bounded (expired entries swept, emptied past 100 000).
// Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/time.hpp"
#include "directory/model.hpp"

namespace congvu::directory {

class Directory;

// Seconds to tell a throttled client (rounded up: 1000 ms is "1", 1001 ms is "2").
inline std::string wait_seconds(UnixMs wait_ms) { return std::to_string((wait_ms + 999) / 1000); }

// The throttle's notion of a source: an IPv4 address as is, an IPv6 address as its /64
// ("2001:db8:1:2::/64"); IPv4-mapped IPv6 is IPv4. Anything unparsable is its own source.
std::string source_network(std::string_view address);

// A log value: as is when it is a plain token, else quoted with \" \\ and \xHH escapes (a
// space too: no value ever holds one), so that a typed login cannot forge another field or a
// second line.
std::string log_value(std::string_view v);

class LoginThrottle {
 public:
  using Log = std::function<void(const std::string&)>;
  static constexpr unsigned kConnectionFailures = 3;

  explicit LoginThrottle(Log log = {}) : log_(std::move(log)) {}
  void set_log(Log log) { log_ = std::move(log); }

  // Milliseconds before (who, from) may try again; 0 when it may try now. `proto` non-empty:
  // a refusal is logged under it.
  UnixMs wait_ms(std::string_view who, std::string_view from, UnixMs now, std::string_view proto = {});
  void failure(std::string_view who, std::string_view from, UnixMs now, std::string_view proto = {},
               bool repeated = false, std::string_view reason = {});
  void success(std::string_view who, std::string_view from, UnixMs now);
  // The Argon2id pool was full: logged, not counted.
  void busy(std::string_view who, std::string_view from, std::string_view proto);
  // A protocol closes a connection after kConnectionFailures failures.
  void disconnected(std::string_view from, std::string_view proto, unsigned failures);

  // The whole check of a person's password (or app password) for `proto`: throttle, then
  // Directory::authenticate, then the bookkeeping and the log line.
  struct Checked {
    enum Kind { ok, wrong, throttled, busy } kind = wrong;
    UnixMs wait = 0;                // throttled: how long
    std::optional<Person> person;   // ok
    explicit operator bool() const { return kind == ok; }
  };
  Checked password(Directory& dir, std::string_view proto, std::string_view login, std::string_view password,
                   std::string_view from, UnixMs now, bool web = false);
  // Any other secret (a client secret, a service account's password, a reset code): `key`
  // names what is guessed ("client:ID", "service:NAME", "reset:LOGIN"); `check` runs only when
  // the throttle admits the attempt.
  Checked secret(std::string_view proto, std::string_view key, std::string_view from, UnixMs now,
                 const std::function<std::optional<bool>()>& check);  // nullopt: busy

 private:
  struct Pair {
    unsigned failures = 0;
    UnixMs not_before = 0;
  };
  struct Window {
    unsigned failures = 0;
    UnixMs start = 0, blocked_until = 0;
  };
  static std::string key(std::string_view who, std::string_view net);
  bool known_good(const std::string& pair_key, UnixMs now) const;
  void sweep(UnixMs now);
  void log(std::string_view event, std::string_view proto, std::string_view from, std::string_view who,
           std::string_view result, std::string_view extra = {});

  Log log_;
  std::mutex mu_;
  std::unordered_map<std::string, Pair> pairs_;
  std::unordered_map<std::string, Window> networks_, accounts_;
  std::unordered_map<std::string, UnixMs> good_;  // pair key → last success
};

}  // namespace congvu::directory
