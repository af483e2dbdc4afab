// The OpenID Connect provider (OIDC Core, Discovery, RP-initiated logout; OAuth 2.0 RFC 6749,
// PKCE RFC 7636, introspection RFC 7662, revocation RFC 7009, RFC 9207 `iss`), mounted on the
// HTTPS router: handle() answers the IdP's paths and returns nullopt for the others.
//
//   GET  /.well-known/openid-configuration     discovery
//   GET  /oidc/jwks                            published signing keys
//   GET|POST /oidc/authorize                   code flow (login page and consent when needed)
//   GET|POST /login, POST /consent             the login page and the consent screen
//   GET|POST /login/otp, /mfa/enrol            the TOTP step, enrolment of an authenticator
//   GET /account, POST /account/...            self-service: password, app passwords
//   GET|POST /login/reset                      new password with an HR admin's one-time code
//   POST /oidc/token                           authorization_code, refresh_token, client_credentials
//   GET|POST /oidc/userinfo                    claims for an access token (aud userinfo, scope openid)
//   POST /oidc/introspect, /oidc/revoke        for authenticated clients
//   GET|POST /oidc/logout                      RP-initiated logout
//
// SECURITY: the client and redirect URI are checked before anything is redirected (errors for
// an unknown client or URI are shown, never sent to the URI); redirect URIs match exactly;
// PKCE S256 is required of public clients; codes are single-use and a replay revokes what they
// issued; refresh tokens rotate and a reuse revokes the family; the SSO cookie is __Host-,
// Secure, HttpOnly, SameSite=Lax and replaced at login; every form carries a CSRF token bound to
// the cookie; login failures are throttled per (account, address) and per address.
// Blocking: the login checks an Argon2id hash and writes commit durably, so the HTTPS server
// runs handle() on a worker pool, not on the event loop. Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "common/net/http.hpp"
#include "common/time.hpp"
#include "directory/clients.hpp"
#include "directory/directory.hpp"
#include "directory/keys.hpp"
#include "directory/throttle.hpp"
#include "directory/tokens.hpp"
#include "idp/store.hpp"

namespace congvu::idp {
namespace saml {
class Idp;
}

struct ProviderConfig {
  std::string issuer;  // "https://host[:port]", no trailing slash
  UnixMs access_ttl = 10 * 60 * 1000;
  UnixMs id_ttl = 10 * 60 * 1000;
  UnixMs code_ttl = 60 * 1000;
  UnixMs refresh_ttl = 30LL * 24 * 3600 * 1000;
  UnixMs session_ttl = 10LL * 3600 * 1000;  // a working day
  std::string csrf_key;  // secret for CSRF tokens (stable across restarts)
  std::string factor_key;  // 32 bytes: seals TOTP secrets in the database
};

class Provider {
 public:
  Provider(directory::Directory& dir, directory::KeyRing& keys, ProviderConfig cfg)
      : dir_(dir), keys_(keys), cfg_(std::move(cfg)) {}

  std::optional<net::HttpResponse> handle(const net::HttpRequest& req, UnixMs now);

  const ProviderConfig& config() const { return cfg_; }
  // Where sign-outs are announced to relying parties (back-channel logout); may stay unset.
  void set_logouts(class Logouts* l) { logouts_ = l; }
  // The SAML IdP sharing this login and session (/saml/...); may stay unset.
  void set_saml(saml::Idp* s) { saml_ = s; }
  void set_throttle(std::shared_ptr<directory::LoginThrottle> t) { throttle_ = std::move(t); }

  // For a front end served by this process (the admin page), which is its own relying party:
  // redeems an authorization code issued to `client_id` for `redirect_uri` with its PKCE
  // verifier, under the token endpoint's rules (single use; a replay revokes), without
  // issuing tokens. Errors: unauthorized (why the code is refused), or the store's.
  struct FirstPartyLogin {
    directory::Person person;
    std::string sid, amr, nonce;
    UnixMs auth_time = 0;
  };
  Result<FirstPartyLogin> redeem_code(std::string_view client_id, const std::string& code,
                                      std::string_view redirect_uri, std::string_view verifier, UnixMs now);

 private:
  struct Request;  // one request's decoded parameters and cookie (provider_impl.hpp)
  net::HttpResponse discovery();
  net::HttpResponse jwks(UnixMs now);
  net::HttpResponse authorize(const Request& r, UnixMs now);
  net::HttpResponse login_page(const Request& r, UnixMs now);
  net::HttpResponse login_submit(const Request& r, UnixMs now);
  net::HttpResponse consent_submit(const Request& r, UnixMs now);
  net::HttpResponse otp(const Request& r, UnixMs now);
  net::HttpResponse enrol(const Request& r, UnixMs now);
  net::HttpResponse account(const Request& r, UnixMs now);
  net::HttpResponse reset(const Request& r, UnixMs now);
  net::HttpResponse token(const Request& r, UnixMs now);
  net::HttpResponse userinfo(const Request& r, UnixMs now);
  net::HttpResponse introspect(const Request& r, UnixMs now);
  net::HttpResponse revoke(const Request& r, UnixMs now);
  net::HttpResponse logout(const Request& r, UnixMs now);

  struct Issued;  // what the token endpoint hands out
  net::HttpResponse token_reply(const Issued& i, UnixMs now);
  std::string id_token(const directory::Client& c, const Issued& i, UnixMs now);
  // RFC 6749 2.3 / OIDC Core 9: the client, authenticated the one way it registered; or the
  // error reply. `public_ok`: a public client may name itself by client_id alone.
  std::variant<directory::Client, net::HttpResponse> authenticate_client(const Request& r, UnixMs now, bool public_ok);
  // Checks and consumes an authorization code inside `c`: its record, or why it is refused.
  std::variant<CodeRecord, std::string> consume_code(directory::Change& c, std::string_view client_id,
                                                     const std::string& code, std::string_view redirect_uri,
                                                     std::string_view verifier, UnixMs now);
  std::string csrf_token(std::string_view cookie) const;
  bool csrf_ok(const Request& r) const;
  std::string endpoint(std::string_view path) const { return cfg_.issuer + std::string(path); }

  directory::Directory& dir_;
  directory::KeyRing& keys_;
  ProviderConfig cfg_;
  // Shared with the LDAP server's binds (one lockout policy for every password check).
  std::shared_ptr<directory::LoginThrottle> throttle_ = std::make_shared<directory::LoginThrottle>();
  class Logouts* logouts_ = nullptr;
  saml::Idp* saml_ = nullptr;
};

}  // namespace congvu::idp
