// The admin console's server-side sessions in directory.mdb (table admin_session), keyed by
// the SHA-256 of the secret the browser holds in its cookie, so a copy of the database holds no
// usable cookie. The browser never holds a bearer token: it holds an opaque cookie, and
// everything else stays here. (A login in progress needs no record: see console.hpp.)
// Pure encodings plus helpers on a directory Snapshot/Change (which belong to their callback).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/ids.hpp"
#include "common/time.hpp"

namespace congvu::directory {
class Snapshot;
class Change;
}  // namespace congvu::directory

namespace congvu::admin {

struct ConsoleSession {
  PersonId person;
  std::string sso_key;    // table key of the IdP's SSO session it came from: ending that ends this
  std::string sid, amr;
  UnixMs created = 0, last_seen = 0, expires = 0;
};

std::string encode(const ConsoleSession& s);
ConsoleSession decode_session(std::string_view v);

// The table key of a session cookie.
std::string session_key(std::string_view secret);

// A session that has not expired, is not idle longer than `idle_ms`, and whose SSO session is
// still open (signing out of the IdP signs out of the console).
std::optional<ConsoleSession> find_console_session(directory::Snapshot& s, std::string_view secret, UnixMs now,
                                                   UnixMs idle_ms);
// Drops expired sessions (called when a session starts; the table stays small).
void sweep(directory::Change& c, UnixMs now, UnixMs idle_ms);

}  // namespace congvu::admin
