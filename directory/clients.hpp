// OIDC/OAuth clients (relying parties) registered by admins: `congvu client add|list|show|
// remove`, later the admin API. A confidential client's secret is 256 random bits shown once;
// only its SHA-256 digest is stored (the secret has full entropy, so a fast digest suffices).
// Records live in the `client` table; add/remove are audited.
// Thread-safety: free functions on a Snapshot/Change, which belong to their callback.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"

namespace congvu::directory {

class Snapshot;
class Change;

enum class ClientAuth : std::uint8_t { none = 0, secret_basic, secret_post, private_key_jwt };
const char* client_auth_name(ClientAuth a);
std::optional<ClientAuth> parse_client_auth(std::string_view s);

struct Client {
  std::string id;
  std::string name;             // shown on the consent screen
  bool confidential = true;     // false: a public client (PKCE S256 required, no secret)
  ClientAuth auth = ClientAuth::secret_basic;
  std::string secret_sha256;    // raw digest; empty unless secret_basic/secret_post
  std::string jwk;              // the client's public JWK (JSON) for private_key_jwt
  std::string id_token_alg = "RS256";  // RS256 (default), ES256 or EdDSA
  std::vector<std::string> redirect_uris;            // matched exactly
  std::vector<std::string> post_logout_redirect_uris;
  std::string backchannel_logout_uri;                 // empty: no back-channel logout
  // What sends a back-channel logout: the person logs out, is suspended, retired, transferred.
  std::vector<std::string> logout_events = {"logout", "suspend", "retire", "transfer"};
  std::vector<std::string> grants;  // authorization_code, refresh_token, client_credentials
  std::vector<std::string> scopes;  // the scopes it may ask for
  std::vector<std::string> claims;  // extra claims released beyond its scopes (e.g. birthdate)
  bool first_party = false;         // no consent screen
  bool require_mfa = false;         // a second factor before any token for this client
  std::string role, unit;           // issue 7: what a client-credentials client acts as
  UnixMs created = 0;
};

std::string encode(const Client& c);
Client decode_client(std::string_view v);

std::optional<Client> find_client(Snapshot& s, std::string_view id);
std::vector<Client> list_clients(Snapshot& s);

// Validates and stores a new client; for confidential secret clients, generates the secret and
// returns it (the only time it is visible). Errors: invalid_argument (naming the field), conflict.
Result<std::string> add_client(Change& c, Client client);
Status remove_client(Change& c, std::string_view id);
// Constant-time check of a presented secret against the stored digest.
bool client_secret_matches(const Client& c, std::string_view secret);

}  // namespace congvu::directory
