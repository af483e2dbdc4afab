// Access tokens of Congvu's IdP (JWT, RFC 9068: `typ: at+jwt`, RS256) and their verification by
// every resource server in-process: userinfo (idp/), OAUTHBEARER/XOAUTH2 in SMTP and IMAP, SCIM.
// A token is accepted only when its signature verifies with a published key, it is unexpired,
// its issuer is ours, its `aud` names the resource server and its `scope` holds the scope the
// resource needs, it was not revoked (by jti or with its grant family), and its person, if it
// has one, is active. Revocations live in the `revoked` table until the token would expire.
// Thread-safety: functions on a Snapshot/Change (which belong to their callback); KeyRing is shared.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/ids.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "directory/keys.hpp"

namespace congvu::directory {

// The resource servers (audiences) and the scopes that reach them.
inline constexpr const char* kAudUserinfo = "userinfo";
inline constexpr const char* kAudMail = "mail";
inline constexpr const char* kAudScim = "scim";
// The audiences a set of granted scopes implies ("openid" -> userinfo, "mail" -> mail, "scim:*" -> scim).
std::vector<std::string> audiences_for(const std::vector<std::string>& scopes);

struct AccessToken {
  std::string issuer;
  std::string subject;    // a person id, or the client id for client_credentials
  std::string client_id;
  std::vector<std::string> audience;
  std::string scope;      // space-separated
  std::string jti;
  std::string family;     // the grant (code or refresh family) it came from; empty for client_credentials
  std::string sid;        // the SSO session, when it came from a login
  UnixMs issued = 0, expires = 0, auth_time = 0;
  std::optional<PersonId> person;  // set when subject is a person
  bool has_scope(std::string_view s) const;
};

std::string issue_access_token(const jose::SigningKey& key, const AccessToken& t);
Result<AccessToken> decode_access_token(KeyRing& keys, Snapshot& s, std::string_view token, UnixMs now);
// decode_access_token + issuer, audience, scope, revocation and person checks.
// Errors: unauthorized (with the reason, for logs and for RFC 6750 error_description).
Result<AccessToken> verify_access_token(KeyRing& keys, Snapshot& s, std::string_view token,
                                        std::string_view issuer, std::string_view audience,
                                        std::string_view scope, UnixMs now);

void revoke_jti(Change& c, std::string_view jti, UnixMs until);
void revoke_family(Change& c, std::string_view family, UnixMs until);
bool is_revoked(Snapshot& s, std::string_view jti, std::string_view family, UnixMs now);

// Ends every grant `person` made before now: SSO sessions, authorization codes and refresh
// token families whose authentication is older stop working. Called on a password change or
// reset (the old credential's grants end) and on suspension and retirement.
void end_grants(Change& c, const PersonId& person);
// Grants authenticated before this instant are void (0: none).
UnixMs grants_not_before(Snapshot& s, const PersonId& person);
// An SSO session was signed out: the refresh families it gave end with it.
void end_session_grants(Change& c, std::string_view sid, UnixMs until);
bool session_ended(Snapshot& s, std::string_view sid, UnixMs now);
// A grant (code or refresh family) authenticated at `auth_time` in session `sid`: ended by
// its session's sign-out or by end_grants() since.
bool grant_ended(Snapshot& s, std::string_view sid, const PersonId& person, UnixMs auth_time, UnixMs now);

std::vector<std::string> split_scope(std::string_view scope);
std::string join_scope(const std::vector<std::string>& scopes);

}  // namespace congvu::directory
