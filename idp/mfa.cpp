// The second factor in the browser: the TOTP step of the login (/login/otp) and the enrolment
// of an authenticator app (/mfa/enrol) with a QR code from libqrencode and recovery codes.
#include <qrencode.h>

#include "common/crypto.hpp"
#include "directory/factors.hpp"
#include "idp/provider_impl.hpp"

namespace congvu::idp {

using directory::Change;
using directory::Snapshot;

namespace {

constexpr std::string_view kTotpContext = "congvu totp secret";

// The QR code of `text` as an SVG document: one path of unit squares, a 4-module quiet zone.
std::string qr_svg(const std::string& text) {
  QRcode* qr = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (!qr) throw std::runtime_error("cannot make the QR code");
  int n = qr->width, size = n + 8;
  std::string path;
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x)
      if (qr->data[y * n + x] & 1) path += "M" + std::to_string(x + 4) + " " + std::to_string(y + 4) + "h1v1h-1z";
  QRcode_free(qr);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(size) + " " + std::to_string(size) +
         "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" d=\"" +
         path + "\"/></svg>";
}

}  // namespace

net::HttpResponse Provider::otp(const Request& r, UnixMs now) {
  if (!r.params_ok) return form_expired();
  std::string return_to = web::local_path(r.get("return_to")) ? r.get("return_to") : "/";
  auto session = dir_.read([&](Snapshot& s) { return find_session(s, r.cookie, now); });
  if (!session) return web::redirect(web::with_params("/login", {{"return_to", return_to}}));
  OtpView v{csrf_token(r.cookie), return_to, "", ""};
  if (r.http.method != "POST") return html_page(200, otp_html(v));
  if (!csrf_ok(r)) return form_expired();
  const std::string who = dir_.read([&](Snapshot& s) {
    auto p = s.person(session->person);
    return "otp:" + (p ? p->login : session->person.str());
  });
  const std::string& from = r.http.peer;
  if (UnixMs wait = throttle_->wait_ms(who, from, now, "totp"); wait > 0) {
    std::string secs = wait_seconds(wait);
    v.error_vi = "Sai mã quá nhiều lần. Hãy thử lại sau " + secs + " giây.";
    v.error_en = "Too many wrong codes. Try again in " + secs + " seconds.";
    auto res = html_page(429, otp_html(v));
    res.headers["Retry-After"] = secs;
    return res;
  }
  std::string code = r.get("code");
  bool accepted = false;
  auto written = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
    auto f = directory::find_factor(c, session->person);
    if (!f || !f->confirmed) return ok_status();
    auto secret = crypto::open_sealed(cfg_.factor_key, f->totp_sealed, kTotpContext);
    if (!secret) return make_error(Errc::corrupt, "the TOTP secret cannot be opened with this server's key");
    std::string how;
    if (auto step = directory::totp_match(*secret, code, now, f->last_step)) {
      f->last_step = *step;
      how = "totp";
    } else if (directory::use_recovery_code(*f, code)) {
      how = "recovery";
    } else {
      return ok_status();
    }
    accepted = true;
    directory::put_factor(c, session->person, *f);
    session->otp_pending = false;
    session->amr = "pwd otp";
    session->auth_time = now;
    put_session(c, r.cookie, *session);
    c.audit("session.second_factor", session->person.str(), "", "{\"method\":\"" + how + "\"}");
    return ok_status();
  });
  if (!written) return store_failed(written.error());
  if (!accepted) {
    throttle_->failure(who, from, now, "totp");
    v.error_vi = "Mã không đúng hoặc đã dùng.";
    v.error_en = "The code is wrong or was used already.";
    return html_page(401, otp_html(v));
  }
  throttle_->success(who, from, now);
  return web::redirect(return_to);
}

net::HttpResponse Provider::enrol(const Request& r, UnixMs now) {
  if (!r.params_ok) return form_expired();
  std::string return_to = web::local_path(r.get("return_to")) ? r.get("return_to") : "/";
  auto session = dir_.read([&](Snapshot& s) { return find_session(s, r.cookie, now); });
  if (!session || session->otp_pending)
    return web::redirect(web::with_params("/login", {{"return_to", "/mfa/enrol?return_to=" + web::percent_encode(return_to)}}));
  auto person = dir_.read([&](Snapshot& s) { return s.person(session->person); });
  if (!person) return web::redirect("/login");
  bool post = r.http.method == "POST";
  if (post && !csrf_ok(r)) return form_expired();
  // The secret is made once and kept unconfirmed, so that reloading the page shows the same QR.
  std::string secret;
  std::vector<std::string> codes;
  bool confirmed_now = false, already = false;
  std::string code = r.get("code");
  auto written = dir_.write(directory::Actor{person->login}, now, [&](Change& c) -> Status {
    auto f = directory::find_factor(c, session->person);
    if (f && f->confirmed) {
      already = true;
      return ok_status();
    }
    if (!f) {
      f.emplace();
      f->totp_sealed = crypto::seal(cfg_.factor_key, crypto::random_string(20), kTotpContext);
      f->created = now;
      directory::put_factor(c, session->person, *f);
    }
    auto opened = crypto::open_sealed(cfg_.factor_key, f->totp_sealed, kTotpContext);
    if (!opened) return make_error(Errc::corrupt, "the TOTP secret cannot be opened with this server's key");
    secret = *opened;
    if (!post) return ok_status();
    auto step = directory::totp_match(secret, code, now, 0);
    if (!step) return ok_status();
    f->confirmed = true;
    f->last_step = *step;
    codes = directory::make_recovery_codes(f->recovery);
    directory::put_factor(c, session->person, *f);
    session->amr = "pwd otp";
    session->auth_time = now;
    put_session(c, r.cookie, *session);
    c.audit("person.second_factor_enrol", person->id.str(), "", "{\"method\":\"totp\"}");
    confirmed_now = true;
    return ok_status();
  });
  if (!written) return store_failed(written.error());
  if (already) return web::redirect(return_to);
  if (confirmed_now) return html_page(200, recovery_codes_html(codes, return_to));
  EnrolView v;
  v.csrf = csrf_token(r.cookie);
  v.return_to = return_to;
  v.secret_base32 = directory::base32(secret);
  v.qr_svg = crypto::base64_encode(qr_svg(directory::otpauth_uri("Congvu", person->address, secret)));
  if (post) {
    v.error_vi = "Mã không đúng. Kiểm tra đồng hồ điện thoại và nhập mã mới.";
    v.error_en = "The code is not right. Check the phone's clock and enter a fresh code.";
  }
  return html_page(post ? 401 : 200, enrol_html(v));
}

}  // namespace congvu::idp
