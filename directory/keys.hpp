// The IdP's token signing keys (DESIGN.md, "Identity provider"): one active key per algorithm
// (RS256, the default that OIDC requires; ES256; EdDSA), stored in the `signing_key` table as
// PKCS#8 PEM encrypted under a passphrase kept outside the database (data_dir/secrets).
// `congvu keys rotate` makes a new set and retires the old one; retired keys stay in JWKS (and
// verify tokens) for kRetiredKeepMs, longer than any token they signed lives.
// Thread-safety: KeyRing is safe to share; decrypted keys are cached by kid (a rotation done
// by another process is seen at the next read, since the table is read every time).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "directory/jose.hpp"

namespace congvu::directory {

class Snapshot;
class Change;

struct KeyRecord {
  std::string kid;
  jose::Alg alg = jose::Alg::RS256;
  std::string pem;  // encrypted PKCS#8
  UnixMs created = 0;
  UnixMs retired = 0;  // 0 while active
};
std::string encode(const KeyRecord& k);
KeyRecord decode_key(std::string_view v);

// A retired key is published and accepted for this long (a day: far beyond the one-hour
// lifetime of access and ID tokens).
inline constexpr UnixMs kRetiredKeepMs = 24LL * 3600 * 1000;

class KeyRing {
 public:
  explicit KeyRing(std::string passphrase) : passphrase_(std::move(passphrase)) {}

  // Makes a new key for every algorithm and retires the active ones; returns the new records.
  std::vector<KeyRecord> rotate(Change& c);
  // rotate() when no key is active yet; returns whether it did.
  bool ensure(Change& c);

  using KeyPtr = std::shared_ptr<const jose::SigningKey>;
  KeyPtr active(Snapshot& s, jose::Alg alg);
  // Any key that may still verify tokens at `now` (active, or retired less than kRetiredKeepMs ago).
  KeyPtr verifier(Snapshot& s, const std::string& kid, UnixMs now);
  // Every key of JWKS at `now`, active ones first.
  std::vector<KeyPtr> published(Snapshot& s, UnixMs now);
  static std::vector<KeyRecord> records(Snapshot& s);

 private:
  KeyPtr load(const KeyRecord& r);
  std::string passphrase_;
  std::mutex mu_;
  std::map<std::string, KeyPtr> cache_;
};

// The passphrase file data_dir/secrets/signing-keys.pass (mode 0600), made on first use.
std::string load_or_make_key_passphrase(const std::string& data_dir);

}  // namespace congvu::directory
