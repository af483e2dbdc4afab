// The IdP's HTML: the login page, the consent screen and message pages. Vietnamese first with
// English beside it, no external assets (one stylesheet served by Congvu at /idp/style.css),
// usable at 360 px, labelled form controls, errors announced with role="alert".
// Pure functions, built with Html (common/html.hpp): every value they put into a page is escaped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace congvu::idp {

struct LoginView {
  std::string csrf;
  std::string return_to;   // where to go after login (a path on this server)
  std::string login;       // prefilled
  std::string error_vi, error_en;
  std::string client_name; // the application asking, when known
};
std::string login_html(const LoginView& v);

struct ConsentView {
  std::string csrf, return_to, client_name, person_name;
  std::vector<std::string> scopes;
};
std::string consent_html(const ConsentView& v);

std::string message_html(std::string_view title_vi, std::string_view title_en, std::string_view text_vi,
                         std::string_view text_en);

struct LogoutView {
  std::string csrf, id_token_hint, post_logout_redirect_uri, state, client_id;
};
std::string logout_confirm_html(const LogoutView& v);

struct OtpView {
  std::string csrf, return_to, error_vi, error_en;
};
// The second step of the login: a TOTP code or a recovery code.
std::string otp_html(const OtpView& v);

struct EnrolView {
  std::string csrf, return_to, qr_svg, secret_base32, error_vi, error_en;
};
std::string enrol_html(const EnrolView& v);
std::string recovery_codes_html(const std::vector<std::string>& codes, std::string_view continue_to);

struct AccountView {
  std::string csrf, name, address, unit, position;
  bool totp = false;
  struct App {
    std::string id, name, created;
  };
  std::vector<App> apps;
  std::string new_app_name, new_app_password;  // shown once, right after creation
  std::string message_vi, message_en, error_vi, error_en;
};
// The self-service page: password change, app passwords, second factor.
std::string account_html(const AccountView& v);

struct ResetView {
  std::string csrf, login, error_vi, error_en;
};
// Setting a new password with the one-time code from an HR admin.
std::string reset_html(const ResetView& v);

std::string_view style_css();

}  // namespace congvu::idp
