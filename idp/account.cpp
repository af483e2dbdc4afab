// Self-service: the account page (password change, app passwords, second factor) and the
// password reset with an HR admin's one-time code.
#include "common/crypto.hpp"
#include "directory/factors.hpp"
#include "idp/provider_impl.hpp"

namespace congvu::idp {

using directory::Change;
using directory::Snapshot;

namespace {

constexpr std::size_t kMinPassword = 10;

// Why a new password is refused, or "" when it is acceptable.
std::pair<std::string, std::string> weak(const std::string& pw, const std::string& again, const directory::Person& p) {
  if (pw != again) return {"Hai mật khẩu mới không giống nhau.", "The two new passwords differ."};
  if (pw.size() < kMinPassword || pw.size() > 1024)
    return {"Mật khẩu mới cần ít nhất 10 ký tự.", "The new password needs at least 10 characters."};
  if (text::ascii_lower(pw) == p.login || text::ascii_lower(pw) == p.address)
    return {"Mật khẩu không được trùng tên đăng nhập.", "The password cannot be the login."};
  return {};
}

}  // namespace

// Ends every SSO session of `person` but the one under `keep_cookie`.
static void drop_other_sessions(Change& c, const PersonId& person, std::string_view keep_cookie) {
  std::string keep = keep_cookie.empty() ? std::string() : secret_key(keep_cookie);
  for (const auto& [key, session] : sessions_of(c, person))
    if (key != keep) erase_session(c, key);
}

net::HttpResponse Provider::account(const Request& r, UnixMs now) {
  auto session = dir_.read([&](Snapshot& s) { return find_session(s, r.cookie, now); });
  if (!session || session->otp_pending) return web::redirect(web::with_params("/login", {{"return_to", "/account"}}));
  bool post = r.http.method == "POST";
  if (post && (!r.params_ok || !csrf_ok(r))) return form_expired();
  AccountView v;
  v.csrf = csrf_token(r.cookie);
  auto person = dir_.read([&](Snapshot& s) { return s.person(session->person); });
  if (!person) return web::redirect("/login");
  int status = 200;
  if (post && r.path == "/account/password") {
    auto [vi, en] = weak(r.get("new"), r.get("confirm"), *person);
    using Checked = directory::LoginThrottle::Checked;
    auto checked = vi.empty() ? throttle_->password(dir_, "account", person->login, r.get("current"), r.http.peer, now, true)
                              : Checked{Checked::ok, 0, std::nullopt};
    if (checked.kind == Checked::throttled || checked.kind == Checked::busy) {
      vi = "Sai mật khẩu quá nhiều lần hoặc máy chủ đang bận. Hãy thử lại sau.";
      en = "Too many wrong passwords, or the server is busy. Try again later.";
      status = checked.kind == Checked::busy ? 503 : 429;
    } else if (!checked) {
      vi = "Mật khẩu hiện tại không đúng.";
      en = "The current password is not correct.";
      status = 401;
    } else if (vi.empty() && r.get("new") == r.get("current")) {
      vi = "Mật khẩu mới phải khác mật khẩu cũ.";
      en = "The new password must differ from the old one.";
    }
    if (vi.empty()) {
      auto done = dir_.write(directory::Actor{person->login}, now, [&](Change& c) -> Status {
        auto st = c.set_password(person->id, r.get("new"));
        if (!st) return st;
        drop_other_sessions(c, person->id, r.cookie);
        // This session proved the new password: it goes on (set_password ended every grant
        // authenticated before now, this session's older refresh tokens included).
        session->auth_time = now;
        put_session(c, r.cookie, *session);
        return ok_status();
      });
      if (!done) return store_failed(done.error());
      v.message_vi = "Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc.";
      v.message_en = "The password was changed. Other sessions were ended.";
    } else {
      v.error_vi = vi;
      v.error_en = en;
      if (status == 200) status = 400;
    }
  } else if (post && r.path == "/account/app-passwords") {
    // An app password opens mail without the second factor, so someone who must use one gets
    // app passwords only from a session that passed it (enrolment included).
    bool needs_otp = dir_.read([&](Snapshot& s) { return s.second_factor_required(*person); });
    if (needs_otp && session->amr.find("otp") == std::string::npos) {
      v.error_vi = "Hãy bật và dùng mã xác thực hai lớp trước khi tạo mật khẩu ứng dụng.";
      v.error_en = "Set up and use your second factor before making app passwords.";
      status = 403;
    } else if (auto made = dir_.write(directory::Actor{person->login}, now, [&](Change& c) {
                 return directory::add_app_password(c, person->id, r.get("name"));
               })) {
      v.new_app_name = r.get("name");
      v.new_app_password = *made;
    } else {
      v.error_vi = made.error().message;
      v.error_en = made.error().message;
      status = 400;
    }
  } else if (post && r.path == "/account/app-passwords/revoke") {
    auto gone = dir_.write(directory::Actor{person->login}, now, [&](Change& c) {
      return directory::remove_app_password(c, person->id, r.get("id"));
    });
    if (gone) {
      v.message_vi = "Đã thu hồi mật khẩu ứng dụng.";
      v.message_en = "The app password was revoked.";
    } else {
      v.error_vi = v.error_en = gone.error().message;
      status = 404;
    }
  } else if (post) {
    return html_page(404, message_html("Không tìm thấy", "Not found", "", ""));
  }
  dir_.read([&](Snapshot& s) {
    v.name = person->full_name;
    v.address = person->address;
    v.position = person->position;
    if (auto u = s.unit(person->unit)) v.unit = u->name;
    auto f = directory::find_factor(s, person->id);
    v.totp = f && f->confirmed;
    for (const auto& a : directory::app_passwords(s, person->id)) v.apps.push_back({a.id, a.name, vn_date(a.created)});
    return 0;
  });
  return html_page(status, account_html(v));
}

net::HttpResponse Provider::reset(const Request& r, UnixMs now) {
  std::string cookie = r.cookie.empty() ? new_secret() : r.cookie;
  ResetView v{csrf_token(cookie), r.get("login"), "", ""};
  auto page = [&](int status) {
    auto res = html_page(status, reset_html(v));
    if (r.cookie.empty()) res.headers["Set-Cookie"] = set_cookie(cookie, cfg_.session_ttl);
    return res;
  };
  if (r.http.method != "POST") return page(200);
  if (!r.params_ok || !csrf_ok(r)) return form_expired();
  const std::string& from = r.http.peer;
  // One answer for an unknown login, an inactive person, a wrong or expired code: nothing here
  // tells who exists. The password rules are applied only once the code is known right (in the
  // same transaction, rolled back when they fail, so the code stays usable).
  auto person = dir_.read([&](Snapshot& s) { return s.resolve(v.login); });
  const std::string who = "reset:" + (person ? person->login : text::ascii_lower(v.login));
  std::pair<std::string, std::string> problem;
  std::optional<Error> store_error;
  auto checked = throttle_->secret("reset", who, from, now, [&]() -> std::optional<bool> {
    if (!person || person->status != directory::PersonStatus::active) return false;
    bool code_right = false;
    auto done = dir_.write(directory::Actor{person->login}, now, [&](Change& c) -> Status {
      if (!directory::consume_reset_code(c, person->id, r.get("code"))) return ok_status();
      code_right = true;
      problem = weak(r.get("new"), r.get("confirm"), *person);
      if (!problem.first.empty()) return make_error(Errc::invalid_argument, "the new password is refused");
      auto st = c.set_password(person->id, r.get("new"));
      if (!st) return st;
      drop_other_sessions(c, person->id, "");
      c.audit("person.password_reset", person->id.str(), "", "{\"from\":\"" + from + "\"}");
      return ok_status();
    });
    if (!done && problem.first.empty()) store_error = done.error();
    return code_right;
  });
  if (checked.kind == directory::LoginThrottle::Checked::throttled) {
    v.error_vi = "Thử quá nhiều lần. Hãy thử lại sau " + wait_seconds(checked.wait) + " giây.";
    v.error_en = "Too many attempts. Try again in " + wait_seconds(checked.wait) + " seconds.";
    auto res = page(429);
    res.headers["Retry-After"] = wait_seconds(checked.wait);
    return res;
  }
  if (store_error) return store_failed(*store_error);
  if (!checked) {
    v.error_vi = "Tên đăng nhập hoặc mã không đúng, hoặc mã đã hết hạn.";
    v.error_en = "The login or the code is wrong, or the code has expired.";
    return page(401);
  }
  if (!problem.first.empty()) {
    v.error_vi = problem.first;
    v.error_en = problem.second;
    return page(400);
  }
  return html_page(200, message_html("Đã đặt mật khẩu mới", "Password set",
                                     "Hãy đăng nhập bằng mật khẩu mới.", "Sign in with the new password."));
}

}  // namespace congvu::idp
