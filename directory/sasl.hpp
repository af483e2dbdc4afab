// The Cyrus SASL glue (DESIGN.md, "Authentication in the mail and directory protocols"): SMTP
// AUTH, IMAP AUTHENTICATE and LDAP SASL binds run Cyrus SASL's mechanisms (PLAIN, LOGIN,
// SCRAM-SHA-256 from libsasl2-modules) with the directory as the only credential source:
//  - PLAIN and LOGIN call back into Directory::authenticate (Argon2id; legacy hashes upgraded);
//  - SCRAM-SHA-256 reads the stored verifier through an in-process auxprop plugin ("congvu")
//    in the `SCRAM-SHA-256$iter:salt$StoredKey:ServerKey` form the SCRAM plugin expects.
// Nothing is read from /etc/sasl2 (GETOPT and GETCONFPATH callbacks); no sasldb, no saslauthd,
// no plaintext secrets. Only active people authenticate.
//
// Thread-safety: the engine is process-wide (Cyrus SASL's init is); a SaslConn belongs to one
// session and may be used from any one thread at a time. step() may take tens of
// milliseconds (Argon2id): servers call it on a worker pool, never on the event loop.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/time.hpp"

namespace congvu::directory {

class Directory;

struct SaslResult {
  enum Kind { challenge, success, failure } kind = failure;
  std::string data;    // the challenge, or additional data with success (SCRAM's v=...)
  std::string user;    // success: the person's login
  std::string reason;  // failure: for the log, never for the client
};

class SaslConn {
 public:
  ~SaslConn();
  SaslConn(const SaslConn&) = delete;
  SaslConn& operator=(const SaslConn&) = delete;

  SaslResult start(const std::string& mechanism, const std::optional<std::string>& initial, UnixMs now);
  SaslResult step(const std::string& response, UnixMs now);

 private:
  friend class SaslEngine;
  struct Impl;
  explicit SaslConn(std::unique_ptr<Impl> impl);
  SaslResult finish(int rc, const char* out, unsigned outlen);
  std::unique_ptr<Impl> impl_;
};

class SaslEngine {
 public:
  // Initialises Cyrus SASL once per process; later calls return the same engine.
  static SaslEngine& get();
  // A server connection for `service` ("smtp", "imap", "ldap") answering for `dir`.
  std::unique_ptr<SaslConn> connect(Directory& dir, const std::string& service, const std::string& hostname);
  // The mechanisms Congvu offers (and that the installed plugins provide).
  std::vector<std::string> mechanisms() const { return {"PLAIN", "LOGIN", "SCRAM-SHA-256"}; }

 private:
  SaslEngine();
};

}  // namespace congvu::directory
