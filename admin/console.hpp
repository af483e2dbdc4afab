// The admin console: the HR administration web page served by Congvu on the HTTPS router.
//
//   GET  /admin                 people search (diacritic-insensitive), ?q=&unit=&status=all
//   GET  /admin/person/{id}     a person: assignment history, scheduled changes, audit trail,
//                               and the transfer/rotation, appointment, suspension, resumption
//   POST /admin/person/{id}     and retirement forms (validated, then directory/hr.hpp apply_change)
//   GET  /admin/units           the unit tree with member counts
//   GET|POST /admin/pending     scheduled changes and pending events; cancelling one
//   GET|POST /admin/audit       the audit log in the admin's scope; `audit verify`
//   GET  /admin/login, /admin/callback, POST /admin/logout   sign-in and sign-out
//
// Sign-in: the console is a relying party of Congvu's own OpenID Connect provider (client
// `congvu-admin`: public, PKCE S256, first party, second factor required, redirect URI
// ISSUER/admin/callback, registered at startup). /admin/login sets a cookie holding a random
// secret r and sends the browser to /oidc/authorize with state, nonce and code_challenge all
// derived from r by HMAC under a server key; /admin/callback recomputes them from the cookie,
// so a leaked callback URL is useless without the cookie, and a login in progress stores
// nothing. The code is redeemed in-process (Provider::redeem_code); the person must hold an
// admin role and must have signed in with a second factor. The session lives server-side
// (admin/session.hpp): the cookie (__Host-, Secure, HttpOnly, SameSite=Lax) is an opaque
// secret, the page holds no bearer token, and the session ends with the IdP's SSO session,
// after `idle` without a request, or after `ttl`.
//
// Every request re-reads the admin's grants; every form carries a CSRF token bound to the
// session cookie; every decision is taken by directory/hr.hpp with the admin's Authority and
// audited as admin:LOGIN with the decision number. Answers are no-store, framed by nothing,
// under a CSP without scripts.
// Blocking (durable writes): runs on the HTTPS server's worker pool. Thread-safe.
#pragma once

#include <optional>
#include <string>

#include "common/net/http.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "directory/directory.hpp"

namespace congvu::idp {
class Provider;
}

namespace congvu::admin {

struct ConsoleConfig {
  std::string issuer;    // "https://host[:port]", the IdP's issuer and this server's origin
  std::string csrf_key;  // secret for CSRF tokens and login state (stable across restarts)
  UnixMs ttl = 8LL * 3600 * 1000;
  UnixMs idle = 30LL * 60 * 1000;
  std::size_t search_limit = 50;
};

inline constexpr const char* kClientId = "congvu-admin";

class Console {
 public:
  Console(directory::Directory& dir, idp::Provider& idp, ConsoleConfig cfg);
  ~Console();
  std::optional<net::HttpResponse> handle(const net::HttpRequest& req, UnixMs now);

  // Adds the console's OIDC client, or corrects its redirect URI when the issuer changed.
  static Status register_client(directory::Directory& dir, const std::string& issuer, UnixMs now);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace congvu::admin
