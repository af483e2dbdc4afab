// The SAML 2.0 identity provider on the OIDC provider's login and SSO session (issue 6):
//
//   GET  /saml/metadata          signed IdP metadata (EntityDescriptor + IDPSSODescriptor)
//   GET|POST /saml/sso           AuthnRequest, HTTP-Redirect or HTTP-POST binding
//   GET  /saml/continue?p=       the checked request, after the login page when one was needed
//   GET  /saml/init?sp=ENTITY    IdP-initiated SSO, for SPs registered with --idp-initiated
//   GET|POST /saml/slo           LogoutRequest from an SP, or an SP's LogoutResponse during a
//                                single logout this IdP is running
//   GET  /saml/logout            IdP-initiated single logout of the browser's session
//
// Web Browser SSO: responses go to the SP's registered ACS (HTTP-POST only); the Response and
// the Assertion are each signed (RSA-SHA256, exclusive C14N), the Assertion optionally encrypted
// for the SP (AES-256-GCM, RSA-OAEP). NameID: persistent (= the person's immutable id),
// emailAddress, unspecified (the login) or transient. AuthnContextClassRef is
// PasswordProtectedTransport after a password, TimeSyncToken after password + TOTP.
// Single logout: the SSO session ends at once (OIDC back-channel logouts go out), then each other
// SAML SP of the session is sent a LogoutRequest — front channel (Redirect or POST) one after
// the other, or SOAP when that is the only endpoint — and the originator gets its
// LogoutResponse. Lifecycle events (suspend, retire, transfer) send SOAP LogoutRequests to SPs
// registered for them (see Logouts).
//
// SECURITY: every inbound message is refused — with an error page and a log line, before any
// state changes — when it is oversize, not well-formed, carries a DTD, comes from an unknown
// Issuer, names another Destination, is older than 5 minutes (or more than 3 ahead), replays an
// ID seen in the last 10 minutes, lacks a signature its SP requires, carries one that does not
// verify, or names an ACS URL not in the SP's metadata. RelayState is kept to 80 bytes
// (SAML Bindings 3.4.3). Nothing an unauthenticated browser sends is stored: a request that
// must wait for the login travels sealed (AES-256-GCM) in its /saml/continue token, and its ID
// enters the replay table only when it is answered, in the same commit (once: a second answer
// is refused); status-only answers (NoPassive, ...) and a LogoutRequest that ends nothing store
// nothing. Blocking (durable commits, RSA): run on the worker pool.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/net/http.hpp"
#include "common/time.hpp"
#include "directory/directory.hpp"
#include "idp/saml/sp.hpp"
#include "idp/saml/xml.hpp"
#include "idp/store.hpp"

namespace congvu::idp {
class Logouts;
}

namespace congvu::idp::saml {

struct Config {
  std::string base;  // the issuer, "https://host[:port]"
  UnixMs assertion_ttl = 5 * 60 * 1000;
  UnixMs max_age = 5 * 60 * 1000;   // how old an IssueInstant may be
  UnixMs skew = 3 * 60 * 1000;      // how far ahead of our clock
  std::size_t relay_state_max = 80;
  // 32 bytes: seals the continuation of a request parked while the browser signs in, so that
  // an unauthenticated request is carried by the browser and stores nothing (a random key
  // when empty: continuations then do not survive a restart).
  std::string seal_key;
};

struct Pending;  // a checked request parked while the person signs in, or a logout in progress

class Idp {
 public:
  using Log = std::function<void(const std::string&)>;
  Idp(directory::Directory& dir, SigningKey key, Config cfg, Log log = {});

  // Answers /saml/...; nullopt for other paths. `cookie` is the SSO cookie ("" when absent).
  std::optional<net::HttpResponse> handle(const net::HttpRequest& req, const std::string& cookie, UnixMs now);
  // After the OIDC logout ended `s`: the single-logout chain to its SAML SPs, ending at
  // `done` (a URL to redirect to, or "" for the signed-out page); nullopt when nothing to do.
  std::optional<net::HttpResponse> logout_chain(const SsoSession& s, const std::string& done, UnixMs now);
  // The SOAP LogoutRequests for `event` ("logout", "suspend", "retire", "transfer") to the SPs
  // of `s` registered for it, signed and enveloped, for Logouts::post_soap to deliver.
  struct SoapMessage {
    std::string url, body, sp;
  };
  std::vector<SoapMessage> soap_logouts(const SsoSession& s, const std::string& event, UnixMs now);

  void set_logouts(Logouts* l) { logouts_ = l; }
  const std::string& entity_id() const { return entity_id_; }
  const std::string& metadata() const { return metadata_; }
  const SigningKey& key() const { return key_; }

  // Builds the signed (and, per SP, encrypted) Response for `person` in session `s`.
  struct Assertion {
    std::string acs, in_response_to, name_id_format;
    bool mfa = false;
  };
  Result<std::string> response(const ServiceProvider& sp, const directory::Person& person, const SsoSession& s,
                               const Assertion& a, UnixMs now, SamlParticipant* participant);
  // A Response carrying only a non-success status (NoPassive, InvalidNameIDPolicy, ...).
  std::string status_response(const std::string& acs, const std::string& in_response_to, const std::string& status,
                              const std::string& sub_status, UnixMs now);

 private:
  struct Inbound;  // a decoded, checked message
  net::HttpResponse sso(const net::HttpRequest& req, const std::string& cookie, UnixMs now);
  net::HttpResponse resume(const std::string& token, const std::string& cookie, UnixMs now);
  net::HttpResponse answer(const Pending& p, const ServiceProvider& sp, const std::string& token,
                           const std::string& cookie, UnixMs now, bool fresh);
  std::string seen_until(UnixMs now) const;
  net::HttpResponse idp_initiated(const net::HttpRequest& req, const std::string& cookie, UnixMs now);
  net::HttpResponse slo(const net::HttpRequest& req, const std::string& cookie, UnixMs now);
  net::HttpResponse logout_step(const std::string& token, UnixMs now);
  // The last step of a single logout: the LogoutResponse to the SP that asked, or the page.
  net::HttpResponse logout_done(const Pending& p, UnixMs now);
  // A parked AuthnRequest travels sealed in its own continuation token.
  std::string seal(const Pending& p) const;
  std::optional<Pending> unseal(const std::string& token, UnixMs now) const;
  // Decodes and checks SAMLRequest (or SAMLResponse when `response`) from either binding.
  std::variant<Inbound, net::HttpResponse> receive(const net::HttpRequest& req, bool response, UnixMs now);
  net::HttpResponse refuse(const std::string& why, const std::string& from);
  std::string new_id() const;
  std::string endpoint(std::string_view path) const { return cfg_.base + std::string(path); }
  net::HttpResponse post_form(const std::string& url, const std::string& field, const std::string& xml,
                              const std::string& relay_state);
  net::HttpResponse redirect_signed(const std::string& url, const std::string& field, const std::string& xml,
                                    const std::string& relay_state);
  std::string logout_request(const SamlParticipant& p, const std::string& dest, std::string& id_out, UnixMs now);
  // `xml` with its root signed (POST and SOAP bindings); `xml` itself if it cannot be parsed.
  std::string signed_xml(const std::string& xml) const;
  std::string logout_response(const std::string& dest, const std::string& in_response_to, bool success, UnixMs now);

  directory::Directory& dir_;
  SigningKey key_;
  Config cfg_;
  Log log_;
  std::string entity_id_, metadata_;
  Logouts* logouts_ = nullptr;
};

// xs:dateTime in UTC ("2026-11-21T10:00:00Z", fractions allowed) <-> Unix ms.
std::optional<UnixMs> parse_instant(std::string_view s);
std::string format_instant(UnixMs t);

// Deletes SAML records whose time is over (replay guards, requests and logouts in progress),
// at most `limit`; returns how many.
std::size_t sweep_saml(directory::Change& c, UnixMs now, std::size_t limit);

}  // namespace congvu::idp::saml
