#include "directory/jose.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <boost/json.hpp>
#include <stdexcept>

#include "common/json.hpp"

namespace congvu::directory::jose {

namespace json = boost::json;

std::string b64url(std::string_view raw) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((raw.size() * 4 + 2) / 3);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(raw[k])); };
  for (; i + 3 <= raw.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (raw.size() - i == 1) {
    unsigned v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (raw.size() - i == 2) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> b64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero (one encoding per value).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

const char* alg_name(Alg a) {
  switch (a) {
    case Alg::RS256: return "RS256";
    case Alg::ES256: return "ES256";
    case Alg::EdDSA: return "EdDSA";
  }
  return "?";
}

std::optional<Alg> parse_alg(std::string_view s) {
  if (s == "RS256") return Alg::RS256;
  if (s == "ES256") return Alg::ES256;
  if (s == "EdDSA") return Alg::EdDSA;
  return std::nullopt;
}

std::string string_claim(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

std::int64_t int_claim(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return 0;
  if (it->value().is_int64()) return it->value().get_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().get_uint64());
  return 0;
}

struct SigningKey::Impl {
  EVP_PKEY* pkey = nullptr;
  bool has_private = true;
  ~Impl() { EVP_PKEY_free(pkey); }
};

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("jose: " + what); }

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using Bn = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

bool key_matches(EVP_PKEY* k, Alg alg) {
  switch (alg) {
    case Alg::RS256: return EVP_PKEY_is_a(k, "RSA") && EVP_PKEY_get_bits(k) >= 2048;
    case Alg::ES256: {
      char group[64] = {0};
      std::size_t len = 0;
      return EVP_PKEY_is_a(k, "EC") &&
             EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) == 1 &&
             std::string_view(group) == "prime256v1";
    }
    case Alg::EdDSA: return EVP_PKEY_is_a(k, "ED25519");
  }
  return false;
}

std::string bn_param(EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k, name, &bn) != 1) fail("cannot read a key parameter");
  Bn owned(bn, BN_free);
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

EVP_PKEY* from_params(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
    key = nullptr;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return key;
}

}  // namespace

SigningKey SigningKey::generate(Alg alg, std::string kid) {
  EVP_PKEY* k = nullptr;
  switch (alg) {
    case Alg::RS256: k = EVP_RSA_gen(2048); break;
    case Alg::ES256: k = EVP_EC_gen("P-256"); break;
    case Alg::EdDSA: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
  }
  if (!k) fail("key generation failed");
  auto impl = std::make_shared<Impl>();
  impl->pkey = k;
  return SigningKey(alg, std::move(kid), std::move(impl));
}

SigningKey SigningKey::from_pem(Alg alg, std::string kid, std::string_view pem, std::string_view passphrase) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::string pass(passphrase);
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, pass.data());
  if (!k) fail("cannot decrypt signing key " + kid + " (wrong passphrase or damaged PEM)");
  auto impl = std::make_shared<Impl>();
  impl->pkey = k;
  if (!key_matches(k, alg)) fail("signing key " + kid + " is not a " + alg_name(alg) + " key");
  return SigningKey(alg, std::move(kid), std::move(impl));
}

Result<SigningKey> SigningKey::from_public_jwk(std::string_view jwk_json) {
  boost::system::error_code ec;
  json::value v = json::parse(jwk_json, ec);
  if (ec || !v.is_object()) return make_error(Errc::invalid_argument, "the JWK is not a JSON object");
  const auto& o = v.get_object();
  std::string kty = string_claim(o, "kty"), kid = string_claim(o, "kid");
  auto raw = [&](std::string_view name) { return b64url_decode(string_claim(o, name)).value_or(""); };
  EVP_PKEY* k = nullptr;
  Alg alg = Alg::RS256;
  if (kty == "RSA") {
    std::string n = raw("n"), e = raw("e");
    if (n.empty() || e.empty()) return make_error(Errc::invalid_argument, "the RSA JWK lacks n or e");
    Bn bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr), BN_free);
    Bn bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr), BN_free);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n.get());
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e.get());
    k = from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
  } else if (kty == "EC") {
    std::string x = raw("x"), y = raw("y");
    if (string_claim(o, "crv") != "P-256" || x.size() != 32 || y.size() != 32)
      return make_error(Errc::invalid_argument, "the EC JWK must be P-256 with 32-byte x and y");
    alg = Alg::ES256;
    std::string point = "\x04" + x + y;
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    k = from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
  } else if (kty == "OKP") {
    std::string x = raw("x");
    if (string_claim(o, "crv") != "Ed25519" || x.size() != 32)
      return make_error(Errc::invalid_argument, "the OKP JWK must be Ed25519 with a 32-byte x");
    alg = Alg::EdDSA;
    k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()), 32);
  } else {
    return make_error(Errc::invalid_argument, "unsupported JWK kty '" + kty + "'");
  }
  if (!k || !key_matches(k, alg)) {
    EVP_PKEY_free(k);
    return make_error(Errc::invalid_argument, "the JWK does not describe a usable " + std::string(alg_name(alg)) + " key");
  }
  auto impl = std::make_shared<Impl>();
  impl->pkey = k;
  impl->has_private = false;
  return SigningKey(alg, kid, std::move(impl));
}

std::string SigningKey::to_pem(std::string_view passphrase) const {
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  std::string pass(passphrase);
  int ok = pass.empty() ? PEM_write_bio_PKCS8PrivateKey(bio.get(), impl_->pkey, nullptr, nullptr, 0, nullptr, nullptr)
                        : PEM_write_bio_PKCS8PrivateKey(bio.get(), impl_->pkey, EVP_aes_256_cbc(), pass.data(),
                                                        static_cast<int>(pass.size()), nullptr, nullptr);
  if (ok != 1) fail("cannot write signing key " + kid_);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string SigningKey::public_jwk() const {
  json::object o;
  EVP_PKEY* k = impl_->pkey;
  switch (alg_) {
    case Alg::RS256:
      o["kty"] = "RSA";
      o["n"] = b64url(bn_param(k, OSSL_PKEY_PARAM_RSA_N));
      o["e"] = b64url(bn_param(k, OSSL_PKEY_PARAM_RSA_E));
      break;
    case Alg::ES256: {
      unsigned char point[65];
      std::size_t len = 0;
      if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len) != 1 || len != 65)
        fail("cannot read the EC public key");
      o["kty"] = "EC";
      o["crv"] = "P-256";
      o["x"] = b64url(std::string_view(reinterpret_cast<char*>(point + 1), 32));
      o["y"] = b64url(std::string_view(reinterpret_cast<char*>(point + 33), 32));
      break;
    }
    case Alg::EdDSA: {
      unsigned char x[32];
      std::size_t len = sizeof x;
      if (EVP_PKEY_get_raw_public_key(k, x, &len) != 1) fail("cannot read the Ed25519 public key");
      o["kty"] = "OKP";
      o["crv"] = "Ed25519";
      o["x"] = b64url(std::string_view(reinterpret_cast<char*>(x), len));
      break;
    }
  }
  o["kid"] = kid_;
  o["use"] = "sig";
  o["alg"] = alg_name(alg_);
  return json::serialize(o);
}

std::string SigningKey::sign(std::string_view data) const {
  if (!impl_->has_private) fail("key " + kid_ + " has no private part");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* md = alg_ == Alg::EdDSA ? nullptr : EVP_sha256();
  std::size_t len = 0;
  std::string sig;
  bool ok = EVP_DigestSignInit(ctx, nullptr, md, nullptr, impl_->pkey) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) fail("signing failed");
  if (alg_ != Alg::ES256) return sig;
  // DER ECDSA-Sig-Value -> the fixed-width r || s that JOSE uses (RFC 7518 3.4).
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  if (!es) fail("bad ECDSA signature");
  std::string out(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
  ECDSA_SIG_free(es);
  return out;
}

bool SigningKey::verify(std::string_view data, std::string_view signature) const {
  std::string sig(signature);
  if (alg_ == Alg::ES256) {
    if (signature.size() != 64) return false;
    ECDSA_SIG* es = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()) + 32, 32, nullptr);
    ECDSA_SIG_set0(es, r, s);
    unsigned char* der = nullptr;
    int n = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    if (n <= 0) return false;
    sig.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* md = alg_ == Alg::EdDSA ? nullptr : EVP_sha256();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, impl_->pkey) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string sign_compact(const SigningKey& key, std::string_view typ, std::string_view payload_json) {
  std::string header = json_object({{"alg", alg_name(key.alg())}, {"typ", std::string(typ)}, {"kid", key.kid()}});
  std::string input = b64url(header) + "." + b64url(payload_json);
  std::string sig = key.sign(input);
  return input + "." + b64url(sig);
}

Result<Parsed> parse_compact(std::string_view token) {
  auto d1 = token.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return make_error(Errc::invalid_argument, "not a compact JWS (three dot-separated parts)");
  Parsed p;
  auto h = b64url_decode(token.substr(0, d1));
  auto b = b64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  auto s = b64url_decode(token.substr(d2 + 1));
  if (!h || !b || !s) return make_error(Errc::invalid_argument, "the token is not base64url");
  boost::system::error_code ec;
  json::value hv = json::parse(*h, ec);
  if (ec || !hv.is_object()) return make_error(Errc::invalid_argument, "the token header is not a JSON object");
  const auto& ho = hv.get_object();
  p.alg = string_claim(ho, "alg");
  p.kid = string_claim(ho, "kid");
  p.typ = string_claim(ho, "typ");
  // RFC 7515 4.1.11: a critical extension we do not know means the token must be refused.
  if (ho.contains("crit")) return make_error(Errc::invalid_argument, "the token has critical header extensions");
  p.header_json = std::move(*h);
  p.payload_json = std::move(*b);
  p.signature = std::move(*s);
  p.signing_input = std::string(token.substr(0, d2));
  return p;
}

}  // namespace congvu::directory::jose
