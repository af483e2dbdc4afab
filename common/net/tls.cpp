#include "common/net/tls.hpp"

#include "common/files.hpp"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace congvu::net {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("TLS set-up: " + what); }

PKey make_key() {
  PKey k(EVP_EC_gen("P-256"));
  if (!k) fail("cannot generate an EC key");
  return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) fail(std::string("bad extension ") + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Cert make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key, long days,
               bool ca, const std::string& san) {
  Cert c(X509_new());
  X509_set_version(c.get(), 2);
  unsigned char serial[16];
  FILE* f = std::fopen("/dev/urandom", "rb");
  if (!f || std::fread(serial, 1, sizeof serial, f) != sizeof serial) fail("cannot read /dev/urandom");
  std::fclose(f);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), days * 86400L);
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Congvu"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* iss = issuer ? issuer : c.get();
  X509_set_issuer_name(c.get(), X509_get_subject_name(iss));
  add_ext(c.get(), iss, NID_subject_key_identifier, "hash");
  if (ca) {
    add_ext(c.get(), iss, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    add_ext(c.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(c.get(), iss, NID_authority_key_identifier, "keyid:always");
    add_ext(c.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(c.get(), iss, NID_key_usage, "critical,digitalSignature");
    add_ext(c.get(), iss, NID_ext_key_usage, "serverAuth");
    add_ext(c.get(), iss, NID_subject_alt_name, san.c_str());
  }
  if (!X509_sign(c.get(), issuer_key ? issuer_key : key, EVP_sha256())) fail("cannot sign " + cn);
  return c;
}

std::string pem_cert(X509* c) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, c);
  char* p;
  long n = BIO_get_mem_data(b, &p);
  std::string s(p, static_cast<std::size_t>(n));
  BIO_free(b);
  return s;
}

std::string pem_key(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* p;
  long n = BIO_get_mem_data(b, &p);
  std::string s(p, static_cast<std::size_t>(n));
  BIO_free(b);
  return s;
}

Cert read_cert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return nullptr;
  Cert c(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return c;
}

PKey read_key(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return nullptr;
  PKey k(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return k;
}

bool server_cert_usable(X509* c, X509* ca, const std::string& hostname) {
  if (!c) return false;
  if (X509_check_host(c, hostname.c_str(), hostname.size(), 0, nullptr) != 1) return false;
  if (X509_check_issued(ca, c) != X509_V_OK) return false;
  time_t soon = time(nullptr) + 30L * 86400;
  return X509_cmp_time(X509_get0_notAfter(c), &soon) > 0;
}

}  // namespace

TlsFiles ensure_local_ca(const std::string& dir, const std::string& hostname) {
  std::filesystem::create_directories(dir);
  TlsFiles files{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key"};
  std::string ca_key_path = dir + "/ca.key";
  Cert ca = read_cert(files.ca_cert);
  PKey ca_key = read_key(ca_key_path);
  if (!ca || !ca_key) {
    ca_key = make_key();
    ca = make_cert(ca_key.get(), "Congvu local CA", nullptr, nullptr, 3650, true, "");
    write_file_atomic(ca_key_path, pem_key(ca_key.get()), 0600);
    write_file_atomic(files.ca_cert, pem_cert(ca.get()), 0644);
    std::filesystem::remove(files.cert_chain);
  }
  Cert server = read_cert(files.cert_chain);
  if (!server_cert_usable(server.get(), ca.get(), hostname) || !read_key(files.key)) {
    PKey key = make_key();
    std::string san = "DNS:" + hostname + ",DNS:localhost,IP:127.0.0.1,IP:::1";
    server = make_cert(key.get(), hostname, ca.get(), ca_key.get(), 397, false, san);
    write_file_atomic(files.key, pem_key(key.get()), 0600);
    write_file_atomic(files.cert_chain, pem_cert(server.get()) + pem_cert(ca.get()), 0644);
  }
  return files;
}

}  // namespace congvu::net
