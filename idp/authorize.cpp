// The browser side of the provider: the authorization endpoint, the login page, the consent
// screen and RP-initiated logout.
#include <boost/json.hpp>

#include "common/crypto.hpp"
#include "directory/factors.hpp"
#include "idp/logout.hpp"
#include "idp/provider_impl.hpp"
#include "idp/saml/saml.hpp"

namespace congvu::idp {

namespace json = boost::json;
using directory::Change;
using directory::Client;
using directory::Snapshot;

namespace {

net::HttpResponse error_page(int status, std::string_view vi, std::string_view en) {
  return html_page(status, message_html("Không thể tiếp tục", "Cannot continue", vi, en));
}

// A PKCE code challenge: BASE64URL(SHA256(verifier)), 43 characters (RFC 7636 4.2).
bool valid_challenge(std::string_view c) {
  return c.size() == 43 && directory::jose::b64url_decode(c).has_value();
}

// The authorize request again, without the prompt values already satisfied, so that returning
// to it after the login page or the consent screen does not ask again.
std::string authorize_again(const std::map<std::string, std::string>& params, std::string_view satisfied) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : params) {
    if (k == "prompt") {
      auto values = directory::split_scope(v);
      values.erase(std::remove(values.begin(), values.end(), std::string(satisfied)), values.end());
      if (!values.empty()) out.emplace_back(k, directory::join_scope(values));
      continue;
    }
    if (k == "max_age" && satisfied == "login") continue;
    out.emplace_back(k, v);
  }
  return web::with_params("/oidc/authorize", out);
}

std::string consent_key(const PersonId& p, std::string_view client) {
  std::string k(p.bytes());
  k.append(client);
  return k;
}

}  // namespace

net::HttpResponse Provider::authorize(const Request& r, UnixMs now) {
  if (!r.params_ok)
    return error_page(400, "Yêu cầu đăng nhập bị lỗi định dạng.", "The sign-in request is malformed.");
  std::string client_id = r.get("client_id"), redirect_uri = r.get("redirect_uri");
  auto client = dir_.read([&](Snapshot& s) { return directory::find_client(s, client_id); });
  // Until the client and the redirect URI are known good, errors are shown, never redirected.
  if (!client)
    return error_page(400, "Ứng dụng yêu cầu đăng nhập chưa được đăng ký.", "The application is not registered.");
  if (redirect_uri.empty() || !contains(client->redirect_uris, redirect_uri))
    return error_page(400, "Địa chỉ quay lại (redirect_uri) không khớp với đăng ký của ứng dụng.",
                      "The redirect_uri does not match the application's registration.");
  std::string state = r.get("state");
  auto fail = [&](std::string_view code, std::string_view desc) {
    std::vector<std::pair<std::string, std::string>> p = {{"error", std::string(code)}, {"error_description", std::string(desc)}};
    if (!state.empty()) p.emplace_back("state", state);
    p.emplace_back("iss", cfg_.issuer);
    return web::redirect(web::with_params(redirect_uri, p));
  };
  if (r.get("response_type") != "code") return fail("unsupported_response_type", "only response_type=code is supported");
  if (!contains(client->grants, "authorization_code"))
    return fail("unauthorized_client", "the client may not use the authorization code grant");
  if (r.has("request") || r.has("request_uri")) return fail("request_not_supported", "request objects are not supported");
  if (r.has("response_mode") && r.get("response_mode") != "query")
    return fail("invalid_request", "only response_mode=query is supported");
  auto scopes = directory::split_scope(r.get("scope"));
  if (scopes.empty()) return fail("invalid_scope", "no scope was requested");
  for (const auto& s : scopes)
    if (!contains(client->scopes, s)) return fail("invalid_scope", "the client may not request the scope " + s);
  std::string challenge = r.get("code_challenge");
  if (!challenge.empty() || r.has("code_challenge_method")) {
    if (r.get("code_challenge_method") != "S256") return fail("invalid_request", "code_challenge_method must be S256");
    if (!valid_challenge(challenge)) return fail("invalid_request", "code_challenge must be 43 base64url characters");
  } else if (!client->confidential) {
    return fail("invalid_request", "PKCE with S256 is required of public clients");
  }
  auto prompt = directory::split_scope(r.get("prompt"));
  if (contains(prompt, "none") && prompt.size() > 1) return fail("invalid_request", "prompt=none cannot be combined");
  std::optional<std::int64_t> max_age;
  if (r.has("max_age")) {
    try {
      max_age = std::stoll(r.get("max_age"));
    } catch (...) {
      return fail("invalid_request", "max_age must be a number of seconds");
    }
  }

  auto session = dir_.read([&](Snapshot& s) { return find_session(s, r.cookie, now); });
  std::optional<directory::Person> person;
  if (session) {
    person = dir_.read([&](Snapshot& s) { return s.person(session->person); });
    if (!person || person->status != directory::PersonStatus::active) session.reset();
  }
  bool need_login = !session || contains(prompt, "login") || (max_age && now - session->auth_time > *max_age * 1000);
  if (need_login) {
    if (contains(prompt, "none")) return fail("login_required", "the person must sign in");
    return web::redirect(web::with_params("/login", {{"return_to", authorize_again(r.params, "login")}}));
  }
  // The second factor: always once enrolled; and before any token for a client or a person
  // whose policy demands it (enrolment first when there is none yet).
  bool has_otp = session->amr.find("otp") != std::string::npos;
  if (session->otp_pending || (!has_otp && client->require_mfa) ||
      (!has_otp && dir_.read([&](Snapshot& s) { return s.second_factor_required(*person); }))) {
    if (contains(prompt, "none")) return fail("interaction_required", "a second factor is needed");
    auto enrolled = dir_.read([&](Snapshot& s) {
      auto f = directory::find_factor(s, person->id);
      return f && f->confirmed;
    });
    return web::redirect(web::with_params(enrolled ? "/login/otp" : "/mfa/enrol",
                                          {{"return_to", authorize_again(r.params, "login")}}));
  }
  if (!client->first_party) {
    auto granted = dir_.read([&](Snapshot& s) {
      auto v = s.get_raw(directory::schema::consent, consent_key(person->id, client->id));
      return v ? directory::split_scope(*v) : std::vector<std::string>{};
    });
    bool covered = std::all_of(scopes.begin(), scopes.end(), [&](const std::string& s) { return contains(granted, s); });
    if (!covered || contains(prompt, "consent")) {
      if (contains(prompt, "none")) return fail("consent_required", "the person must consent");
      ConsentView v{csrf_token(r.cookie), authorize_again(r.params, "consent"), client->name, person->full_name, scopes};
      return html_page(200, consent_html(v));
    }
  }

  std::string code = new_secret();
  CodeRecord rec;
  rec.client_id = client->id;
  rec.redirect_uri = redirect_uri;
  rec.scope = directory::join_scope(scopes);
  rec.nonce = r.get("nonce");
  rec.code_challenge = challenge;
  rec.sid = session->sid;
  rec.amr = session->amr;
  rec.family = new_secret().substr(0, 22);
  rec.person = person->id;
  rec.auth_time = session->auth_time;
  rec.expires = now + cfg_.code_ttl;
  auto written = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
    c.put(directory::schema::code, secret_key(code), encode(rec));
    if (!contains(session->clients, client->id)) {
      session->clients.push_back(client->id);
      session->last_seen = now;
      put_session(c, r.cookie, *session);
    }
    return ok_status();
  });
  if (!written) return fail("server_error", "the code could not be stored");
  std::vector<std::pair<std::string, std::string>> p = {{"code", code}};
  if (!state.empty()) p.emplace_back("state", state);
  p.emplace_back("iss", cfg_.issuer);
  return web::redirect(web::with_params(redirect_uri, p));
}

net::HttpResponse Provider::login_page(const Request& r, UnixMs) {
  LoginView v;
  v.return_to = r.get("return_to");
  if (!web::local_path(v.return_to)) v.return_to = "/";
  // A browser without our cookie gets one now: the CSRF token of the form is bound to it.
  std::string cookie = r.cookie.empty() ? new_secret() : r.cookie;
  v.csrf = csrf_token(cookie);
  if (auto q = web::decode_form(web::query_of(v.return_to)); q && q->count("client_id")) {
    auto c = dir_.read([&](Snapshot& s) { return directory::find_client(s, q->at("client_id")); });
    if (c) v.client_name = c->name;
  }
  auto res = html_page(200, login_html(v));
  if (r.cookie.empty()) res.headers["Set-Cookie"] = set_cookie(cookie, cfg_.session_ttl);
  return res;
}

net::HttpResponse Provider::login_submit(const Request& r, UnixMs now) {
  if (!r.params_ok || !csrf_ok(r)) return form_expired();
  LoginView v;
  v.csrf = csrf_token(r.cookie);
  v.return_to = web::local_path(r.get("return_to")) ? r.get("return_to") : "/";
  v.login = r.get("login");
  std::string password = r.get("password");
  const std::string& from = r.http.peer;
  if (v.login.empty() || password.empty() || v.login.size() > 256 || password.size() > 1024) {
    v.error_vi = "Hãy nhập tên đăng nhập và mật khẩu.";
    v.error_en = "Enter your login and password.";
    return html_page(400, login_html(v));
  }
  // The one throttle of every password check (directory/throttle.hpp), keyed on the person's
  // login however it was typed.
  auto checked = throttle_->password(dir_, "web", v.login, password, from, now, /*web=*/true);
  if (checked.kind == directory::LoginThrottle::Checked::throttled) {
    std::string secs = wait_seconds(checked.wait);
    v.error_vi = "Đăng nhập sai quá nhiều lần. Hãy thử lại sau " + secs + " giây.";
    v.error_en = "Too many failed attempts. Try again in " + secs + " seconds.";
    auto res = html_page(429, login_html(v));
    res.headers["Retry-After"] = secs;
    return res;
  }
  if (checked.kind == directory::LoginThrottle::Checked::busy) {
    v.error_vi = "Máy chủ đang bận. Hãy thử lại sau ít giây.";
    v.error_en = "The server is busy. Try again in a few seconds.";
    auto res = html_page(503, login_html(v));
    res.headers["Retry-After"] = "2";
    return res;
  }
  if (!checked) {
    v.error_vi = "Tên đăng nhập hoặc mật khẩu không đúng.";
    v.error_en = "The login or password is not correct.";
    return html_page(401, login_html(v));
  }
  auto person = std::move(checked.person);
  // A new cookie at every login (no session fixation); the old one's session ends.
  std::string cookie = new_secret();
  SsoSession s;
  s.sid = new_secret().substr(0, 22);
  s.person = person->id;
  s.created = s.auth_time = s.last_seen = now;
  s.expires = now + cfg_.session_ttl;
  s.amr = "pwd";
  auto written = dir_.write(directory::Actor{person->login}, now, [&](Change& c) -> Status {
    auto f = directory::find_factor(c, person->id);
    s.otp_pending = f && f->confirmed;
    drop_session(c, r.cookie);
    put_session(c, cookie, s);
    c.audit("session.login", person->id.str(), "", "{\"from\":\"" + from + "\",\"amr\":\"pwd\"}");
    return ok_status();
  });
  if (!written) return error_page(500, "Không lưu được phiên đăng nhập.", "The session could not be stored.");
  auto res = web::redirect(s.otp_pending ? web::with_params("/login/otp", {{"return_to", v.return_to}}) : v.return_to);
  res.headers["Set-Cookie"] = set_cookie(cookie, cfg_.session_ttl);
  return res;
}

net::HttpResponse Provider::consent_submit(const Request& r, UnixMs now) {
  if (!r.params_ok || !csrf_ok(r)) return form_expired();
  std::string return_to = r.get("return_to");
  auto q = web::decode_form(web::query_of(return_to));
  if (return_to.rfind("/oidc/authorize?", 0) != 0 || !web::local_path(return_to) || !q)
    return error_page(400, "Yêu cầu không hợp lệ.", "The request is not valid.");
  auto session = dir_.read([&](Snapshot& s) { return find_session(s, r.cookie, now); });
  if (!session) return web::redirect(web::with_params("/login", {{"return_to", return_to}}));
  // A session still waiting for its second factor has not signed anybody in: it records nothing.
  if (session->otp_pending) return web::redirect(web::with_params("/login/otp", {{"return_to", return_to}}));
  auto get = [&](const char* k) { return q->count(k) ? q->at(k) : std::string(); };
  auto client = dir_.read([&](Snapshot& s) { return directory::find_client(s, get("client_id")); });
  if (!client || !contains(client->redirect_uris, get("redirect_uri")))
    return error_page(400, "Ứng dụng hoặc địa chỉ quay lại không hợp lệ.", "Unknown application or redirect URI.");
  if (r.get("decision") != "allow") {
    std::vector<std::pair<std::string, std::string>> p = {{"error", "access_denied"},
                                                          {"error_description", "the person refused consent"}};
    if (!get("state").empty()) p.emplace_back("state", get("state"));
    p.emplace_back("iss", cfg_.issuer);
    return web::redirect(web::with_params(get("redirect_uri"), p));
  }
  auto scopes = directory::split_scope(get("scope"));
  auto written = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
    std::string key = consent_key(session->person, client->id);
    auto old = c.get_raw(directory::schema::consent, key);
    auto all = old ? directory::split_scope(*old) : std::vector<std::string>{};
    for (const auto& s : scopes)
      if (!contains(all, s) && contains(client->scopes, s)) all.push_back(s);
    c.put(directory::schema::consent, key, directory::join_scope(all));
    c.audit("consent.grant", session->person.str(), "", "{\"client\":\"" + client->id + "\"}");
    return ok_status();
  });
  if (!written) return error_page(500, "Không lưu được sự đồng ý.", "The consent could not be stored.");
  return web::redirect(return_to);
}

net::HttpResponse Provider::logout(const Request& r, UnixMs now) {
  if (!r.params_ok) return error_page(400, "Yêu cầu đăng xuất bị lỗi định dạng.", "The sign-out request is malformed.");
  std::string hint = r.get("id_token_hint"), uri = r.get("post_logout_redirect_uri"), client_id = r.get("client_id");
  // The hint names the client and the person; its expiry does not matter (OIDC RP-Initiated
  // Logout 1.0, section 2), its signature does.
  std::string hint_sub;
  if (!hint.empty()) {
    auto parsed = directory::jose::parse_compact(hint);
    auto payload = dir_.read([&](Snapshot& s) -> Result<std::string> {
      if (!parsed) return parsed.error();
      auto key = keys_.verifier(s, parsed->kid, now);
      return directory::jose::verify_compact(hint, [&](const std::string&) { return key.get(); });
    });
    boost::system::error_code ec;
    json::value v = payload ? json::parse(*payload, ec) : json::value();
    if (!payload || ec || !v.is_object() || !v.get_object().contains("aud"))
      return error_page(400, "id_token_hint không hợp lệ.", "The id_token_hint is not valid.");
    const auto& o = v.get_object();
    if (directory::jose::string_claim(o, "iss") != cfg_.issuer)
      return error_page(400, "id_token_hint không hợp lệ.", "The id_token_hint is not ours.");
    std::string aud = directory::jose::string_claim(o, "aud");
    if (!client_id.empty() && client_id != aud)
      return error_page(400, "client_id không khớp với id_token_hint.", "client_id does not match the id_token_hint.");
    client_id = aud;
    hint_sub = directory::jose::string_claim(o, "sub");
  }
  if (!uri.empty()) {
    auto client = dir_.read([&](Snapshot& s) { return directory::find_client(s, client_id); });
    if (!client || !contains(client->post_logout_redirect_uris, uri))
      return error_page(400, "Địa chỉ quay lại sau đăng xuất chưa được đăng ký.",
                        "The post_logout_redirect_uri is not registered for this application.");
  }
  auto session = dir_.read([&](Snapshot& s) { return find_session(s, r.cookie, now); });
  bool confirmed = r.http.method == "POST" && r.get("confirm") == "yes" && csrf_ok(r);
  bool hint_matches = session && !hint_sub.empty() && hint_sub == session->person.str();
  if (session && !confirmed && !hint_matches) {
    LogoutView v{csrf_token(r.cookie), hint, uri, r.get("state"), client_id};
    return html_page(200, logout_confirm_html(v));
  }
  if (session) {
    auto written = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
      drop_session(c, r.cookie);
      // The refresh tokens this session gave end with it.
      directory::end_session_grants(c, session->sid, now + cfg_.refresh_ttl);
      c.audit("session.logout", session->person.str(), "", "{\"sid\":\"" + session->sid + "\"}");
      return ok_status();
    });
    if (!written) return error_page(500, "Không đăng xuất được.", "The sign-out could not be stored.");
    if (logouts_) logouts_->session_ended(*session, "logout", now);
  }
  std::string done;
  if (!uri.empty()) {
    std::vector<std::pair<std::string, std::string>> p;
    if (!r.get("state").empty()) p.emplace_back("state", r.get("state"));
    done = web::with_params(uri, p);
  }
  // SAML service providers of the session are signed out through the browser, one by one.
  if (session && saml_)
    if (auto chain = saml_->logout_chain(*session, done, now)) return std::move(*chain);
  net::HttpResponse res;
  if (!done.empty()) {
    res = web::redirect(done);
  } else {
    res = html_page(200, message_html("Đã đăng xuất", "Signed out", "Bạn đã đăng xuất khỏi Congvu.",
                                      "You have signed out of Congvu."));
  }
  res.headers["Set-Cookie"] = clear_cookie();
  return res;
}

}  // namespace congvu::idp
