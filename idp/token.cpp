// The back-channel endpoints: token, userinfo, introspection and revocation.
#include <boost/json.hpp>

#include "common/crypto.hpp"
#include "common/json.hpp"
#include "idp/provider_impl.hpp"

namespace congvu::idp {

namespace json = boost::json;
using directory::Change;
using directory::Client;
using directory::Snapshot;

namespace {

constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

std::string pkce_s256(std::string_view verifier) { return directory::jose::b64url(crypto::sha256_raw(verifier)); }

bool valid_verifier(std::string_view v) {
  return v.size() >= 43 && v.size() <= 128 && std::all_of(v.begin(), v.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~';
         });
}

using directory::jose::int_claim;
using directory::jose::string_claim;

net::HttpResponse bearer_error(std::string_view code, std::string_view desc) {
  auto r = web::json_reply(401, json_object({{"error", std::string(code)}, {"error_description", std::string(desc)}}));
  r.headers["WWW-Authenticate"] = "Bearer error=\"" + std::string(code) + "\", error_description=\"" +
                                  std::string(desc) + "\"";
  return r;
}

}  // namespace

std::variant<Client, net::HttpResponse> Provider::authenticate_client(const Request& r, UnixMs now, bool public_ok) {
  auto basic = web::basic_credentials(r.http);
  bool has_secret = r.has("client_secret"), has_assertion = r.has("client_assertion");
  if ((basic ? 1 : 0) + (has_secret ? 1 : 0) + (has_assertion ? 1 : 0) > 1)
    return web::oauth_error(400, "invalid_request", "use exactly one client authentication method");
  auto invalid = [] { return web::oauth_error(401, "invalid_client", "client authentication failed"); };
  std::string id = basic ? basic->first : r.get("client_id");
  std::optional<json::object> assertion;
  if (has_assertion) {
    if (r.get("client_assertion_type") != kJwtBearer) return web::oauth_error(400, "invalid_request", "unsupported client_assertion_type");
    auto parsed = directory::jose::parse_compact(r.get("client_assertion"));
    if (!parsed) return invalid();
    boost::system::error_code ec;
    json::value v = json::parse(parsed->payload_json, ec);
    if (ec || !v.is_object()) return invalid();
    assertion = v.get_object();
    std::string sub = string_claim(*assertion, "sub");
    if (!id.empty() && id != sub) return invalid();
    id = sub;
  }
  if (id.empty() || id.size() > 256) return invalid();
  auto client = dir_.read([&](Snapshot& s) { return directory::find_client(s, id); });
  using directory::ClientAuth;
  // A client secret is a credential like a password: the same throttle, keyed on the client.
  auto secret_check = [&](std::optional<std::string> given) -> std::optional<net::HttpResponse> {
    auto checked = throttle_->secret("oidc", "client:" + id, r.http.peer, now, [&] {
      return std::optional<bool>(client && given && directory::client_secret_matches(*client, *given));
    });
    if (checked.kind == directory::LoginThrottle::Checked::throttled) {
      auto res = web::oauth_error(429, "invalid_client", "too many failed attempts; try again in " + wait_seconds(checked.wait) + " s");
      res.headers["Retry-After"] = wait_seconds(checked.wait);
      return res;
    }
    if (!checked) return invalid();
    return std::nullopt;
  };
  if (!client) {
    if (basic || has_secret) return *secret_check(std::nullopt);
    return invalid();
  }
  switch (client->auth) {
    case ClientAuth::none:
      if (basic || has_secret || has_assertion || !public_ok) return invalid();
      return *client;
    case ClientAuth::secret_basic:
      if (auto refused = secret_check(basic ? std::optional<std::string>(basic->second) : std::nullopt)) return *refused;
      return *client;
    case ClientAuth::secret_post:
      if (auto refused = secret_check(has_secret ? std::optional<std::string>(r.get("client_secret")) : std::nullopt))
        return *refused;
      return *client;
    case ClientAuth::private_key_jwt: {
      if (!assertion) return invalid();
      auto key = directory::jose::SigningKey::from_public_jwk(client->jwk);
      if (!key) return invalid();
      auto payload = directory::jose::verify_compact(r.get("client_assertion"),
                                                     [&](const std::string&) { return &key.value(); });
      if (!payload) return invalid();
      // RFC 7523 3: iss = sub = client_id, aud names us, unexpired, one use per jti.
      std::string jti = string_claim(*assertion, "jti");
      std::int64_t exp = int_claim(*assertion, "exp");
      bool aud_ok = false;
      if (auto it = assertion->find("aud"); it != assertion->end()) {
        auto ok = [&](const json::value& a) {
          return a.is_string() && (a.get_string() == cfg_.issuer || a.get_string() == endpoint("/oidc/token") ||
                                   a.get_string() == endpoint(r.path));
        };
        if (it->value().is_array()) aud_ok = std::any_of(it->value().get_array().begin(), it->value().get_array().end(), ok);
        else aud_ok = ok(it->value());
      }
      if (string_claim(*assertion, "iss") != client->id || !aud_ok || jti.empty() || exp * 1000 <= now ||
          exp * 1000 > now + 3600 * 1000)
        return invalid();
      std::string replay_key = "assertion:" + client->id + ":" + jti;
      auto fresh = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
        if (directory::is_revoked(c, replay_key, "", now)) return make_error(Errc::conflict, "replayed");
        directory::revoke_jti(c, replay_key, exp * 1000);
        return ok_status();
      });
      if (!fresh) return invalid();
      return *client;
    }
  }
  return invalid();
}

std::string Provider::id_token(const Client& c, const Issued& i, UnixMs now) {
  json::object o = dir_.read([&](Snapshot& s) { return person_claims(s, *i.person, i.scopes, &c); });
  o["iss"] = cfg_.issuer;
  o["aud"] = c.id;
  o["azp"] = c.id;
  o["iat"] = now / 1000;
  o["exp"] = (now + cfg_.id_ttl) / 1000;
  o["auth_time"] = i.auth_time / 1000;
  if (!i.nonce.empty()) o["nonce"] = i.nonce;
  if (!i.sid.empty()) o["sid"] = i.sid;
  json::array amr;
  for (const auto& a : directory::split_scope(i.amr)) amr.emplace_back(a);
  o["amr"] = std::move(amr);
  o["acr"] = i.amr.find("otp") != std::string::npos ? "urn:congvu:acr:mfa" : "urn:congvu:acr:pwd";
  auto alg = directory::jose::parse_alg(c.id_token_alg).value_or(directory::jose::Alg::RS256);
  auto key = dir_.read([&](Snapshot& s) { return keys_.active(s, alg); });
  if (!key) throw std::runtime_error("no active " + c.id_token_alg + " signing key");
  return directory::jose::sign_compact(*key, "JWT", json::serialize(o));
}

net::HttpResponse Provider::token_reply(const Issued& i, UnixMs now) {
  directory::AccessToken at;
  at.issuer = cfg_.issuer;
  at.subject = i.person ? i.person->id.str() : i.client.id;
  at.client_id = i.client.id;
  at.audience = directory::audiences_for(i.scopes);
  at.scope = directory::join_scope(i.scopes);
  at.jti = new_secret().substr(0, 22);
  at.family = i.family;
  at.sid = i.sid;
  at.issued = now;
  at.expires = now + cfg_.access_ttl;
  at.auth_time = i.auth_time;
  auto key = dir_.read([&](Snapshot& s) { return keys_.active(s, directory::jose::Alg::RS256); });
  if (!key) return web::oauth_error(500, "server_error", "no signing key");
  json::object o;
  o["access_token"] = directory::issue_access_token(*key, at);
  o["token_type"] = "Bearer";
  o["expires_in"] = cfg_.access_ttl / 1000;
  o["scope"] = at.scope;
  if (!i.refresh_token.empty()) o["refresh_token"] = i.refresh_token;
  if (i.person && contains(i.scopes, "openid")) o["id_token"] = id_token(i.client, i, now);
  return web::json_reply(200, json::serialize(o));
}

std::variant<CodeRecord, std::string> Provider::consume_code(Change& c, std::string_view client_id, const std::string& code,
                                                           std::string_view redirect_uri, std::string_view verifier,
                                                           UnixMs now) {
  auto raw = c.get_raw(directory::schema::code, secret_key(code));
  if (code.empty() || !raw) return std::string("the code is not valid");
  auto rec = decode_code(*raw);
  if (rec.client_id != client_id) return std::string("the code was issued to another client");
  if (rec.used) {
    // RFC 6749 4.1.2: a code used twice revokes every token issued from it.
    directory::revoke_family(c, rec.family, now + cfg_.refresh_ttl);
    c.audit("token.code_replay", rec.person.str(), "", "{\"client\":\"" + std::string(client_id) + "\"}");
    return std::string("the code was used already; the tokens issued from it are revoked");
  }
  if (now >= rec.expires) return std::string("the code has expired");
  if (redirect_uri != rec.redirect_uri) return std::string("redirect_uri differs from the authorization request");
  if (!rec.code_challenge.empty()) {
    if (!valid_verifier(verifier)) return std::string("code_verifier is missing or malformed");
    if (!crypto::equal_constant_time(pkce_s256(verifier), rec.code_challenge))
      return std::string("code_verifier does not match the code_challenge");
  } else if (!verifier.empty()) {
    return std::string("code_verifier given but the authorization request had no code_challenge");
  }
  rec.used = true;
  c.put(directory::schema::code, secret_key(code), encode(rec));
  return rec;
}

Result<Provider::FirstPartyLogin> Provider::redeem_code(std::string_view client_id, const std::string& code,
                                                         std::string_view redirect_uri, std::string_view verifier,
                                                         UnixMs now) {
  std::string refusal;
  FirstPartyLogin out;
  auto written = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
    auto consumed = consume_code(c, client_id, code, redirect_uri, verifier, now);
    if (auto* why = std::get_if<std::string>(&consumed)) {
      refusal = std::move(*why);
      return ok_status();  // a replay's revocation is kept
    }
    const auto& rec = std::get<CodeRecord>(consumed);
    auto p = c.person(rec.person);
    if (!p || p->status != directory::PersonStatus::active) {
      refusal = "the person's account is not active";
      return ok_status();
    }
    out = FirstPartyLogin{std::move(*p), rec.sid, rec.amr, rec.nonce, rec.auth_time};
    return ok_status();
  });
  if (!written) return written.error();
  if (!refusal.empty()) return make_error(Errc::unauthorized, refusal);
  return out;
}

net::HttpResponse Provider::token(const Request& r, UnixMs now) {
  auto authed = authenticate_client(r, now, true);
  if (auto* e = std::get_if<net::HttpResponse>(&authed)) return *e;
  Client client = std::get<Client>(std::move(authed));
  std::string grant = r.get("grant_type");
  if (grant.empty()) return web::oauth_error(400, "invalid_request", "grant_type is missing");
  if (grant != "authorization_code" && grant != "refresh_token" && grant != "client_credentials")
    return web::oauth_error(400, "unsupported_grant_type", "unsupported grant_type " + grant);
  if (!contains(client.grants, grant))
    return web::oauth_error(400, "unauthorized_client", "the client may not use the " + grant + " grant");
  Issued issued;
  issued.client = client;
  bool with_refresh = contains(client.grants, "refresh_token");

  if (grant == "client_credentials") {
    auto scopes = directory::split_scope(r.get("scope"));
    for (const auto& s : scopes)
      if (!contains(client.scopes, s) || s == "openid" || s == "offline_access")
        return web::oauth_error(400, "invalid_scope", "the client may not request the scope " + s);
    issued.scopes = scopes;
    return token_reply(issued, now);
  }

  // Both remaining grants end in one transaction that consumes what was presented and stores
  // the next refresh token; a refusal that revokes (replay, reuse) commits that revocation.
  struct Outcome {
    std::string error, description;
    bool revoke_family = false;
  };
  Outcome outcome;
  std::string refresh = with_refresh ? new_secret() : std::string();
  auto written = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
    auto refuse = [&](std::string d) {
      outcome = {"invalid_grant", std::move(d)};
      return ok_status();
    };
    RefreshRecord next;
    if (grant == "authorization_code") {
      auto consumed = consume_code(c, client.id, r.get("code"), r.get("redirect_uri"), r.get("code_verifier"), now);
      if (auto* why = std::get_if<std::string>(&consumed)) return refuse(std::move(*why));
      const auto& rec = std::get<CodeRecord>(consumed);
      if (directory::grant_ended(c, rec.sid, rec.person, rec.auth_time, now))
        return refuse("the sign-in this code came from has ended");
      issued.scopes = directory::split_scope(rec.scope);
      issued.sid = rec.sid;
      issued.amr = rec.amr;
      issued.nonce = rec.nonce;
      issued.family = rec.family;
      issued.auth_time = rec.auth_time;
      issued.person = c.person(rec.person);
      next.family_expires = now + cfg_.refresh_ttl;
    } else {
      std::string presented = r.get("refresh_token");
      auto raw = c.get_raw(directory::schema::refresh, secret_key(presented));
      if (presented.empty() || !raw) return refuse("the refresh token is not valid");
      auto rec = decode_refresh(*raw);
      if (rec.client_id != client.id) return refuse("the refresh token was issued to another client");
      if (directory::is_revoked(c, "", rec.family, now)) return refuse("the refresh token was revoked");
      // Its session was signed out, or the person's password changed (or they were suspended)
      // after the sign-in it came from: the family ends.
      if (directory::grant_ended(c, rec.sid, rec.person, rec.auth_time, now)) {
        directory::revoke_family(c, rec.family, rec.family_expires);
        return refuse("the refresh token's session has ended");
      }
      if (rec.used) {
        // Rotation reuse: someone holds a copy. Revoke the whole family, including the
        // refresh token the legitimate client holds now, and its access tokens.
        directory::revoke_family(c, rec.family, rec.family_expires);
        c.audit("token.refresh_reuse", rec.person.str(), "", "{\"client\":\"" + client.id + "\"}");
        return refuse("the refresh token was used already; its family is revoked");
      }
      if (now >= rec.expires) return refuse("the refresh token has expired");
      auto scopes = directory::split_scope(rec.scope);
      if (r.has("scope")) {
        auto asked = directory::split_scope(r.get("scope"));
        for (const auto& s : asked)
          if (!contains(scopes, s)) return refuse("scope " + s + " was not granted originally");
        scopes = asked;
      }
      rec.used = true;
      c.put(directory::schema::refresh, secret_key(presented), encode(rec));
      issued.scopes = scopes;
      issued.sid = rec.sid;
      issued.amr = rec.amr;
      issued.family = rec.family;
      issued.auth_time = rec.auth_time;
      issued.person = c.person(rec.person);
      next.family_expires = rec.family_expires;
      next.scope = rec.scope;
    }
    if (!issued.person || issued.person->status != directory::PersonStatus::active)
      return refuse("the person's account is not active");
    if (with_refresh) {
      next.client_id = client.id;
      if (next.scope.empty()) next.scope = directory::join_scope(issued.scopes);
      next.sid = issued.sid;
      next.family = issued.family;
      next.amr = issued.amr;
      next.person = issued.person->id;
      next.auth_time = issued.auth_time;
      next.expires = std::min(now + cfg_.refresh_ttl, next.family_expires);
      c.put(directory::schema::refresh, secret_key(refresh), encode(next));
    }
    return ok_status();
  });
  if (!written) return web::oauth_error(500, "server_error", written.error().message);
  if (!outcome.error.empty()) return web::oauth_error(400, outcome.error, outcome.description);
  issued.refresh_token = refresh;
  return token_reply(issued, now);
}

net::HttpResponse Provider::userinfo(const Request& r, UnixMs now) {
  auto token = web::bearer(r.http);
  if (!token && r.http.method == "POST" && r.params_ok) {
    if (r.has("access_token")) token = r.get("access_token");
  }
  if (!token) {
    auto res = web::json_reply(401, "{\"error\":\"invalid_request\"}");
    res.headers["WWW-Authenticate"] = "Bearer realm=\"congvu\"";
    return res;
  }
  auto body = dir_.read([&](Snapshot& s) -> Result<std::string> {
    auto t = directory::verify_access_token(keys_, s, *token, cfg_.issuer, directory::kAudUserinfo, "openid", now);
    if (!t) return t.error();
    if (!t->person) return make_error(Errc::unauthorized, "the token has no person");
    auto p = s.person(*t->person);
    auto client = directory::find_client(s, t->client_id);
    return json::serialize(person_claims(s, *p, directory::split_scope(t->scope), client ? &*client : nullptr));
  });
  if (!body) return bearer_error("invalid_token", body.error().message);
  return web::json_reply(200, *body);
}

net::HttpResponse Provider::introspect(const Request& r, UnixMs now) {
  auto authed = authenticate_client(r, now, false);
  if (auto* e = std::get_if<net::HttpResponse>(&authed)) return *e;
  const Client& caller = std::get<Client>(authed);
  std::string token = r.get("token");
  auto body = dir_.read([&](Snapshot& s) {
    json::object o;
    o["active"] = false;
    auto t = directory::decode_access_token(keys_, s, token, now);
    if (t && t->issuer == cfg_.issuer && !directory::is_revoked(s, t->jti, t->family, now)) {
      bool person_ok = true;
      if (t->person) {
        auto p = s.person(*t->person);
        person_ok = p && p->status == directory::PersonStatus::active;
      }
      if (person_ok) {
        o["active"] = true;
        o["token_type"] = "access_token";
        o["scope"] = t->scope;
        o["client_id"] = t->client_id;
        o["sub"] = t->subject;
        o["iss"] = t->issuer;
        o["exp"] = t->expires / 1000;
        o["iat"] = t->issued / 1000;
        o["jti"] = t->jti;
        json::array aud;
        for (const auto& a : t->audience) aud.emplace_back(a);
        o["aud"] = std::move(aud);
        if (t->person) {
          if (auto p = s.person(*t->person)) o["username"] = p->login;
        }
      }
      return json::serialize(o);
    }
    // A refresh token is described only to the client that holds it.
    if (auto raw = s.get_raw(directory::schema::refresh, secret_key(token)); raw && !token.empty()) {
      auto rec = decode_refresh(*raw);
      if (rec.client_id == caller.id && !rec.used && now < rec.expires &&
          !directory::is_revoked(s, "", rec.family, now)) {
        auto p = s.person(rec.person);
        if (p && p->status == directory::PersonStatus::active) {
          o["active"] = true;
          o["token_type"] = "refresh_token";
          o["scope"] = rec.scope;
          o["client_id"] = rec.client_id;
          o["sub"] = rec.person.str();
          o["username"] = p->login;
          o["exp"] = rec.expires / 1000;
          o["iss"] = cfg_.issuer;
        }
      }
    }
    return json::serialize(o);
  });
  return web::json_reply(200, body);
}

net::HttpResponse Provider::revoke(const Request& r, UnixMs now) {
  auto authed = authenticate_client(r, now, true);
  if (auto* e = std::get_if<net::HttpResponse>(&authed)) return *e;
  const Client& caller = std::get<Client>(authed);
  std::string token = r.get("token");
  if (token.empty()) return web::oauth_error(400, "invalid_request", "token is missing");
  auto written = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
    if (auto raw = c.get_raw(directory::schema::refresh, secret_key(token))) {
      auto rec = decode_refresh(*raw);
      // RFC 7009 2.1: revoking a refresh token also revokes the access tokens of its grant.
      if (rec.client_id == caller.id) directory::revoke_family(c, rec.family, rec.family_expires);
      return ok_status();
    }
    auto t = directory::decode_access_token(keys_, c, token, now);
    if (t && t->client_id == caller.id) directory::revoke_jti(c, t->jti, t->expires);
    return ok_status();
  });
  if (!written) return web::oauth_error(503, "temporarily_unavailable", "the revocation could not be stored");
  // RFC 7009 2.2: 200 whether or not the token was valid.
  return web::json_reply(200, "{}");
}

}  // namespace congvu::idp
