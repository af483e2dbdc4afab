// DKIM signing (RFC 6376) with RSA-SHA256 and Ed25519-SHA256 (RFC 8463), relaxed/relaxed
// canonicalization. Keys live as PEM files under DATA_DIR/dkim/<domain>/<selector>.pem (mode
// 0600); every key of a domain signs, so a message carries one signature per algorithm and
// receivers that know only RSA still verify. `congvu dkim` creates, lists and prints the DNS
// records of keys; `congvu serve` creates one RSA and one Ed25519 key for the mail domain when
// there are none.
// Thread-safety: a DkimSigner is immutable after load and may sign from any thread.
// Failures (unreadable key, OpenSSL error) throw std::runtime_error naming the file.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"

namespace congvu::smtp {

enum class DkimAlgorithm { rsa_sha256, ed25519_sha256 };

struct DkimKeyInfo {
  std::string domain, selector, path;
  DkimAlgorithm algorithm = DkimAlgorithm::rsa_sha256;
  std::string dns_name;  // selector._domainkey.domain
  std::string dns_txt;   // "v=DKIM1; k=rsa; p=..."
};

// Creates a key; refuses to overwrite an existing selector. rsa_bits for RSA (2048 default).
DkimKeyInfo generate_dkim_key(const std::string& dir, const std::string& domain, const std::string& selector,
                              DkimAlgorithm alg, int rsa_bits = 2048);
std::vector<DkimKeyInfo> list_dkim_keys(const std::string& dir);

class DkimSigner {
 public:
  DkimSigner();
  ~DkimSigner();
  DkimSigner(DkimSigner&&) noexcept;
  DkimSigner& operator=(DkimSigner&&) noexcept;
  // Loads every key of `domain` under `dir`.
  static DkimSigner load(const std::string& dir, const std::string& domain);
  bool empty() const;
  // DKIM-Signature fields (each ending in CRLF) to put in front of `message`, whose lines end
  // in CRLF. Signs the header fields in kSignedHeaders that the message has.
  std::string sign(std::string_view message, UnixMs now) const;

 private:
  struct Key;
  std::vector<std::unique_ptr<Key>> keys_;
  std::string domain_;
};

// The canonical forms (RFC 6376 3.4.2, 3.4.4), exposed for tests.
std::string dkim_relaxed_header(std::string_view name, std::string_view value);
std::string dkim_relaxed_body(std::string_view body);

}  // namespace congvu::smtp
