#include "idp/saml/xml.hpp"

#include <libxml/parser.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "common/crypto.hpp"
#include "common/files.hpp"
#include "common/html.hpp"

namespace congvu::idp::saml {

namespace {

const xmlChar* X(const char* s) { return reinterpret_cast<const xmlChar*>(s); }
const char* C(const xmlChar* s) { return reinterpret_cast<const char*>(s); }

void silent(void*, const char*, ...) {}
void silent_structured(void*, xmlErrorPtr) {}

Error bad(std::string msg) { return make_error(Errc::invalid_argument, std::move(msg)); }

// An xmlsec key holding (a new reference to) `pkey`.
xmlSecKeyPtr xmlsec_key(EVP_PKEY* pkey) {
  EVP_PKEY_up_ref(pkey);
  xmlSecKeyDataPtr data = xmlSecOpenSSLEvpKeyAdopt(pkey);
  if (!data) {
    EVP_PKEY_free(pkey);
    return nullptr;
  }
  xmlSecKeyPtr key = xmlSecKeyCreate();
  if (!key || xmlSecKeySetValue(key, data) < 0) {
    xmlSecKeyDataDestroy(data);
    if (key) xmlSecKeyDestroy(key);
    return nullptr;
  }
  return key;
}

struct DsigCtx {
  xmlSecDSigCtxPtr p = xmlSecDSigCtxCreate(nullptr);
  ~DsigCtx() {
    if (p) xmlSecDSigCtxDestroy(p);
  }
};

// Registers `element`'s ID attribute as the document's only element with that ID.
Result<std::string> register_id(xmlDoc* doc, xmlNode* element) {
  xmlAttr* a = xmlHasProp(element, X("ID"));
  if (!a) return bad("the signed element has no ID attribute");
  std::string id = attr(element, "ID");
  if (id.empty()) return bad("the signed element has an empty ID");
  xmlAttr* existing = xmlGetID(doc, X(id.c_str()));
  if (existing && existing != a) return bad("the ID " + id + " occurs twice in the message");
  if (!existing && !xmlAddID(nullptr, doc, X(id.c_str()), a)) return bad("the ID " + id + " cannot be registered");
  return id;
}

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* k) { return std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free); }

std::string der_b64(X509* x) {
  unsigned char* der = nullptr;
  int n = i2d_X509(x, &der);
  std::string out = crypto::base64_encode(std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(n)));
  OPENSSL_free(der);
  return out;
}

// What was written to a memory BIO, which is then freed.
std::string take(BIO* b) {
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  std::string out(p, static_cast<std::size_t>(n));
  BIO_free(b);
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void DocFree::operator()(xmlDoc* d) const { xmlFreeDoc(d); }

void init() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    if (xmlSecInit() < 0 || xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(nullptr) < 0 || xmlSecCryptoInit() < 0)
      throw std::runtime_error("xmlsec1 could not be initialised");
    xmlSecErrorsDefaultCallbackEnableOutput(0);
  });
  // libxml2's error handlers are per thread: every thread that parses silences its own.
  thread_local bool quiet = [] {
    xmlSetGenericErrorFunc(nullptr, silent);
    xmlSetStructuredErrorFunc(nullptr, silent_structured);
    return true;
  }();
  (void)quiet;
}

Result<DocPtr> parse(std::string_view xml) {
  init();
  if (xml.empty()) return bad("the message is empty");
  if (xml.size() > kMaxXml) return bad("the message is larger than " + std::to_string(kMaxXml / 1024) + " KiB");
  // No DTD at all: a SAML message never needs one, and refusing it closes XXE and entity
  // expansion before libxml2 sees a declaration.
  if (xml.find("<!DOCTYPE") != std::string_view::npos || xml.find("<!ENTITY") != std::string_view::npos)
    return bad("the message has a DOCTYPE; DTDs and entities are not accepted");
  // UTF-8 only (a UTF-16 document could hide a DOCTYPE from the check above).
  if (xml.size() >= 2 && (static_cast<unsigned char>(xml[0]) >= 0xFE || xml[0] == '\0' || xml[1] == '\0'))
    return bad("the message is not UTF-8");
  int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
  xmlDoc* d = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "message.xml", "UTF-8", opts);
  if (!d) return bad("the message is not well-formed XML");
  DocPtr doc(d);
  if (doc->intSubset || doc->extSubset) return bad("the message has a DOCTYPE; DTDs and entities are not accepted");
  if (!xmlDocGetRootElement(doc.get())) return bad("the message has no root element");
  return doc;
}

std::string serialize(xmlDoc* doc) {
  xmlNode* root = xmlDocGetRootElement(doc);
  xmlBufferPtr b = xmlBufferCreate();
  xmlNodeDump(b, doc, root, 0, 0);
  std::string out(C(xmlBufferContent(b)), static_cast<std::size_t>(xmlBufferLength(b)));
  xmlBufferFree(b);
  return out;
}

bool is(xmlNode* n, const char* ns, const char* name) {
  if (!n || n->type != XML_ELEMENT_NODE || std::strcmp(C(n->name), name) != 0) return false;
  if (!ns) return true;
  return n->ns && n->ns->href && std::strcmp(C(n->ns->href), ns) == 0;
}

xmlNode* first_child(xmlNode* parent, const char* ns, const char* name) {
  for (xmlNode* c = parent ? parent->children : nullptr; c; c = c->next)
    if (is(c, ns, name)) return c;
  return nullptr;
}

std::vector<xmlNode*> children(xmlNode* parent, const char* ns, const char* name) {
  std::vector<xmlNode*> out;
  for (xmlNode* c = parent ? parent->children : nullptr; c; c = c->next)
    if (is(c, ns, name)) out.push_back(c);
  return out;
}

std::string attr(xmlNode* n, const char* name) {
  if (!n) return {};
  xmlChar* v = xmlGetNoNsProp(n, X(name));
  if (!v) return {};
  std::string s(C(v));
  xmlFree(v);
  return s;
}

bool has_attr(xmlNode* n, const char* name) { return n && xmlHasNsProp(n, X(name), nullptr) != nullptr; }

std::string text(xmlNode* n) {
  if (!n) return {};
  xmlChar* v = xmlNodeGetContent(n);
  if (!v) return {};
  std::string s(C(v));
  xmlFree(v);
  return s;
}

// The five markup characters, as for HTML (&#39; is XML too).
std::string escape(std::string_view s) { return Html::text(s).str(); }

Result<PeerKey> PeerKey::from_certificate(std::string_view b64) {
  std::string clean;
  for (char c : b64)
    if (!std::isspace(static_cast<unsigned char>(c))) clean += c;
  auto der = crypto::base64_decode(clean);
  if (!der || der->empty()) return bad("the certificate is not base64");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der->size()));
  if (!x) return bad("the certificate is not DER X.509");
  EVP_PKEY* k = X509_get_pubkey(x);
  X509_free(x);
  if (!k) return bad("the certificate has no usable public key");
  int id = EVP_PKEY_get_base_id(k);
  if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC) {
    EVP_PKEY_free(k);
    return bad("only RSA and EC certificates are supported");
  }
  if (id == EVP_PKEY_RSA && EVP_PKEY_get_bits(k) < 2048) {
    EVP_PKEY_free(k);
    return bad("RSA keys shorter than 2048 bits are refused");
  }
  PeerKey out;
  out.b64_ = clean;
  out.pkey_ = own(k);
  return out;
}

std::string PeerKey::type() const { return EVP_PKEY_get_base_id(pkey_.get()) == EVP_PKEY_EC ? "ec" : "rsa"; }

Result<SigningKey> SigningKey::load_or_make(const std::string& dir, const std::string& passphrase,
                                            const std::string& entity_id) {
  std::string key_path = dir + "/signing.key", crt_path = dir + "/signing.crt";
  SigningKey out;
  if (std::filesystem::exists(key_path) || std::filesystem::exists(crt_path)) {
    std::string kpem = read_all(key_path), cpem = read_all(crt_path);
    BIO* kb = BIO_new_mem_buf(kpem.data(), static_cast<int>(kpem.size()));
    EVP_PKEY* k = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, const_cast<char*>(passphrase.c_str()));
    BIO_free(kb);
    if (!k) return make_error(Errc::invalid_argument, key_path + ": cannot read the SAML signing key (wrong passphrase?)");
    out.pkey_ = own(k);
    BIO* cb = BIO_new_mem_buf(cpem.data(), static_cast<int>(cpem.size()));
    X509* x = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    if (!x) return make_error(Errc::invalid_argument, crt_path + ": cannot read the SAML certificate");
    out.cert_b64_ = der_b64(x);
    X509_free(x);
    return out;
  }
  EVP_PKEY* k = EVP_RSA_gen(2048);
  if (!k) return make_error(Errc::io, "cannot generate the SAML signing key");
  out.pkey_ = own(k);
  X509* x = X509_new();
  X509_set_version(x, 2);
  std::string serial = crypto::random_string(16);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), 15, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400L);
  X509_set_pubkey(x, k);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Congvu"), -1, -1, 0);
  std::string cn = "SAML signing " + entity_id.substr(0, 40);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_sign(x, k, EVP_sha256());
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, x);
  std::string cpem = take(cb);
  out.cert_b64_ = der_b64(x);
  X509_free(x);
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_PKCS8PrivateKey(kb, k, EVP_aes_256_cbc(), const_cast<char*>(passphrase.data()),
                                static_cast<int>(passphrase.size()), nullptr, nullptr);
  std::string kpem = take(kb);
  try {
    std::filesystem::create_directories(dir);
    write_file_atomic(key_path, kpem, 0600);
    write_file_atomic(crt_path, cpem, 0644);
  } catch (const std::exception& e) {
    return make_error(Errc::io, e.what());
  }
  return out;
}

bool has_signature(xmlNode* element) { return first_child(element, kNsDs, "Signature") != nullptr; }

Status sign(xmlDoc* doc, xmlNode* element, xmlNode* after, const SigningKey& key) {
  init();
  auto id = register_id(doc, element);
  if (!id) return id.error();
  xmlNode* sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId, xmlSecTransformRsaSha256Id, nullptr,
                                                 X("ds"));
  if (!sig) return make_error(Errc::io, "cannot create the signature template");
  if (after) xmlAddNextSibling(after, sig);
  else if (element->children) xmlAddPrevSibling(element->children, sig);
  else xmlAddChild(element, sig);
  std::string uri = "#" + *id;
  xmlNode* ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id, nullptr, X(uri.c_str()), nullptr);
  if (!ref || !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId) ||
      !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId))
    return make_error(Errc::io, "cannot create the signature reference");
  DsigCtx ctx;
  if (!ctx.p) return make_error(Errc::io, "cannot create a signature context");
  ctx.p->signKey = xmlsec_key(key.pkey());
  if (!ctx.p->signKey || xmlSecDSigCtxSign(ctx.p, sig) < 0) return make_error(Errc::io, "XML signing failed");
  // KeyInfo after signing: it is not covered by the signature and needs no key lookup.
  xmlNode* ki = xmlSecTmplSignatureEnsureKeyInfo(sig, nullptr);
  xmlNode* x509 = ki ? xmlSecTmplKeyInfoAddX509Data(ki) : nullptr;
  xmlNode* cert = x509 ? xmlSecTmplX509DataAddCertificate(x509) : nullptr;
  if (!cert) return make_error(Errc::io, "cannot add the certificate to the signature");
  xmlNodeSetContent(cert, X(key.cert_b64().c_str()));
  return ok_status();
}

Status verify(xmlDoc* doc, xmlNode* element, const PeerKey& key) {
  init();
  auto sigs = children(element, kNsDs, "Signature");
  if (sigs.empty()) return bad("the message is not signed");
  if (sigs.size() > 1) return bad("the message carries more than one signature");
  auto id = register_id(doc, element);
  if (!id) return id.error();
  // Checked before xmlsec runs, for a clear message; checked again on its result below.
  auto refs = children(first_child(sigs[0], kNsDs, "SignedInfo"), kNsDs, "Reference");
  if (refs.size() != 1) return bad("the signature must have exactly one reference");
  if (attr(refs[0], "URI") != "#" + *id) return bad("the signature does not cover the message it is in");
  xmlNode* method = first_child(first_child(sigs[0], kNsDs, "SignedInfo"), kNsDs, "SignatureMethod");
  xmlNode* digest = first_child(refs[0], kNsDs, "DigestMethod");
  for (xmlNode* n : {method, digest}) {
    std::string alg = attr(n, "Algorithm");
    if (alg.size() >= 4 && alg.compare(alg.size() - 4, 4, "sha1") == 0)
      return bad("the signature uses SHA-1 (" + alg + "), which is refused");
  }
  DsigCtx ctx;
  if (!ctx.p) return make_error(Errc::io, "cannot create a signature context");
  ctx.p->signKey = xmlsec_key(key.pkey());
  if (!ctx.p->signKey) return make_error(Errc::io, "cannot use the SP's key");
  ctx.p->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
  for (auto t : {xmlSecTransformEnvelopedId, xmlSecTransformExclC14NId, xmlSecTransformExclC14NWithCommentsId,
                 xmlSecTransformInclC14NId, xmlSecTransformSha256Id, xmlSecTransformSha384Id, xmlSecTransformSha512Id})
    xmlSecDSigCtxEnableReferenceTransform(ctx.p, t);
  for (auto t : {xmlSecTransformExclC14NId, xmlSecTransformInclC14NId, xmlSecTransformRsaSha256Id,
                 xmlSecTransformRsaSha384Id, xmlSecTransformRsaSha512Id, xmlSecTransformEcdsaSha256Id,
                 xmlSecTransformEcdsaSha384Id, xmlSecTransformEcdsaSha512Id, xmlSecTransformSha256Id,
                 xmlSecTransformSha384Id, xmlSecTransformSha512Id})
    xmlSecDSigCtxEnableSignatureTransform(ctx.p, t);
  if (xmlSecDSigCtxVerify(ctx.p, sigs[0]) < 0)
    return bad("the signature cannot be processed (unsupported algorithm, SHA-1, or a reference to another document)");
  if (ctx.p->status != xmlSecDSigStatusSucceeded) return bad("the signature does not verify with the SP's certificate");
  if (xmlSecPtrListGetSize(&ctx.p->signedInfoReferences) != 1) return bad("the signature must have exactly one reference");
  auto* ref = static_cast<xmlSecDSigReferenceCtxPtr>(xmlSecPtrListGetItem(&ctx.p->signedInfoReferences, 0));
  if (!ref || !ref->uri || std::string(C(ref->uri)) != "#" + *id)
    return bad("the signature does not cover the message it is in");
  return ok_status();
}

Status encrypt(xmlDoc* doc, xmlNode* element, const PeerKey& key) {
  init();
  if (EVP_PKEY_get_base_id(key.pkey()) != EVP_PKEY_RSA) return bad("assertions are encrypted for RSA keys only");
  xmlSecKeysMngrPtr mngr = xmlSecKeysMngrCreate();
  if (!mngr) return make_error(Errc::io, "cannot create a key manager");
  struct MngrFree {
    xmlSecKeysMngrPtr m;
    ~MngrFree() { xmlSecKeysMngrDestroy(m); }
  } mf{mngr};
  if (xmlSecCryptoAppDefaultKeysMngrInit(mngr) < 0) return make_error(Errc::io, "cannot initialise a key manager");
  xmlSecKeyPtr k = xmlsec_key(key.pkey());
  if (!k || xmlSecKeySetName(k, X("sp")) < 0 || xmlSecCryptoAppDefaultKeysMngrAdoptKey(mngr, k) < 0)
    return make_error(Errc::io, "cannot use the SP's encryption key");
  xmlNode* enc = xmlSecTmplEncDataCreate(doc, xmlSecTransformAes256GcmId, nullptr, xmlSecTypeEncElement, nullptr, nullptr);
  if (!enc || !xmlSecTmplEncDataEnsureCipherValue(enc)) return make_error(Errc::io, "cannot create the encryption template");
  xmlNode* ki = xmlSecTmplEncDataEnsureKeyInfo(enc, nullptr);
  xmlNode* ek = ki ? xmlSecTmplKeyInfoAddEncryptedKey(ki, xmlSecTransformRsaOaepId, nullptr, nullptr, nullptr) : nullptr;
  xmlNode* ki2 = ek && xmlSecTmplEncDataEnsureCipherValue(ek) ? xmlSecTmplEncDataEnsureKeyInfo(ek, nullptr) : nullptr;
  if (!ki2 || !xmlSecTmplKeyInfoAddKeyName(ki2, X("sp"))) {
    xmlFreeNode(enc);
    return make_error(Errc::io, "cannot create the key transport template");
  }
  xmlSecEncCtxPtr ctx = xmlSecEncCtxCreate(mngr);
  if (!ctx) {
    xmlFreeNode(enc);
    return make_error(Errc::io, "cannot create an encryption context");
  }
  ctx->encKey = xmlSecKeyGenerate(xmlSecKeyDataAesId, 256, xmlSecKeyDataTypeSession);
  int rc = ctx->encKey ? xmlSecEncCtxXmlEncrypt(ctx, enc, element) : -1;
  xmlSecEncCtxDestroy(ctx);
  if (rc < 0) {
    xmlFreeNode(enc);
    return make_error(Errc::io, "XML encryption failed");
  }
  return ok_status();
}

std::string deflate_raw(std::string_view data) {
  z_stream s{};
  deflateInit2(&s, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&s, static_cast<uLong>(data.size())), '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

Result<std::string> inflate_raw(std::string_view data, std::size_t limit) {
  z_stream s{};
  if (inflateInit2(&s, -15) != Z_OK) return make_error(Errc::io, "inflate");
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    s.next_out = reinterpret_cast<Bytef*>(buf);
    s.avail_out = sizeof buf;
    rc = inflate(&s, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&s);
      return bad("the message is not valid DEFLATE data");
    }
    out.append(buf, sizeof buf - s.avail_out);
    if (out.size() > limit) {
      inflateEnd(&s);
      return bad("the message inflates to more than " + std::to_string(limit / 1024) + " KiB");
    }
    if (rc == Z_OK && s.avail_in == 0 && s.avail_out != 0) {
      inflateEnd(&s);
      return bad("the DEFLATE data is truncated");
    }
  }
  inflateEnd(&s);
  return out;
}

std::string sign_raw(std::string_view data, const SigningKey& key) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t n = 0;
  std::string sig;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.pkey()) == 1 &&
      EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1) {
    sig.resize(n);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &n,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1)
      sig.resize(n);
    else
      sig.clear();
  }
  EVP_MD_CTX_free(ctx);
  return sig;
}

Status verify_raw(std::string_view data, std::string_view signature, std::string_view alg, const PeerKey& key) {
  const EVP_MD* md = nullptr;
  if (alg == kRsaSha256) md = EVP_sha256();
  else if (alg == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384") md = EVP_sha384();
  else if (alg == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512") md = EVP_sha512();
  else if (alg == "http://www.w3.org/2000/09/xmldsig#rsa-sha1") return bad("SigAlg rsa-sha1 is refused: SHA-1 is broken");
  else return bad("SigAlg " + std::string(alg) + " is not supported");
  if (EVP_PKEY_get_base_id(key.pkey()) != EVP_PKEY_RSA) return bad("the SP's signing key is not RSA");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  int ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key.pkey()) == 1 &&
           EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return bad("the signature does not verify with the SP's certificate");
  return ok_status();
}

}  // namespace congvu::idp::saml
