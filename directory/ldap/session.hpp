// One LDAP connection's state machine, sans I/O: bytes in (feed), bytes and an action out
// (next). The Asio server (server.hpp) moves the bytes, does the TLS handshake when asked and
// runs next() on a worker pool (a bind costs an Argon2id check).
//
// Operations: Bind (simple; SASL PLAIN and EXTERNAL through Cyrus SASL), Search, Compare,
// Abandon, Unbind, and the StartTLS and WhoAmI extended operations. Writes (Modify, Add, Delete,
// ModifyDN) get unwillingToPerform: the directory changes through SCIM and the CLI.
// Security:
//  - binds that carry a password (simple, SASL PLAIN) need TLS (confidentialityRequired)
//    unless SessionConfig::plaintext_binds;
//  - the anonymous simple bind succeeds, but it reads only the root DSE and the schema (as
//    before any bind) unless SessionConfig::anonymous opens the address book to it;
//  - every password check goes through the LoginThrottle shared with IMAP, SMTP and the IdP
//    (directory/throttle.hpp); a throttled bind gets invalidCredentials ("try again in N s")
//    without a hash check, a full Argon2id pool gets busy (51), and the 3rd failed bind in a
//    row ends the connection with a Notice of Disconnection (unavailable);
//  - PDUs are limited to 64 KiB before a bind and 1 MiB after; a bigger one, or one that is
//    not valid BER, ends the connection with a Notice of Disconnection (RFC 4511 4.4.1).
// Thread-safety: one thread at a time per session.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/time.hpp"
#include "directory/ldap/dit.hpp"

namespace congvu::directory {
class Directory;
class LoginThrottle;
class SaslConn;
}  // namespace congvu::directory

namespace congvu::directory::ldap {

struct SessionConfig {
  std::string hostname;
  bool implicit_tls = false;
  bool plaintext_binds = false;
  bool anonymous = false;
  std::size_t max_pdu_anonymous = 64 * 1024;
  std::size_t max_pdu = 1024 * 1024;
};

struct Context {
  Directory& dir;
  Dit& dit;
  LoginThrottle& throttle;
  std::function<void(const std::string&)> log;
};

struct Step {
  std::string out;
  enum Action { need_input, start_tls, close } action = need_input;
};

class Session {
 public:
  Session(SessionConfig cfg, Context ctx, std::string peer);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void feed(std::string_view bytes);
  // Whether a whole request is buffered that may block (a bind: Argon2id), so that next() must
  // run on the worker pool; searches and the rest may run on the event loop.
  bool blocking_request_buffered() const;
  // Answers every whole request buffered, stopping after one that needs an action.
  Step next(UnixMs now);
  // The TLS handshake finished; `client_login` is the login a verified client certificate
  // maps to (for SASL EXTERNAL), empty when none.
  void tls_started(std::string client_login);
  bool tls() const { return tls_; }
  const Identity& identity() const { return who_; }
  // Part of a request is buffered: a graceful stop waits for the rest.
  bool mid_request() const { return !in_.empty(); }

 private:
  void handle(const Message& m, Step& st, UnixMs now);
  void bind(const Message& m, const BindRequest& b, Step& st, UnixMs now);
  void search(const Message& m, const SearchRequest& s, Step& st);
  void extended(const Message& m, const ExtendedRequest& e, Step& st);
  bool person_identity(const std::string& login);
  // A service account's simple bind: true/false, nullopt when no hash slot is free.
  std::optional<bool> bind_service(const std::string& name, const std::string& password);
  // Answers a failed bind; closes the connection after LoginThrottle::kConnectionFailures in a row.
  template <class Reply>
  void failed_bind(Step& st, Reply& reply);

  SessionConfig cfg_;
  Context ctx_;
  std::string peer_;
  std::string in_;
  bool tls_;
  bool closed_ = false;
  std::string client_login_;
  Identity who_;
  PagedSearches paging_;
  std::unique_ptr<SaslConn> sasl_;
  std::string sasl_mech_;
  unsigned failures_ = 0;  // failed binds in a row on this connection
};

}  // namespace congvu::directory::ldap
