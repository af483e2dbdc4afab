#include "idp/pages.hpp"

#include "common/html.hpp"

namespace congvu::idp {

namespace {

// Every page: markup from the literals here, every value escaped by Html (common/html.hpp).
std::string page(std::string_view title, const Html& main) {
  Html out("<!doctype html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>");
  out << title
      << " · Congvu</title><link rel=\"stylesheet\" href=\"/idp/style.css\"></head><body>"
         "<header><p class=\"brand\">Congvu · Hệ thống đăng nhập một lần "
         "<span lang=\"en\">(single sign-on)</span></p></header><main>"
      << main
      << "</main><footer><p>Hỗ trợ: liên hệ bộ phận công nghệ thông tin của đơn vị. "
         "<span lang=\"en\">Help: ask your unit's IT staff.</span></p></footer></body></html>\n";
  return std::move(out).str();
}

Html hidden(std::string_view name, std::string_view value) {
  return std::move(Html("<input type=\"hidden\" name=\"") << name << "\" value=\"" << value << "\">");
}

// A bilingual pair: "vi <span lang=en>(en)</span>".
struct Words {
  std::string_view vi, en;
};
const Words* scope_words(std::string_view s) {
  static const std::pair<std::string_view, Words> kScopes[] = {
      {"openid", {"Biết bạn là ai (mã định danh)", "Know who you are (identifier)"}},
      {"profile", {"Họ tên và tên đăng nhập", "Your name and login"}},
      {"email", {"Địa chỉ thư công vụ", "Your official mail address"}},
      {"unit", {"Đơn vị, chức vụ và nhóm", "Your unit, position and groups"}},
      {"offline_access", {"Duy trì truy cập khi bạn không trực tuyến", "Keep access while you are offline"}},
      {"mail", {"Đọc và gửi thư công vụ thay bạn", "Read and send official mail for you"}},
  };
  for (const auto& [name, words] : kScopes)
    if (name == s) return &words;
  return nullptr;
}

Html error_block(std::string_view vi, std::string_view en, std::string_view id) {
  if (vi.empty()) return {};
  return std::move(Html("<p class=\"error\" role=\"alert\" id=\"") << id << "\">" << vi << " <span lang=\"en\">" << en
                                                                    << "</span></p>");
}

// The code field of the second step and of the enrolment; `error_id` is the error block it refers to.
Html code_input(bool has_error, std::string_view error_id) {
  Html h("<div class=\"field\"><label for=\"code\">Mã xác thực <span lang=\"en\">(code)</span></label>"
         "<input id=\"code\" name=\"code\" type=\"text\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
         "autocapitalize=\"none\" spellcheck=\"false\" required autofocus maxlength=\"12\"");
  if (has_error) h << " aria-describedby=\"" << error_id << "\"";
  return std::move(h << "></div>");
}

Html password_field(std::string_view id, std::string_view vi, std::string_view en, std::string_view autocomplete) {
  return std::move(Html("<div class=\"field\"><label for=\"")
                   << id << "\">" << vi << " <span lang=\"en\">(" << en << ")</span></label><input id=\"" << id
                   << "\" name=\"" << id << "\" type=\"password\" autocomplete=\"" << autocomplete << "\" required></div>");
}

Html new_password_fields() {
  return std::move(Html() << password_field("new", "Mật khẩu mới, ít nhất 10 ký tự", "new password, at least 10 characters",
                                            "new-password")
                          << password_field("confirm", "Nhập lại mật khẩu mới", "new password again", "new-password"));
}

}  // namespace

std::string login_html(const LoginView& v) {
  Html m("<h1>Đăng nhập <span lang=\"en\">· Sign in</span></h1>");
  if (!v.client_name.empty())
    m << "<p>Để tiếp tục vào <strong>" << v.client_name << "</strong>. <span lang=\"en\">To continue to " << v.client_name
      << ".</span></p>";
  if (!v.error_vi.empty())
    m << "<p class=\"error\" role=\"alert\" id=\"login-error\">" << v.error_vi << " <span lang=\"en\">" << v.error_en
      << "</span></p>";
  Html described = v.error_vi.empty() ? Html() : Html(" aria-describedby=\"login-error\"");
  m << "<form method=\"post\" action=\"/login\">" << hidden("csrf", v.csrf) << hidden("return_to", v.return_to)
    << "<div class=\"field\"><label for=\"login\">Tên đăng nhập hoặc địa chỉ thư "
       "<span lang=\"en\">(login or mail address)</span></label>"
       "<input id=\"login\" name=\"login\" type=\"text\" autocomplete=\"username\" autocapitalize=\"none\" "
       "spellcheck=\"false\" required"
    << described << " value=\"" << v.login << "\"" << (v.login.empty() ? Html(" autofocus") : Html())
    << "></div>"
       "<div class=\"field\"><label for=\"password\">Mật khẩu <span lang=\"en\">(password)</span></label>"
       "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required"
    << described << (v.login.empty() ? Html() : Html(" autofocus"))
    << "></div>"
       "<button type=\"submit\">Đăng nhập <span lang=\"en\">· Sign in</span></button></form>"
       "<p><a href=\"/login/reset\">Quên mật khẩu? <span lang=\"en\">Forgot the password?</span></a></p>";
  return page("Đăng nhập", m);
}

std::string consent_html(const ConsentView& v) {
  Html m("<h1>Cho phép truy cập <span lang=\"en\">· Allow access</span></h1><p><strong>");
  m << v.client_name << "</strong> muốn dùng tài khoản của " << v.person_name
    << ". <span lang=\"en\">wants to use this account.</span></p><ul>";
  for (const auto& s : v.scopes) {
    m << "<li>";
    if (const Words* w = scope_words(s))
      m << w->vi << " <span lang=\"en\">(" << w->en << ")</span>";
    else
      m << s;
    m << "</li>";
  }
  m << "</ul><form method=\"post\" action=\"/consent\">" << hidden("csrf", v.csrf) << hidden("return_to", v.return_to)
    << "<div class=\"buttons\"><button type=\"submit\" name=\"decision\" value=\"allow\">Cho phép "
       "<span lang=\"en\">· Allow</span></button>"
       "<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Từ chối "
       "<span lang=\"en\">· Deny</span></button></div></form>";
  return page("Cho phép truy cập", m);
}

std::string message_html(std::string_view title_vi, std::string_view title_en, std::string_view text_vi,
                         std::string_view text_en) {
  Html m("<h1>");
  m << title_vi << " <span lang=\"en\">· " << title_en << "</span></h1><p>" << text_vi << "</p><p lang=\"en\">" << text_en
    << "</p>";
  return page(title_vi, m);
}

std::string logout_confirm_html(const LogoutView& v) {
  Html m("<h1>Đăng xuất <span lang=\"en\">· Sign out</span></h1>"
         "<p>Đăng xuất khỏi mọi ứng dụng dùng tài khoản này? "
         "<span lang=\"en\">Sign out of every application using this account?</span></p>"
         "<form method=\"post\" action=\"/oidc/logout\">");
  m << hidden("csrf", v.csrf) << hidden("confirm", "yes");
  if (!v.id_token_hint.empty()) m << hidden("id_token_hint", v.id_token_hint);
  if (!v.post_logout_redirect_uri.empty()) m << hidden("post_logout_redirect_uri", v.post_logout_redirect_uri);
  if (!v.state.empty()) m << hidden("state", v.state);
  if (!v.client_id.empty()) m << hidden("client_id", v.client_id);
  m << "<button type=\"submit\">Đăng xuất <span lang=\"en\">· Sign out</span></button></form>";
  return page("Đăng xuất", m);
}

std::string otp_html(const OtpView& v) {
  Html m("<h1>Xác thực hai bước <span lang=\"en\">· Two-step verification</span></h1>"
         "<p>Nhập mã 6 chữ số trong ứng dụng xác thực trên điện thoại, hoặc một mã dự phòng. "
         "<span lang=\"en\">Enter the 6-digit code from your authenticator app, or a recovery code.</span></p>");
  m << error_block(v.error_vi, v.error_en, "otp-error") << "<form method=\"post\" action=\"/login/otp\">"
    << hidden("csrf", v.csrf) << hidden("return_to", v.return_to) << code_input(!v.error_vi.empty(), "otp-error")
    << "<button type=\"submit\">Xác nhận <span lang=\"en\">· Verify</span></button></form>";
  return page("Xác thực hai bước", m);
}

std::string enrol_html(const EnrolView& v) {
  Html m("<h1>Bật xác thực hai bước <span lang=\"en\">· Set up two-step verification</span></h1>"
         "<p>Tài khoản này cần xác thực hai bước. Quét mã QR bằng ứng dụng xác thực (ví dụ FreeOTP, "
         "Google Authenticator), rồi nhập mã 6 chữ số hiện ra. "
         "<span lang=\"en\">This account needs two-step verification. Scan the QR code with an "
         "authenticator app, then enter the 6-digit code it shows.</span></p>"
         "<p class=\"qr\"><img width=\"220\" height=\"220\" alt=\"Mã QR để thêm tài khoản vào ứng dụng xác thực "
         "(QR code for the authenticator app)\" src=\"data:image/svg+xml;base64,");
  // Base64 has no character that escaping changes; escaped anyway, so nothing else gets in.
  m << v.qr_svg
    << "\"></p>"
       "<p>Không quét được? Nhập khóa này: <span lang=\"en\">Cannot scan? Enter this key:</span> "
       "<code class=\"secret\">"
    << v.secret_base32 << "</code></p>" << error_block(v.error_vi, v.error_en, "enrol-error")
    << "<form method=\"post\" action=\"/mfa/enrol\">" << hidden("csrf", v.csrf) << hidden("return_to", v.return_to)
    << code_input(!v.error_vi.empty(), "enrol-error")
    << "<button type=\"submit\">Bật <span lang=\"en\">· Turn on</span></button></form>";
  return page("Bật xác thực hai bước", m);
}

std::string recovery_codes_html(const std::vector<std::string>& codes, std::string_view continue_to) {
  Html m("<h1>Mã dự phòng <span lang=\"en\">· Recovery codes</span></h1>"
         "<p>Xác thực hai bước đã bật. Hãy lưu các mã dự phòng này ở nơi an toàn: mỗi mã dùng được một lần "
         "khi không có điện thoại. Chúng chỉ hiện một lần. "
         "<span lang=\"en\">Two-step verification is on. Keep these codes somewhere safe: each works once "
         "when you do not have your phone. They are shown only now.</span></p><ul class=\"codes\">");
  for (const auto& c : codes) m << "<li><code>" << c << "</code></li>";
  m << "</ul><p><a class=\"button\" href=\"" << continue_to
    << "\">Tiếp tục <span lang=\"en\">· Continue</span></a></p>";
  return page("Mã dự phòng", m);
}

std::string account_html(const AccountView& v) {
  Html m("<h1>Tài khoản <span lang=\"en\">· Account</span></h1><p><strong>");
  m << v.name << "</strong><br>" << v.address << "<br>" << v.position;
  if (!v.unit.empty()) m << ", " << v.unit;
  m << "</p>";
  if (!v.message_vi.empty())
    m << "<p class=\"notice\" role=\"status\">" << v.message_vi << " <span lang=\"en\">" << v.message_en << "</span></p>";
  m << error_block(v.error_vi, v.error_en, "account-error");
  if (!v.new_app_password.empty())
    m << "<p class=\"notice\" role=\"status\">Mật khẩu ứng dụng cho <strong>" << v.new_app_name
      << "</strong> (chỉ hiện một lần): <span lang=\"en\">App password (shown once):</span> <code class=\"secret\">"
      << v.new_app_password << "</code></p>";
  m << "<h2>Đổi mật khẩu <span lang=\"en\">· Change password</span></h2>"
       "<form method=\"post\" action=\"/account/password\">"
    << hidden("csrf", v.csrf) << password_field("current", "Mật khẩu hiện tại", "current password", "current-password")
    << new_password_fields() << "<button type=\"submit\">Đổi mật khẩu <span lang=\"en\">· Change</span></button></form>";
  m << "<h2>Mật khẩu ứng dụng <span lang=\"en\">· App passwords</span></h2>"
       "<p>Cho ứng dụng thư (Thunderbird, Outlook, điện thoại): mỗi thiết bị một mật khẩu, thu hồi được. "
       "<span lang=\"en\">For mail apps: one per device, revocable.</span></p>";
  if (!v.apps.empty()) {
    m << "<ul class=\"apps\">";
    for (const auto& a : v.apps)
      m << "<li><form method=\"post\" action=\"/account/app-passwords/revoke\">" << hidden("csrf", v.csrf)
        << hidden("id", a.id) << a.name << " <span class=\"muted\">(" << a.created
        << ")</span> <button type=\"submit\" class=\"secondary\" aria-label=\"Thu hồi " << a.name
        << " (revoke)\">Thu hồi <span lang=\"en\">· Revoke</span></button></form></li>";
    m << "</ul>";
  }
  m << "<form method=\"post\" action=\"/account/app-passwords\">" << hidden("csrf", v.csrf)
    << "<div class=\"field\"><label for=\"app-name\">Tên thiết bị <span lang=\"en\">(device name)</span></label>"
       "<input id=\"app-name\" name=\"name\" type=\"text\" maxlength=\"100\" required></div>"
       "<button type=\"submit\">Tạo <span lang=\"en\">· Create</span></button></form>";
  m << "<h2>Xác thực hai bước <span lang=\"en\">· Two-step verification</span></h2>";
  if (v.totp)
    m << "<p>Đang bật. <span lang=\"en\">On.</span></p>";
  else
    m << "<p>Chưa bật. <span lang=\"en\">Off.</span> <a href=\"/mfa/enrol?return_to=%2Faccount\">Bật "
         "<span lang=\"en\">· Turn on</span></a></p>";
  m << "<p><a href=\"/oidc/logout\">Đăng xuất <span lang=\"en\">· Sign out</span></a></p>";
  return page("Tài khoản", m);
}

std::string reset_html(const ResetView& v) {
  Html m("<h1>Đặt lại mật khẩu <span lang=\"en\">· Reset password</span></h1>"
         "<p>Nhập mã một lần do cán bộ tổ chức của đơn vị cấp, và mật khẩu mới. "
         "<span lang=\"en\">Enter the one-time code from your unit's HR officer, and a new password.</span></p>");
  m << error_block(v.error_vi, v.error_en, "reset-error") << "<form method=\"post\" action=\"/login/reset\">"
    << hidden("csrf", v.csrf)
    << "<div class=\"field\"><label for=\"login\">Tên đăng nhập hoặc địa chỉ thư "
       "<span lang=\"en\">(login or mail address)</span></label><input id=\"login\" name=\"login\" "
       "type=\"text\" autocomplete=\"username\" autocapitalize=\"none\" required value=\""
    << v.login
    << "\"></div><div class=\"field\"><label for=\"code\">Mã một lần <span lang=\"en\">(one-time code)</span>"
       "</label><input id=\"code\" name=\"code\" type=\"text\" autocomplete=\"off\" autocapitalize=\"none\" "
       "required></div>"
    << new_password_fields() << "<button type=\"submit\">Đặt mật khẩu <span lang=\"en\">· Set password</span></button></form>";
  return page("Đặt lại mật khẩu", m);
}

std::string_view style_css() {
  return R"css(*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;font-size:100%;line-height:1.5;color:#1b1b1b;background:#f4f5f7}
body{margin:0}
header{background:#9b1c1c;color:#fff;padding:.75rem 1rem}
.brand{margin:0;font-weight:600}
main{max-width:28rem;margin:1.5rem auto;padding:1.25rem;background:#fff;border:1px solid #d0d4da;border-radius:.5rem}
h1{font-size:1.4rem;margin:0 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.notice{background:#ecfdf3;border-left:4px solid #166534;padding:.5rem .75rem}
.muted{color:#4a4f57}
ul.apps{list-style:none;padding:0}
ul.apps li{margin:.5rem 0}
[lang=en]{color:#4a4f57}
h1 [lang=en],button [lang=en],header [lang=en]{color:inherit;font-weight:400}
.field{margin-bottom:1rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
input[type=text],input[type=password]{width:100%;font-size:1rem;padding:.6rem;border:1px solid #6b7280;border-radius:.3rem}
input:focus,button:focus{outline:3px solid #1d4ed8;outline-offset:2px}
button{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:.3rem;background:#1d4ed8;color:#fff;cursor:pointer;min-height:2.75rem}
button.secondary{background:#fff;color:#1b1b1b;border:1px solid #6b7280}
.buttons{display:flex;flex-wrap:wrap;gap:.75rem}
.error{background:#fdecec;border-left:4px solid #9b1c1c;padding:.5rem .75rem;color:#7f1d1d}
.error [lang=en]{color:#7f1d1d}
.qr img{display:block;max-width:100%;height:auto;background:#fff}
code.secret{word-break:break-all;font-size:1rem}
.codes{columns:2;padding-left:1.25rem}
a.button{display:inline-block;padding:.6rem 1.2rem;border-radius:.3rem;background:#1d4ed8;color:#fff;text-decoration:none}
a.button [lang=en]{color:inherit}
footer{max-width:28rem;margin:0 auto 2rem;padding:0 1.25rem;font-size:.875rem;color:#4a4f57}
)css";
}

}  // namespace congvu::idp
