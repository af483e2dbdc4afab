#include "directory/tokens.hpp"

#include <boost/json.hpp>

#include "common/codec.hpp"
#include "directory/directory.hpp"

namespace congvu::directory {

namespace json = boost::json;

std::vector<std::string> split_scope(std::string_view scope) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < scope.size()) {
    auto j = scope.find(' ', i);
    if (j == std::string_view::npos) j = scope.size();
    if (j > i) {
      std::string s(scope.substr(i, j - i));
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
    i = j + 1;
  }
  return out;
}

std::string join_scope(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) out += (out.empty() ? "" : " ") + s;
  return out;
}

std::vector<std::string> audiences_for(const std::vector<std::string>& scopes) {
  std::vector<std::string> out;
  auto add = [&](const char* a) {
    if (std::find(out.begin(), out.end(), a) == out.end()) out.emplace_back(a);
  };
  for (const auto& s : scopes) {
    if (s == "openid" || s == "profile" || s == "email" || s == "unit") add(kAudUserinfo);
    else if (s == "mail") add(kAudMail);
    else if (s.rfind("scim:", 0) == 0) add(kAudScim);
  }
  return out;
}

bool AccessToken::has_scope(std::string_view s) const {
  auto v = split_scope(scope);
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string issue_access_token(const jose::SigningKey& key, const AccessToken& t) {
  json::object o;
  o["iss"] = t.issuer;
  o["sub"] = t.subject;
  json::array aud;
  for (const auto& a : t.audience) aud.emplace_back(a);
  o["aud"] = std::move(aud);
  o["client_id"] = t.client_id;
  o["scope"] = t.scope;
  o["jti"] = t.jti;
  o["iat"] = t.issued / 1000;
  o["exp"] = t.expires / 1000;
  if (t.auth_time) o["auth_time"] = t.auth_time / 1000;
  if (!t.family.empty()) o["fam"] = t.family;
  if (!t.sid.empty()) o["sid"] = t.sid;
  return jose::sign_compact(key, "at+jwt", json::serialize(o));
}

namespace {
using jose::string_claim;
UnixMs time_claim(const json::object& o, std::string_view k) { return jose::int_claim(o, k) * 1000; }
Error denied(std::string why) { return make_error(Errc::unauthorized, std::move(why)); }
}  // namespace

Result<AccessToken> decode_access_token(KeyRing& keys, Snapshot& s, std::string_view token, UnixMs now) {
  auto parsed = jose::parse_compact(token);
  if (!parsed) return denied(parsed.error().message);
  if (parsed->typ != "at+jwt") return denied("not an access token (typ must be at+jwt)");
  auto key = keys.verifier(s, parsed->kid, now);
  auto payload = jose::verify_compact(token, [&](const std::string&) { return key.get(); });
  if (!payload) return payload.error();
  boost::system::error_code ec;
  json::value v = json::parse(*payload, ec);
  if (ec || !v.is_object()) return denied("the token's claims are not a JSON object");
  const auto& o = v.get_object();
  AccessToken t;
  t.issuer = string_claim(o, "iss");
  t.subject = string_claim(o, "sub");
  t.client_id = string_claim(o, "client_id");
  t.scope = string_claim(o, "scope");
  t.jti = string_claim(o, "jti");
  t.family = string_claim(o, "fam");
  t.sid = string_claim(o, "sid");
  t.issued = time_claim(o, "iat");
  t.expires = time_claim(o, "exp");
  t.auth_time = time_claim(o, "auth_time");
  if (auto it = o.find("aud"); it != o.end()) {
    if (it->value().is_string()) t.audience.emplace_back(it->value().get_string());
    else if (it->value().is_array())
      for (const auto& a : it->value().get_array())
        if (a.is_string()) t.audience.emplace_back(a.get_string());
  }
  t.person = PersonId::parse(t.subject);
  if (t.expires == 0 || now >= t.expires) return denied("the token has expired");
  if (t.jti.empty()) return denied("the token has no jti");
  return t;
}

Result<AccessToken> verify_access_token(KeyRing& keys, Snapshot& s, std::string_view token, std::string_view issuer,
                                        std::string_view audience, std::string_view scope, UnixMs now) {
  auto t = decode_access_token(keys, s, token, now);
  if (!t) return t;
  if (t->issuer != issuer) return denied("the token was issued by someone else");
  if (std::find(t->audience.begin(), t->audience.end(), audience) == t->audience.end())
    return denied("the token is not meant for " + std::string(audience) + " (aud)");
  if (!scope.empty() && !t->has_scope(scope)) return denied("the token lacks the scope " + std::string(scope));
  if (is_revoked(s, t->jti, t->family, now)) return denied("the token was revoked");
  if (t->person) {
    auto p = s.person(*t->person);
    if (!p) return denied("the token's person does not exist");
    if (p->status != PersonStatus::active) return denied("the token's person is " + std::string(status_name(p->status)));
  }
  return t;
}

namespace {
void put_revoked(Change& c, char kind, std::string_view id, UnixMs until) {
  std::string k(1, kind);
  k.append(id);
  std::string v;
  codec::put_be64(v, static_cast<std::uint64_t>(until));
  c.put(schema::revoked, k, v);
}
bool revoked(Snapshot& s, char kind, std::string_view id, UnixMs now) {
  if (id.empty()) return false;
  std::string k(1, kind);
  k.append(id);
  auto v = s.get_raw(schema::revoked, k);
  return v && static_cast<UnixMs>(codec::get_be64(*v)) > now;
}
}  // namespace

void revoke_jti(Change& c, std::string_view jti, UnixMs until) { put_revoked(c, 'j', jti, until); }
void revoke_family(Change& c, std::string_view family, UnixMs until) { put_revoked(c, 'f', family, until); }
bool is_revoked(Snapshot& s, std::string_view jti, std::string_view family, UnixMs now) {
  return revoked(s, 'j', jti, now) || revoked(s, 'f', family, now);
}

void end_grants(Change& c, const PersonId& person) {
  // 'p' + person id: the instant; kept for good (one small record per person).
  std::string v;
  codec::put_be64(v, static_cast<std::uint64_t>(c.now()));
  c.put(schema::revoked, "p" + std::string(person.bytes()), v);
}

UnixMs grants_not_before(Snapshot& s, const PersonId& person) {
  auto v = s.get_raw(schema::revoked, "p" + std::string(person.bytes()));
  return v && v->size() == 8 ? static_cast<UnixMs>(codec::get_be64(*v)) : 0;
}

void end_session_grants(Change& c, std::string_view sid, UnixMs until) { put_revoked(c, 's', sid, until); }
bool session_ended(Snapshot& s, std::string_view sid, UnixMs now) { return revoked(s, 's', sid, now); }

bool grant_ended(Snapshot& s, std::string_view sid, const PersonId& person, UnixMs auth_time, UnixMs now) {
  return session_ended(s, sid, now) || auth_time < grants_not_before(s, person);
}

}  // namespace congvu::directory
