#include "directory/clients.hpp"
#include "directory/hr.hpp"

#include <algorithm>

#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "common/json.hpp"
#include "directory/directory.hpp"
#include "directory/jose.hpp"

namespace congvu::directory {

namespace {
constexpr std::uint8_t kClientV1 = 1;

const std::vector<std::string>& known_grants() {
  static const std::vector<std::string> g = {"authorization_code", "refresh_token", "client_credentials"};
  return g;
}

bool valid_redirect(const std::string& uri) {
  // Absolute https URIs, or http on loopback (RFC 8252 7.3); no fragment.
  if (uri.find('#') != std::string::npos) return false;
  if (uri.rfind("https://", 0) == 0) return uri.size() > 8;
  return uri.rfind("http://127.0.0.1", 0) == 0 || uri.rfind("http://localhost", 0) == 0 ||
         uri.rfind("http://[::1]", 0) == 0;
}

bool has(const std::vector<std::string>& v, std::string_view x) { return std::find(v.begin(), v.end(), x) != v.end(); }
}  // namespace

const char* client_auth_name(ClientAuth a) {
  switch (a) {
    case ClientAuth::none: return "none";
    case ClientAuth::secret_basic: return "client_secret_basic";
    case ClientAuth::secret_post: return "client_secret_post";
    case ClientAuth::private_key_jwt: return "private_key_jwt";
  }
  return "?";
}

std::optional<ClientAuth> parse_client_auth(std::string_view s) {
  for (auto a : {ClientAuth::none, ClientAuth::secret_basic, ClientAuth::secret_post, ClientAuth::private_key_jwt})
    if (s == client_auth_name(a)) return a;
  return std::nullopt;
}

std::string encode(const Client& c) {
  codec::Writer w;
  w.u8(kClientV1).str(c.id).str(c.name).u8(c.confidential ? 1 : 0).u8(static_cast<std::uint8_t>(c.auth))
      .str(c.secret_sha256).str(c.jwk).str(c.id_token_alg).strs(c.redirect_uris).strs(c.post_logout_redirect_uris)
      .str(c.backchannel_logout_uri).strs(c.logout_events).strs(c.grants).strs(c.scopes).strs(c.claims)
      .u8(c.first_party ? 1 : 0).u8(c.require_mfa ? 1 : 0).str(c.role).str(c.unit).i64(c.created);
  return w.take();
}

Client decode_client(std::string_view v) {
  codec::Reader r(v);
  if (r.u8() != kClientV1) throw codec::DecodeError("unknown client record version");
  Client c;
  auto flag = [&](const char* what) {
    auto b = r.u8();
    if (b > 1) throw codec::DecodeError(std::string("client ") + what + " flag is not 0 or 1");
    return b == 1;
  };
  c.id = r.str();
  c.name = r.str();
  c.confidential = flag("confidential");
  auto auth = r.u8();
  if (auth > 3) throw codec::DecodeError("bad client authentication method");
  c.auth = static_cast<ClientAuth>(auth);
  c.secret_sha256 = r.str();
  c.jwk = r.str();
  c.id_token_alg = r.str();
  c.redirect_uris = r.strs();
  c.post_logout_redirect_uris = r.strs();
  c.backchannel_logout_uri = r.str();
  c.logout_events = r.strs();
  c.grants = r.strs();
  c.scopes = r.strs();
  c.claims = r.strs();
  c.first_party = flag("first-party");
  c.require_mfa = flag("require-mfa");
  c.role = r.str();
  c.unit = r.str();
  c.created = r.i64();
  r.expect_done();
  return c;
}

std::optional<Client> find_client(Snapshot& s, std::string_view id) {
  auto raw = s.get_raw(schema::client, id);
  if (!raw) return std::nullopt;
  return decode_client(*raw);
}

std::vector<Client> list_clients(Snapshot& s) {
  std::vector<Client> out;
  s.scan(schema::client, "", [&](std::string_view, std::string_view v) {
    out.push_back(decode_client(v));
    return true;
  });
  return out;
}

Result<std::string> add_client(Change& c, Client client) {
  auto bad = [](std::string m) { return make_error(Errc::invalid_argument, std::move(m)); };
  if (client.id.empty() || client.id.size() > 64 ||
      !std::all_of(client.id.begin(), client.id.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
      }))
    return bad("client id: 1-64 characters of a-z, A-Z, 0-9, '-', '_', '.'");
  if (find_client(c, client.id)) return make_error(Errc::conflict, "client '" + client.id + "' exists already");
  if (client.grants.empty()) client.grants = {"authorization_code", "refresh_token"};
  for (const auto& g : client.grants)
    if (!has(known_grants(), g)) return bad("grant '" + g + "': use authorization_code, refresh_token or client_credentials");
  if (has(client.grants, "authorization_code") && client.redirect_uris.empty())
    return bad("redirect URIs: the authorization_code grant needs at least one (--redirect-uri)");
  for (const auto& u : client.redirect_uris)
    if (!valid_redirect(u)) return bad("redirect URI '" + u + "': use https://, or http:// on loopback, without a fragment");
  for (const auto& u : client.post_logout_redirect_uris)
    if (!valid_redirect(u)) return bad("post-logout redirect URI '" + u + "': use https://, or http:// on loopback");
  if (!client.backchannel_logout_uri.empty() && !valid_redirect(client.backchannel_logout_uri))
    return bad("back-channel logout URI: use https://, or http:// on loopback");
  for (const auto& e : client.logout_events)
    if (e != "logout" && e != "suspend" && e != "retire" && e != "transfer")
      return bad("logout event '" + e + "': use logout, suspend, retire or transfer");
  if (client.scopes.empty()) client.scopes = {"openid", "profile", "email", "unit", "offline_access"};
  if (!client.confidential) {
    client.auth = ClientAuth::none;
    if (has(client.grants, "client_credentials")) return bad("a public client cannot use client_credentials");
  } else if (client.auth == ClientAuth::none) {
    return bad("a confidential client needs client_secret_basic, client_secret_post or private_key_jwt");
  }
  if (!jose::parse_alg(client.id_token_alg)) return bad("ID token algorithm: use RS256, ES256 or EdDSA");
  // SCIM: a client acts with the role and unit subtree it is registered with (directory/hr.hpp).
  bool scim = std::any_of(client.scopes.begin(), client.scopes.end(), [](const std::string& s) { return s.rfind("scim:", 0) == 0; });
  for (const auto& s : client.scopes)
    if (s.rfind("scim:", 0) == 0 && s != "scim:read" && s != "scim:write") return bad("scope '" + s + "': use scim:read or scim:write");
  if (!client.role.empty()) {
    auto role = parse_role(client.role);
    if (!role) return bad("role '" + client.role + "': use province-admin, hr-admin or auditor");
    if (*role == Role::auditor && has(client.scopes, "scim:write")) return bad("an auditor client may have scim:read, not scim:write");
    if (!client.unit.empty() && !c.unit(client.unit)) return make_error(Errc::not_found, "unit " + client.unit + " does not exist");
  } else if (!client.unit.empty()) {
    return bad("--unit goes with --role (the role is held over that unit's subtree)");
  }
  if (scim && client.role.empty()) return bad("SCIM scopes need a role and unit (--role hr-admin --unit CODE)");
  std::string secret;
  if (client.auth == ClientAuth::private_key_jwt) {
    if (client.jwk.empty()) return bad("private_key_jwt needs the client's public key (--jwk FILE)");
    auto k = jose::SigningKey::from_public_jwk(client.jwk);
    if (!k) return bad("the client's JWK: " + k.error().message);
  } else if (client.confidential) {
    secret = jose::b64url(crypto::random_string(32));
    client.secret_sha256 = crypto::sha256_raw(secret);
  }
  if (client.name.empty()) client.name = client.id;
  client.created = c.now();
  c.put(schema::client, client.id, encode(client));
  c.audit("client.add", client.id, "",
          json_object({{"type", client.confidential ? "confidential" : "public"}, {"auth", client_auth_name(client.auth)},
                       {"role", client.role}, {"unit", client.unit}}));
  return secret;
}

Status remove_client(Change& c, std::string_view id) {
  if (!find_client(c, id)) return make_error(Errc::not_found, "no client '" + std::string(id) + "'");
  c.del(schema::client, id);
  c.audit("client.remove", std::string(id), "", "{}");
  return ok_status();
}

bool client_secret_matches(const Client& c, std::string_view secret) {
  if (c.secret_sha256.empty()) return false;
  return crypto::equal_constant_time(crypto::sha256_raw(secret), c.secret_sha256);
}

}  // namespace congvu::directory
