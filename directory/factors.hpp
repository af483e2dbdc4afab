// Second factors and app passwords (DESIGN.md, "Authentication in the mail and directory
// protocols"):
//  - TOTP (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits, ±1 step of clock skew) with a 160-bit
//    secret kept sealed (AES-256-GCM) under a key the IdP holds, never in clear in the database;
//    a code is accepted once (the last step used is stored), and ten recovery codes (stored as
//    SHA-256 digests, each usable once) stand in for a lost phone.
//  - App passwords for mail clients: per device, named, 80 random bits shown once, stored as
//    a SHA-256 digest, revocable. Where a person must use a second factor, mail accepts only
//    these (or OAUTHBEARER), never the account password.
// Tables: `factor` (person id -> SecondFactor), `app_password` (person id + id -> AppPassword).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.hpp"
#include "common/result.hpp"
#include "common/time.hpp"

namespace congvu::directory {

class Snapshot;
class Change;

struct SecondFactor {
  std::string totp_sealed;
  bool confirmed = false;
  std::int64_t last_step = 0;
  std::vector<std::string> recovery;  // SHA-256 digests of the unused recovery codes
  UnixMs created = 0;
};
std::string encode(const SecondFactor& f);
SecondFactor decode_factor(std::string_view v);
std::optional<SecondFactor> find_factor(Snapshot& s, const PersonId& id);
void put_factor(Change& c, const PersonId& id, const SecondFactor& f);
void remove_factor(Change& c, const PersonId& id);

std::string base32(std::string_view raw);  // RFC 4648, no padding (authenticator apps)
std::string totp_code(std::string_view secret, std::int64_t step);
// The step a 6-digit `code` matches at `now` (±1 step), later than `last_step`; nullopt otherwise.
std::optional<std::int64_t> totp_match(std::string_view secret, std::string_view code, UnixMs now, std::int64_t last_step);
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret);
// Ten codes "xxxx-xxxx" (lowercase letters and digits), and their digests for the record.
std::vector<std::string> make_recovery_codes(std::vector<std::string>& digests);
// Consumes a matching recovery code from `f`; returns whether one matched.
bool use_recovery_code(SecondFactor& f, std::string_view code);

struct AppPassword {
  std::string id;      // 8 hex
  std::string name;    // "Thunderbird on the office PC"
  std::string digest;  // SHA-256 of the password
  UnixMs created = 0;
};
std::string encode(const AppPassword& a);
AppPassword decode_app_password(std::string_view v);
std::vector<AppPassword> app_passwords(Snapshot& s, const PersonId& id);
// Returns the new password ("abcd-efgh-ijkl-mnop"), shown once.
Result<std::string> add_app_password(Change& c, const PersonId& id, std::string name, AppPassword* out = nullptr);
Status remove_app_password(Change& c, const PersonId& id, std::string_view app_id);
bool app_password_matches(Snapshot& s, const PersonId& id, std::string_view password);

// Password reset by a one-time code that an HR admin issues (`congvu person reset-code`): 12
// random characters, valid for `ttl`, stored as a SHA-256 digest in the `reset` table (one per
// person; a new code replaces the old one). consume_reset_code() checks and removes it.
Result<std::string> issue_reset_code(Change& c, const PersonId& id, UnixMs ttl);
bool consume_reset_code(Change& c, const PersonId& id, std::string_view code);

}  // namespace congvu::directory
