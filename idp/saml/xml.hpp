// XML security for the SAML IdP, on libxml2 and xmlsec1 (OpenSSL engine); nothing here parses,
// canonicalises, signs, verifies or encrypts XML by hand.
//
// SECURITY (what every message from outside goes through):
//  - parse(): at most kMaxXml bytes of UTF-8; any DOCTYPE is refused before and after parsing,
//    so no entity is ever declared, expanded or fetched (XXE, billion laughs); no network.
//  - verify(): the signature must be a direct child of the element it signs, the only one
//    there, with exactly one Reference whose URI is "#" + that element's ID; only that ID is
//    registered (a second element with the same ID fails); same-document references only;
//    transforms limited to enveloped + (exclusive) C14N; RSA/ECDSA with SHA-256/384/512 (no
//    SHA-1); the key is the SP's registered certificate, never one from the message's KeyInfo.
//    Callers then read only the verified element: that closes signature wrapping.
//  - inflate(): HTTP-Redirect payloads are inflated with an output limit (no zip bombs).
// Thread-safety: init() once (call_once); documents are per thread; keys are immutable and
// shared after loading.
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace congvu::idp::saml {

inline constexpr std::size_t kMaxXml = 256 * 1024;

inline constexpr const char* kNsSamlp = "urn:oasis:names:tc:SAML:2.0:protocol";
inline constexpr const char* kNsSaml = "urn:oasis:names:tc:SAML:2.0:assertion";
inline constexpr const char* kNsMd = "urn:oasis:names:tc:SAML:2.0:metadata";
inline constexpr const char* kNsDs = "http://www.w3.org/2000/09/xmldsig#";
inline constexpr const char* kNsSoap = "http://schemas.xmlsoap.org/soap/envelope/";

// Initialises libxml2 and xmlsec once per process (safe to call often).
void init();

struct DocFree {
  void operator()(xmlDoc* d) const;
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

// Parses untrusted XML (see SECURITY above). Errors: invalid_argument naming the problem.
Result<DocPtr> parse(std::string_view xml);
std::string serialize(xmlDoc* doc);  // the document without an XML declaration

// Element helpers (namespace-aware; `ns` may be null for "any").
xmlNode* first_child(xmlNode* parent, const char* ns, const char* name);
std::vector<xmlNode*> children(xmlNode* parent, const char* ns, const char* name);
bool is(xmlNode* n, const char* ns, const char* name);
std::string attr(xmlNode* n, const char* name);  // "" when absent
bool has_attr(xmlNode* n, const char* name);
std::string text(xmlNode* n);                   // concatenated text content, "" for null
std::string escape(std::string_view s);          // for text and attribute values

// An X.509 certificate's public key (an SP's signing or encryption key).
class PeerKey {
 public:
  // From base64 DER (as in md:KeyDescriptor/ds:X509Certificate, whitespace allowed).
  static Result<PeerKey> from_certificate(std::string_view b64);
  const std::string& cert_b64() const { return b64_; }
  EVP_PKEY* pkey() const { return pkey_.get(); }
  // "rsa" or "ec".
  std::string type() const;

 private:
  std::string b64_;
  std::shared_ptr<EVP_PKEY> pkey_;
};

// The IdP's RSA key and self-signed certificate.
class SigningKey {
 public:
  // Loads data_dir/saml/signing.{key,crt} (the key as encrypted PKCS#8 under `passphrase`),
  // or makes an RSA-2048 key and a 10-year certificate for `entity_id` when both are absent.
  static Result<SigningKey> load_or_make(const std::string& dir, const std::string& passphrase,
                                         const std::string& entity_id);
  const std::string& cert_b64() const { return cert_b64_; }
  EVP_PKEY* pkey() const { return pkey_.get(); }

 private:
  std::string cert_b64_;
  std::shared_ptr<EVP_PKEY> pkey_;
};

// Enveloped signature (RSA-SHA256, SHA-256 digest, exclusive C14N) of `element`, which must
// carry an ID attribute; the ds:Signature goes right after `after` (the Issuer) or first.
Status sign(xmlDoc* doc, xmlNode* element, xmlNode* after, const SigningKey& key);
// True when `element` carries a ds:Signature child.
bool has_signature(xmlNode* element);
// Verifies the enveloped signature of `element` with `key` (see SECURITY above).
Status verify(xmlDoc* doc, xmlNode* element, const PeerKey& key);

// Replaces `element` by xenc:EncryptedData: AES-256-GCM content key transported with
// RSA-OAEP under `key`.
Status encrypt(xmlDoc* doc, xmlNode* element, const PeerKey& key);

// HTTP-Redirect binding (SAML Bindings 3.4): raw DEFLATE both ways.
std::string deflate_raw(std::string_view data);
Result<std::string> inflate_raw(std::string_view data, std::size_t limit);

// HTTP-Redirect signatures over the query octets. `alg` is the SigAlg URI.
std::string sign_raw(std::string_view data, const SigningKey& key);  // RSA-SHA256
Status verify_raw(std::string_view data, std::string_view signature, std::string_view alg, const PeerKey& key);

inline constexpr const char* kRsaSha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

}  // namespace congvu::idp::saml
