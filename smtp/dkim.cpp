#include "smtp/dkim.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/crypto.hpp"
#include "common/files.hpp"
#include "smtp/proto/header.hpp"

namespace congvu::smtp {

namespace {

namespace fs = std::filesystem;

struct PKeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PKey = std::unique_ptr<EVP_PKEY, PKeyFree>;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("DKIM: " + what); }

// The header fields signed when present (RFC 6376 5.4.1's recommendations). From is listed
// once more than it occurs ("oversigning") so that a From: added later breaks the signature.
const char* const kSignedHeaders[] = {"from", "to", "cc", "subject", "date", "message-id", "reply-to", "in-reply-to",
                                      "references", "mime-version", "content-type", "content-transfer-encoding"};

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::string public_key_b64(EVP_PKEY* k, DkimAlgorithm alg) {
  if (alg == DkimAlgorithm::ed25519_sha256) {
    unsigned char raw[32];
    std::size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(k, raw, &len) != 1) fail("cannot read the Ed25519 public key");
    return crypto::base64_encode(std::string_view(reinterpret_cast<char*>(raw), len));
  }
  int n = i2d_PUBKEY(k, nullptr);
  std::string der(static_cast<std::size_t>(n), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_PUBKEY(k, &p);
  return crypto::base64_encode(der);
}

PKey read_key(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) fail(path + ": cannot read the key");
  PKey k(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!k) fail(path + ": not a PEM private key");
  return k;
}

DkimKeyInfo info_for(const std::string& path, const std::string& domain, const std::string& selector, EVP_PKEY* k) {
  DkimKeyInfo i;
  i.domain = domain;
  i.selector = selector;
  i.path = path;
  i.algorithm = EVP_PKEY_get_id(k) == EVP_PKEY_ED25519 ? DkimAlgorithm::ed25519_sha256 : DkimAlgorithm::rsa_sha256;
  i.dns_name = selector + "._domainkey." + domain;
  i.dns_txt = std::string("v=DKIM1; k=") + (i.algorithm == DkimAlgorithm::ed25519_sha256 ? "ed25519" : "rsa") +
              "; p=" + public_key_b64(k, i.algorithm);
  return i;
}

bool valid_selector(const std::string& s) {
  return !s.empty() && s.size() <= 63 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
         });
}

}  // namespace

std::string dkim_relaxed_header(std::string_view name, std::string_view value) {
  std::string out;
  for (char c : name) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!out.empty() && is_wsp(out.back())) out.pop_back();
  out += ':';
  std::string v;
  bool space = false;
  for (char c : value) {
    if (c == '\r' || c == '\n') continue;  // unfold
    if (is_wsp(c)) {
      space = true;
      continue;
    }
    if (space && !v.empty()) v += ' ';
    space = false;
    v += c;
  }
  return out + v + "\r\n";
}

std::string dkim_relaxed_body(std::string_view body) {
  std::string out;
  std::size_t pos = 0;
  std::size_t pending_empty = 0;
  while (pos < body.size()) {
    std::size_t eol = body.find("\r\n", pos);
    std::string_view line = body.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? body.size() : eol + 2;
    std::string l;
    bool space = false;
    for (char c : line) {
      if (is_wsp(c)) {
        space = true;
        continue;
      }
      if (space) l += ' ';
      space = false;
      l += c;
    }
    if (l.empty()) {
      ++pending_empty;  // empty lines count only if something follows them
      continue;
    }
    for (; pending_empty > 0; --pending_empty) out += "\r\n";
    out += l + "\r\n";
  }
  return out;
}

struct DkimSigner::Key {
  PKey pkey;
  DkimAlgorithm alg;
  std::string selector;
};

DkimSigner::DkimSigner() = default;
DkimSigner::~DkimSigner() = default;
DkimSigner::DkimSigner(DkimSigner&&) noexcept = default;
DkimSigner& DkimSigner::operator=(DkimSigner&&) noexcept = default;

bool DkimSigner::empty() const { return keys_.empty(); }

DkimKeyInfo generate_dkim_key(const std::string& dir, const std::string& domain, const std::string& selector,
                              DkimAlgorithm alg, int rsa_bits) {
  if (!valid_selector(selector)) fail("selector '" + selector + "' must be letters, digits and '-'");
  if (rsa_bits < 1024 || rsa_bits > 4096) fail("RSA keys are 1024 to 4096 bits (2048 recommended)");
  std::string folder = dir + "/" + domain;
  std::string path = folder + "/" + selector + ".pem";
  if (fs::exists(path)) fail(path + " exists; choose another selector");
  fs::create_directories(folder);
  PKey k(alg == DkimAlgorithm::ed25519_sha256 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                              : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits)));
  if (!k) fail("key generation failed");
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, k.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(b, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(b);
  write_file_atomic(path, pem, 0600);
  return info_for(path, domain, selector, k.get());
}

std::vector<DkimKeyInfo> list_dkim_keys(const std::string& dir) {
  std::vector<DkimKeyInfo> out;
  if (!fs::exists(dir)) return out;
  for (const auto& d : fs::directory_iterator(dir)) {
    if (!d.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(d.path())) {
      if (f.path().extension() != ".pem") continue;
      auto k = read_key(f.path().string());
      out.push_back(info_for(f.path().string(), d.path().filename().string(), f.path().stem().string(), k.get()));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return std::tie(a.domain, a.selector) < std::tie(b.domain, b.selector); });
  return out;
}

DkimSigner DkimSigner::load(const std::string& dir, const std::string& domain) {
  DkimSigner s;
  s.domain_ = domain;
  for (const auto& info : list_dkim_keys(dir)) {
    if (info.domain != domain) continue;
    auto key = std::make_unique<Key>();
    key->pkey = read_key(info.path);
    key->alg = info.algorithm;
    key->selector = info.selector;
    s.keys_.push_back(std::move(key));
  }
  return s;
}

std::string DkimSigner::sign(std::string_view message, UnixMs now) const {
  if (keys_.empty()) return {};
  auto headers = proto::parse_header_section(message);
  if (!headers) fail("the message has no valid header section");
  std::string_view body = message.substr(std::min(headers->body_offset, message.size()));
  std::string bh = crypto::base64_encode(crypto::sha256_raw(dkim_relaxed_body(body)));

  // Header fields are signed from the bottom up for repeated names (RFC 6376 5.4.2).
  std::string h_list, signed_part;
  for (const char* name : kSignedHeaders) {
    std::vector<const proto::HeaderField*> found;
    for (const auto& f : headers->fields)
      if (proto::iequal(f.name, name)) found.push_back(&f);
    for (auto it = found.rbegin(); it != found.rend(); ++it) {
      h_list += (h_list.empty() ? "" : ":") + std::string(name);
      signed_part += dkim_relaxed_header((*it)->name, (*it)->value);
    }
    if (std::string_view(name) == "from") h_list += ":from";  // oversign: no From: may be added
  }
  std::string out;
  for (const auto& key : keys_) {
    std::string field = "v=1; a=" + std::string(key->alg == DkimAlgorithm::ed25519_sha256 ? "ed25519-sha256" : "rsa-sha256") +
                        "; c=relaxed/relaxed; d=" + domain_ + "; s=" + key->selector +
                        "; t=" + std::to_string(now / 1000) + ";\r\n\th=" + h_list + ";\r\n\tbh=" + bh + ";\r\n\tb=";
    std::string data = signed_part + dkim_relaxed_header("DKIM-Signature", field);
    data.resize(data.size() - 2);  // the DKIM-Signature field is hashed without its CRLF
    std::string sig;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    bool ok;
    if (key->alg == DkimAlgorithm::ed25519_sha256) {
      // RFC 8463: Ed25519 signs the SHA-256 of the canonical data ("pure" Ed25519, no prehash mode).
      std::string digest = crypto::sha256_raw(data);
      ok = EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key->pkey.get()) == 1 &&
           EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
      sig.resize(len);
      ok = ok && EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                                reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
    } else {
      ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key->pkey.get()) == 1 &&
           EVP_DigestSignUpdate(ctx, data.data(), data.size()) == 1 && EVP_DigestSignFinal(ctx, nullptr, &len) == 1;
      sig.resize(len);
      ok = ok && EVP_DigestSignFinal(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len) == 1;
    }
    EVP_MD_CTX_free(ctx);
    if (!ok) fail("signing with selector " + key->selector + " failed");
    sig.resize(len);
    std::string b64 = crypto::base64_encode(sig);
    // Fold b= at 72 columns; whitespace inside b= is ignored by verifiers.
    std::string folded;
    for (std::size_t i = 0; i < b64.size(); i += 72) folded += (i ? "\r\n\t " : "") + b64.substr(i, 72);
    out = "DKIM-Signature: " + field + folded + "\r\n" + out;
  }
  return out;
}

}  // namespace congvu::smtp
