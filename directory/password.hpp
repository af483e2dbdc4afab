// Password hashing and verification.
// New passwords are hashed with Argon2id (libargon2) and stored as "{ARGON2}" + the PHC string.
// Imported hashes from an old system are verified as they are ({SSHA}, {SSHA512} as written by
// OpenLDAP's slappasswd; {CRYPT} through libcrypt: $6$, $5$, $y$, $2b$ ...; {ARGON2}) and
// replaced by Argon2id after the next successful login (needs_rehash()).
// A SCRAM-SHA-256 verifier (RFC 5802/7677) is computed whenever the password itself is known,
// so that SASL SCRAM works without the password at rest.
// Thread-safe. Hashing costs what the parameters say (tens of ms): callers in the server run
// it on the worker pool, never on the event loop.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace congvu::directory {

struct Argon2Params {
  std::uint32_t t_cost = 2;         // iterations
  std::uint32_t m_cost_kib = 19456; // memory (19 MiB: OWASP's Argon2id minimum)
  std::uint32_t parallelism = 1;
};

std::string hash_password(std::string_view password, const Argon2Params& p);

// Constant-time where the scheme allows; false for an unknown scheme or a malformed hash.
bool verify_password(std::string_view stored, std::string_view password);

// True unless `stored` is an Argon2id hash made with exactly these parameters.
bool needs_rehash(std::string_view stored, const Argon2Params& p);

// Checks that an imported value is one of the supported schemes and well formed, so that
// `congvu import --credentials` rejects a bad row before anything is written.
Status check_password_hash(std::string_view stored);

constexpr int kScramIterations = 4096;
std::string scram_sha256_verifier(std::string_view password, int iterations = kScramIterations);

// Password policy for new passwords: at least 10 characters, valid UTF-8, not all one class.
Status check_new_password(std::string_view password);

}  // namespace congvu::directory
