#include "idp/provider.hpp"

#include "common/crypto.hpp"
#include "idp/provider_impl.hpp"
#include "idp/saml/saml.hpp"

namespace congvu::idp {

namespace json = boost::json;
using directory::Snapshot;

std::string set_cookie(std::string_view value, UnixMs max_age_ms) {
  return std::string(kCookie) + "=" + std::string(value) + "; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=" +
         std::to_string(max_age_ms / 1000);
}

std::string clear_cookie() { return std::string(kCookie) + "=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"; }

net::HttpResponse html_page(int status, std::string body) {
  return net::HttpResponse{status,
                           "text/html; charset=utf-8",
                           {{"Content-Security-Policy",
                             "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                             "frame-ancestors 'none'; base-uri 'none'"},
                            {"X-Frame-Options", "DENY"}},
                           std::move(body)};
}

net::HttpResponse form_expired() {
  return html_page(403, message_html("Không thể tiếp tục", "Cannot continue",
                                     "Biểu mẫu đã hết hạn hoặc không hợp lệ. Hãy tải lại trang.",
                                     "The form expired or is not valid. Reload the page."));
}

net::HttpResponse store_failed(const Error& e) { return html_page(500, message_html("Lỗi", "Error", e.message, e.message)); }

json::object person_claims(Snapshot& s, const directory::Person& p, const std::vector<std::string>& scopes,
                           const directory::Client* client) {
  auto has = [&](std::string_view x) { return std::find(scopes.begin(), scopes.end(), x) != scopes.end(); };
  json::object o;
  o["sub"] = p.id.str();
  if (has("profile")) {
    o["name"] = p.full_name;
    o["given_name"] = p.given;
    o["family_name"] = p.family;
    if (!p.middle.empty()) o["middle_name"] = p.middle;
    o["preferred_username"] = p.login;
    o["updated_at"] = p.updated / 1000;
  }
  if (has("email")) {
    o["email"] = p.address;
    o["email_verified"] = true;
  }
  if (has("unit")) {
    o["position"] = p.position;
    o["unit_code"] = p.unit;
    json::array path;
    std::vector<std::string> names;
    for (std::string code = p.unit; !code.empty() && names.size() < 64;) {
      auto u = s.unit(code);
      if (!u) break;
      if (code == p.unit) o["unit_name"] = u->name;
      names.push_back(u->name);
      code = u->parent;
    }
    for (auto it = names.rbegin(); it != names.rend(); ++it) path.emplace_back(*it);
    o["unit_path"] = std::move(path);
    json::array groups;
    for (auto& g : s.groups_of(p)) groups.emplace_back(g);
    o["groups"] = std::move(groups);
    o["status"] = directory::status_name(p.status);
  }
  // Personal data (Decree 13/2023) only for a client configured to receive it.
  if (client) {
    for (const auto& c : client->claims) {
      if (c == "birthdate" && !p.birth_date.empty()) o["birthdate"] = p.birth_date;
      if (c == "gender" && !p.gender.empty()) o["gender"] = p.gender;
      if (c == "staff_number") o["staff_number"] = p.staff_no;
    }
  }
  return o;
}

std::string Provider::csrf_token(std::string_view cookie) const {
  return directory::jose::b64url(crypto::hmac_sha256(cfg_.csrf_key, "csrf\n" + std::string(cookie)));
}

bool Provider::csrf_ok(const Request& r) const {
  return !r.cookie.empty() && crypto::equal_constant_time(r.get("csrf"), csrf_token(r.cookie));
}

std::optional<net::HttpResponse> Provider::handle(const net::HttpRequest& http, UnixMs now) {
  std::string path(web::path_of(http.target));
  if (saml_ && path.rfind("/saml/", 0) == 0) {
    auto cookies = web::cookies(http);
    auto it = cookies.find(kCookie);
    return saml_->handle(http, it == cookies.end() ? std::string() : it->second, now);
  }
  static const char* kPaths[] = {"/.well-known/openid-configuration", "/oidc/jwks", "/oidc/authorize", "/login",
                                 "/consent", "/oidc/token", "/oidc/userinfo", "/oidc/introspect", "/oidc/revoke",
                                 "/oidc/logout", "/idp/style.css", "/login/otp", "/mfa/enrol", "/account", "/account/password",
                                 "/account/app-passwords", "/account/app-passwords/revoke", "/login/reset"};
  if (std::find_if(std::begin(kPaths), std::end(kPaths), [&](const char* p) { return path == p; }) == std::end(kPaths))
    return std::nullopt;
  bool post = http.method == "POST";
  if (!post && http.method != "GET" && http.method != "HEAD")
    return net::HttpResponse{405, "text/plain; charset=utf-8", {{"Allow", "GET, POST"}}, "method not allowed\n"};
  Request r{http, path, {}, true, {}};
  if (post) {
    auto ct = http.headers.count("content-type") ? http.headers.at("content-type") : std::string();
    if (ct.rfind("application/x-www-form-urlencoded", 0) != 0 && path != "/oidc/userinfo")
      return web::oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
  }
  auto decoded = web::decode_form(post ? std::string_view(http.body) : web::query_of(http.target));
  if (decoded) r.params = std::move(*decoded);
  else r.params_ok = false;
  auto cookies = web::cookies(http);
  if (auto it = cookies.find(kCookie); it != cookies.end()) r.cookie = it->second;

  if (path == "/idp/style.css")
    return net::HttpResponse{200, "text/css; charset=utf-8", {{"Cache-Control", "max-age=86400"}}, std::string(style_css())};
  if (path == "/.well-known/openid-configuration") return discovery();
  if (path == "/oidc/jwks") return jwks(now);
  if (path == "/oidc/authorize") return authorize(r, now);
  if (path == "/login") return post ? login_submit(r, now) : login_page(r, now);
  if (path == "/consent") {
    if (!post) return net::HttpResponse{405, "text/plain; charset=utf-8", {{"Allow", "POST"}}, "method not allowed\n"};
    return consent_submit(r, now);
  }
  if (path == "/oidc/userinfo") return userinfo(r, now);
  if (path == "/login/otp") return otp(r, now);
  if (path == "/mfa/enrol") return enrol(r, now);
  if (path == "/login/reset") return reset(r, now);
  if (path.rfind("/account", 0) == 0) {
    if (!post && path != "/account")
      return net::HttpResponse{405, "text/plain; charset=utf-8", {{"Allow", "POST"}}, "method not allowed\n"};
    return account(r, now);
  }
  if (path == "/oidc/logout") return logout(r, now);
  if (!post) return net::HttpResponse{405, "text/plain; charset=utf-8", {{"Allow", "POST"}}, "method not allowed\n"};
  if (!r.params_ok) return web::oauth_error(400, "invalid_request", "malformed or repeated parameters");
  if (path == "/oidc/token") return token(r, now);
  if (path == "/oidc/introspect") return introspect(r, now);
  return revoke(r, now);
}

net::HttpResponse Provider::discovery() {
  json::object o;
  o["issuer"] = cfg_.issuer;
  o["authorization_endpoint"] = endpoint("/oidc/authorize");
  o["token_endpoint"] = endpoint("/oidc/token");
  o["userinfo_endpoint"] = endpoint("/oidc/userinfo");
  o["jwks_uri"] = endpoint("/oidc/jwks");
  o["introspection_endpoint"] = endpoint("/oidc/introspect");
  o["revocation_endpoint"] = endpoint("/oidc/revoke");
  o["end_session_endpoint"] = endpoint("/oidc/logout");
  o["response_types_supported"] = json::array{"code"};
  o["response_modes_supported"] = json::array{"query"};
  o["grant_types_supported"] = json::array{"authorization_code", "refresh_token", "client_credentials"};
  o["subject_types_supported"] = json::array{"public"};
  o["id_token_signing_alg_values_supported"] = json::array{"RS256", "ES256", "EdDSA"};
  o["userinfo_signing_alg_values_supported"] = json::array{};
  o["code_challenge_methods_supported"] = json::array{"S256"};
  json::array auth{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"};
  o["token_endpoint_auth_methods_supported"] = auth;
  o["token_endpoint_auth_signing_alg_values_supported"] = json::array{"RS256", "ES256", "EdDSA"};
  o["introspection_endpoint_auth_methods_supported"] = json::array{"client_secret_basic", "client_secret_post", "private_key_jwt"};
  o["revocation_endpoint_auth_methods_supported"] = auth;
  o["scopes_supported"] = json::array{"openid", "profile", "email", "unit", "offline_access", "mail"};
  o["claims_supported"] = json::array{"sub", "name", "given_name", "family_name", "middle_name", "preferred_username", "email",
                           "email_verified", "unit_code", "unit_name", "unit_path", "position", "groups", "auth_time",
                           "amr", "acr", "sid"};
  o["prompt_values_supported"] = json::array{"none", "login", "consent"};
  o["claims_parameter_supported"] = false;
  o["request_parameter_supported"] = false;
  o["request_uri_parameter_supported"] = false;
  o["authorization_response_iss_parameter_supported"] = true;
  o["frontchannel_logout_supported"] = false;
  o["backchannel_logout_supported"] = true;
  o["backchannel_logout_session_supported"] = true;
  o["ui_locales_supported"] = json::array{"vi", "en"};
  auto r = web::json_reply(200, json::serialize(o));
  r.headers["Cache-Control"] = "max-age=3600";
  r.headers.erase("Pragma");
  return r;
}

net::HttpResponse Provider::jwks(UnixMs now) {
  std::string body = "{\"keys\":[";
  auto keys = dir_.read([&](Snapshot& s) { return keys_.published(s, now); });
  for (std::size_t i = 0; i < keys.size(); ++i) body += (i ? "," : "") + keys[i]->public_jwk();
  body += "]}";
  auto r = web::json_reply(200, body);
  r.headers["Cache-Control"] = "max-age=300";
  r.headers.erase("Pragma");
  return r;
}

}  // namespace congvu::idp
