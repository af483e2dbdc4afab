// JSON Web Signatures for the IdP's tokens (RFC 7515, 7517, 7518, 8037): compact JWS with
// RS256, ES256 and EdDSA (Ed25519) keys from OpenSSL, and their public JWKs.
// Verification takes the algorithm from the key, never from the token: a token whose header
// names another algorithm (or "none") is refused, so an attacker cannot choose how it is checked.
// The claims (exp, aud, ...) are checked by the caller (directory/tokens.hpp).
// Thread-safety: a SigningKey is immutable after construction and may be shared.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace boost::json {
class object;
}

namespace congvu::directory::jose {

// Claims of a parsed JSON object: the string member `key` ("" when absent or not a string),
// and the integer member (0 when absent or not an integer).
std::string string_claim(const boost::json::object& o, std::string_view key);
std::int64_t int_claim(const boost::json::object& o, std::string_view key);

std::string b64url(std::string_view raw);
// Strict: the URL-safe alphabet without padding; nullopt on anything else.
std::optional<std::string> b64url_decode(std::string_view text);

enum class Alg { RS256, ES256, EdDSA };
const char* alg_name(Alg a);
std::optional<Alg> parse_alg(std::string_view s);

class SigningKey {
 public:
  // A fresh key: RSA 2048 bits, P-256 or Ed25519.
  static SigningKey generate(Alg alg, std::string kid);
  // From PKCS#8 PEM, encrypted with `passphrase` when it is not empty. Throws on a wrong
  // passphrase or a key that does not match `alg`.
  static SigningKey from_pem(Alg alg, std::string kid, std::string_view pem, std::string_view passphrase);
  // A public key from a JWK object (JSON text) for verification only (private_key_jwt clients).
  static Result<SigningKey> from_public_jwk(std::string_view jwk_json);

  // PKCS#8 PEM of the private key, encrypted with AES-256-CBC under `passphrase`.
  std::string to_pem(std::string_view passphrase) const;
  // The public key as a JWK object: {"kty":..,"kid":..,"use":"sig","alg":..,...}.
  std::string public_jwk() const;

  std::string sign(std::string_view data) const;  // JOSE signature bytes (ES256: r || s)
  bool verify(std::string_view data, std::string_view signature) const;

  const std::string& kid() const { return kid_; }
  Alg alg() const { return alg_; }

 private:
  struct Impl;
  SigningKey(Alg alg, std::string kid, std::shared_ptr<Impl> impl)
      : alg_(alg), kid_(std::move(kid)), impl_(std::move(impl)) {}
  Alg alg_;
  std::string kid_;
  std::shared_ptr<Impl> impl_;
};

// header.payload.signature with {"alg":..,"typ":typ,"kid":..}; `payload_json` is used as is.
std::string sign_compact(const SigningKey& key, std::string_view typ, std::string_view payload_json);

struct Parsed {
  std::string header_json, payload_json;
  std::string kid, alg, typ;
  std::string signing_input;  // header.payload, as received
  std::string signature;      // raw bytes
};
// Splits and decodes a compact JWS (no verification). Errors: invalid_argument.
Result<Parsed> parse_compact(std::string_view token);
// Parses and verifies against the key chosen by `lookup(kid)` (nullptr: unknown key); the
// header's alg must be the key's. Returns the payload JSON. Errors: unauthorized.
template <class Lookup>
Result<std::string> verify_compact(std::string_view token, Lookup&& lookup) {
  auto p = parse_compact(token);
  if (!p) return make_error(Errc::unauthorized, p.error().message);
  const SigningKey* key = lookup(p->kid);
  if (!key) return make_error(Errc::unauthorized, "the token is signed with an unknown key");
  if (p->alg != alg_name(key->alg()))
    return make_error(Errc::unauthorized, "the token's alg '" + p->alg + "' is not the key's");
  if (!key->verify(p->signing_input, p->signature))
    return make_error(Errc::unauthorized, "the token's signature does not verify");
  return std::move(p->payload_json);
}

}  // namespace congvu::directory::jose
