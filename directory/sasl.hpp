// The Cyrus SASL glue (DESIGN.md, "Authentication in the mail and directory protocols"): SMTP
// AUTH, IMAP AUTHENTICATE and LDAP SASL binds run Cyrus SASL's mechanisms (PLAIN, LOGIN,
// SCRAM-SHA-256 from libsasl2-modules) with the directory as the only credential source:
//  - PLAIN and LOGIN call back into Directory::authenticate (Argon2id; legacy hashes upgraded);
//  - SCRAM-SHA-256 reads the stored verifier through an in-process auxprop plugin ("congvu")
//    in the `SCRAM-SHA-256$iter:salt$StoredKey:ServerKey` form the SCRAM plugin expects.
// Nothing is read from /etc/sasl2 (GETOPT and GETCONFPATH callbacks); no sasldb, no saslauthd,
// no plaintext secrets. Only active people authenticate.
// OAUTHBEARER (RFC 7628) and XOAUTH2 are served here too, in Congvu's own code (Debian ships no
// server plugin for them): the bearer token is an access token of Congvu's IdP, verified
// in-process (audience "mail", scope "mail"), offered once Directory::enable_tokens was called.
//
// Every password check here goes through the server's LoginThrottle (directory/throttle.hpp)
// when connect() is given one: PLAIN and LOGIN inside the checkpass callback, SCRAM-SHA-256
// around the exchange (the login named in client-first is refused while it waits, its wrong
// proof is counted). A refusal by the throttle, or a full Argon2id pool, is `temporary`.
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
class LoginThrottle;

// The bearer token and the user named in an OAUTHBEARER (GS2 header + kvpairs) or XOAUTH2
// (user=...^Aauth=Bearer ...^A^A) client message; nullopt when malformed.
struct BearerMessage {
  std::string user;   // may be empty (OAUTHBEARER allows omitting the authzid)
  std::string token;
};
std::optional<BearerMessage> parse_bearer_message(std::string_view mechanism, std::string_view message);

struct SaslResult {
  enum Kind { challenge, success, failure } kind = failure;
  std::string data;    // the challenge, or additional data with success (SCRAM's v=...)
  std::string user;    // success: the person's login
  std::string reason;  // failure: for the log, never for the client
  bool counted = false;    // failure: a credential was checked and found wrong
  bool temporary = false;  // failure: refused by the throttle or a full pool, not checked
  UnixMs wait = 0;         // temporary: how long the throttle asks to wait (0: the pool)
};

// The authentication id of a SCRAM client-first-message ("n,,n=user,r=..."); empty when
// malformed.
std::string scram_user(std::string_view client_first);

class SaslConn {
 public:
  ~SaslConn();
  SaslConn(const SaslConn&) = delete;
  SaslConn& operator=(const SaslConn&) = delete;

  // EXTERNAL (RFC 4422 appendix A): the identity the transport established (a verified TLS
  // client certificate, mapped to a login by the caller) and its strength; makes EXTERNAL
  // available on this connection.
  void set_external(const std::string& authid, unsigned ssf);
  SaslResult start(const std::string& mechanism, const std::optional<std::string>& initial, UnixMs now);
  SaslResult step(const std::string& response, UnixMs now);

 private:
  friend class SaslEngine;
  struct Impl;
  explicit SaslConn(std::unique_ptr<Impl> impl);
  SaslResult finish(int rc, const char* out, unsigned outlen);
  SaslResult bearer_step(const std::string& message);
  std::optional<SaslResult> scram_first(const std::string& client_first);
  std::unique_ptr<Impl> impl_;
};

class SaslEngine {
 public:
  // Initialises Cyrus SASL once per process; later calls return the same engine.
  static SaslEngine& get();
  // A server connection for `service` ("smtp", "imap", "ldap") answering for `dir`.
  // `throttle` (may be null: no throttling) and `peer` (the client's address) guard the
  // password checks.
  std::unique_ptr<SaslConn> connect(Directory& dir, const std::string& service, const std::string& hostname,
                                    LoginThrottle* throttle = nullptr, const std::string& peer = {});
  // The mechanisms Congvu offers: the installed plugins', and the bearer ones when `dir`
  // verifies tokens.
  static std::vector<std::string> mechanisms(const Directory& dir);

 private:
  SaslEngine();
};

}  // namespace congvu::directory
