// The IdP's state in directory.mdb (tables sso, code, refresh, consent; see
// directory/schema.hpp): SSO sessions, authorization codes and refresh tokens, each keyed by the
// SHA-256 of the secret the browser or client holds, so that a copy of the database gives no
// usable cookie, code or token. Records are written durably before the secret is handed out.
// Pure encodings plus a few helpers on a directory Snapshot/Change.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/ids.hpp"
#include "common/time.hpp"

namespace congvu::directory {
class Snapshot;
class Change;
class Directory;
}  // namespace congvu::directory

namespace congvu::idp {

// A SAML service provider that received an assertion in a session: what single logout needs.
struct SamlParticipant {
  std::string sp;          // entity ID
  std::string name_id, format;
  std::string session_index;
};

struct SsoSession {
  std::string sid;         // public id (ID token `sid`, back-channel logout)
  PersonId person;
  UnixMs created = 0, auth_time = 0, last_seen = 0, expires = 0;
  std::string amr;         // "pwd" or "pwd otp"
  std::vector<std::string> clients;  // clients that received tokens in this session
  bool otp_pending = false;  // the password was right; the TOTP code is still to come
  std::vector<SamlParticipant> saml;  // SAML SPs that received assertions in this session
};

struct CodeRecord {
  std::string client_id, redirect_uri, scope, nonce, code_challenge, sid, amr, family;
  PersonId person;
  UnixMs auth_time = 0, expires = 0;
  bool used = false;
};

struct RefreshRecord {
  std::string client_id, scope, sid, family, amr;
  PersonId person;
  UnixMs auth_time = 0, expires = 0, family_expires = 0;
  bool used = false;  // rotated: presenting it again is reuse, and revokes the family
};

std::string encode(const SsoSession& s);
SsoSession decode_sso(std::string_view v);
std::string encode(const CodeRecord& c);
CodeRecord decode_code(std::string_view v);
std::string encode(const RefreshRecord& r);
RefreshRecord decode_refresh(std::string_view v);

// A new 256-bit secret in base64url, and the key it is stored under.
std::string new_secret();
std::string secret_key(std::string_view secret);

std::optional<SsoSession> find_session(directory::Snapshot& s, std::string_view cookie, UnixMs now);
void put_session(directory::Change& c, std::string_view cookie, const SsoSession& s);
void drop_session(directory::Change& c, std::string_view cookie);
// The same by table key (secret_key of the cookie). Every write of the sso table goes through
// these two, which keep sso_index (by person, by SAML NameID) in step.
void store_session(directory::Change& c, std::string_view key, const SsoSession& s);
void erase_session(directory::Change& c, std::string_view key);
// Deletes what can no longer be used, at most `limit` records per table: SSO sessions and codes
// past their expiry, refresh tokens past theirs (a rotated one is kept until its family ends,
// so that its reuse is still recognised), revocations past theirs, and the SAML records
// (saml::sweep_saml). The server runs it every minute. Returns how many were deleted.
std::size_t sweep_expired(directory::Directory& dir, UnixMs now, std::size_t limit = 10000);
// Every stored session of `person`, with its table key (through sso_index, not a scan).
std::vector<std::pair<std::string, SsoSession>> sessions_of(directory::Snapshot& s, const PersonId& person);
// Every stored session in which `sp` was given `name_id`, with its table key (sso_index).
std::vector<std::pair<std::string, SsoSession>> sessions_named(directory::Snapshot& s, std::string_view sp,
                                                               std::string_view name_id);
// Builds sso_index for sessions stored before it existed (once: meta "sso_index"); the server
// runs it at start, with the first sweep.
void index_sessions(directory::Directory& dir, UnixMs now);

}  // namespace congvu::idp
