// Every page of the login, the account and the admin console, rendered with the same hostile
// text in every field a person or a request can fill: it must come out escaped everywhere
// (issue 20: the pages are built with Html, whose only way to insert text escapes it).
#include <gtest/gtest.h>

#include <string>

#include "admin/pages.hpp"
#include "idp/pages.hpp"

namespace congvu::test {
namespace {

constexpr const char* kEvil = "\"'><script>x</script>&";
constexpr const char* kEscaped = "&quot;&#39;&gt;&lt;script&gt;x&lt;/script&gt;&amp;";

// The marker never appears raw, and each page shows it escaped `at_least` times.
void expect_escaped(const std::string& page, std::size_t at_least, const char* what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(page.find("<script>x"), std::string::npos);
  EXPECT_EQ(page.find("\"'>"), std::string::npos);
  std::size_t n = 0;
  for (auto at = page.find(kEscaped); at != std::string::npos; at = page.find(kEscaped, at + 1)) ++n;
  EXPECT_GE(n, at_least);
}

TEST(Pages, IdpPagesEscapeEveryField) {
  const std::string e = kEvil;
  expect_escaped(idp::login_html({e, e, e, e, e, e}), 6, "login");
  expect_escaped(idp::consent_html({e, e, e, e, {e, "openid"}}), 5, "consent");
  expect_escaped(idp::message_html(e, e, e, e), 5, "message");
  expect_escaped(idp::logout_confirm_html({e, e, e, e, e}), 5, "logout");
  expect_escaped(idp::otp_html({e, e, e, e}), 4, "otp");
  expect_escaped(idp::enrol_html({e, e, e, e, e, e}), 6, "enrol");
  expect_escaped(idp::recovery_codes_html({e, e}, e), 3, "recovery codes");
  idp::AccountView a{e, e, e, e, e, false, {{e, e, e}}, e, e, e, e, e, e};
  expect_escaped(idp::account_html(a), 15, "account");
  expect_escaped(idp::reset_html({e, e, e, e}), 4, "reset");
}

TEST(Pages, AdminPagesEscapeEveryField) {
  const std::string e = kEvil;
  admin::Frame f{e, e, e, e, e, "search"};
  admin::PersonRow row{e, e, e, e, e, e, e, e};
  admin::AuditRow audit{1, e, e, e, e, e, e, e};
  admin::ScheduledRow sched{2, e, e, e, e, e, e, e, true};

  admin::SearchView s;
  s.q = s.unit = s.unit_name = s.error = s.notice = e;
  s.searched = true;
  s.rows = {row};
  expect_escaped(admin::frame_html(f, admin::search_html(s)), 14, "search");

  admin::PersonView p;
  p.p = row;
  p.p.status = "active";
  p.staff_no = p.gender = p.birth_date = e;
  p.personal = true;
  p.unit_path = p.groups = p.aliases = {e, e};
  p.manager = p.manager_href = p.successor = p.successor_href = p.keep_until = e;
  p.history = {{e, e, e, e, e, e, e, e}};
  p.scheduled = {sched};
  p.audit = {audit};
  p.can_write = true;
  p.csrf = p.today = p.error = p.notice = e;
  p.units = {{e, e}};
  p.form = {"transfer", e, e, e, e, e, e};
  expect_escaped(admin::person_html(p).str(), 40, "person");

  admin::UnitNode leaf{e, e, e, 1, 1, {}};
  expect_escaped(admin::units_html({{e, e, e, 1, 2, {leaf}}}).str(), 4, "units");

  admin::PendingView pv;
  pv.proposals = {{3, e, e, e, e, e, e, e, e, e, true}};
  pv.scheduled = {sched};
  pv.events = {{4, e, e, e, e, e, e, e, e}};
  pv.csrf = pv.notice = pv.error = e;
  expect_escaped(admin::pending_html(pv).str(), 25, "pending");

  admin::AuditView av;
  av.rows = {audit};
  av.csrf = av.problem = e;
  av.verified = true;
  expect_escaped(admin::audit_html(av).str(), 8, "audit");
  expect_escaped(admin::message_html(nullptr, e, e, e, e), 5, "message");
  expect_escaped(admin::message_html(&f, e, e, e, e), 8, "message in frame");
}

}  // namespace
}  // namespace congvu::test
