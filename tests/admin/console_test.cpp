// The admin console on the in-memory demo province: sessions (encoding, expiry, the SSO link),
// the sign-in redirects, scoping, the change forms' validation (refusals write nothing), and
// escaping of everything reflected.
#include <gtest/gtest.h>

#include "admin/pages.hpp"
#include "common/codec.hpp"
#include "common/web.hpp"
#include "tests/support/console_world.hpp"

namespace congvu {
namespace {

using test::ConsoleWorld;
constexpr UnixMs kNow = ConsoleWorld::kNow;
constexpr UnixMs kMinute = 60 * 1000;

std::string location(const net::HttpResponse& r) { return r.headers.count("Location") ? r.headers.at("Location") : ""; }
std::string set_cookie(const net::HttpResponse& r) { return r.headers.count("Set-Cookie") ? r.headers.at("Set-Cookie") : ""; }

TEST(AdminSession, EncodingRoundTripsAndRejectsGarbage) {
  admin::ConsoleSession s{*PersonId::parse("01a201c4-02f0-7427-b753-f65633c1344b"), std::string(32, 'k'), "sid", "pwd otp",
                          1, 2, 3};
  auto back = admin::decode_session(admin::encode(s));
  EXPECT_EQ(back.person, s.person);
  EXPECT_EQ(back.sso_key, s.sso_key);
  EXPECT_EQ(back.amr, "pwd otp");
  EXPECT_EQ(back.expires, 3);
  EXPECT_THROW(admin::decode_session("\x01garbage"), codec::DecodeError);
  EXPECT_THROW(admin::decode_session(admin::encode(s) + "x"), codec::DecodeError);
  EXPECT_NE(admin::session_key("S.a"), admin::session_key("S.b"));
}

TEST(AdminSession, EndsWhenIdleExpiredOrTheSsoSessionEnds) {
  ConsoleWorld cw;
  auto find = [&](UnixMs at) {
    return cw.w.dir->read([&](directory::Snapshot& s) { return admin::find_console_session(s, cw.cookie, at, 30 * kMinute); });
  };
  EXPECT_TRUE(find(kNow + kMinute));
  EXPECT_FALSE(find(kNow + 30 * kMinute));  // idle
  EXPECT_FALSE(cw.w.dir->read([&](directory::Snapshot& s) { return admin::find_console_session(s, "S.other", kNow, 30 * kMinute); }));
  // A request refreshes last_seen (at most once a minute), so activity keeps it alive.
  ASSERT_EQ(cw.console->handle(cw.get("/admin"), kNow + 20 * kMinute)->status, 200);
  EXPECT_TRUE(find(kNow + 45 * kMinute));
  EXPECT_EQ(cw.console->handle(cw.get("/admin"), kNow + 60 * kMinute)->status, 303);  // idle again
  // Signing out of the IdP ends the console's session.
  ConsoleWorld cw2;
  ASSERT_TRUE(cw2.w.dir->write(directory::Actor{"t"}, kNow, [&](directory::Change& c) -> Status {
    idp::drop_session(c, cw2.sso_cookie);
    return ok_status();
  }));
  auto r = cw2.console->handle(cw2.get("/admin"), kNow + kMinute);
  EXPECT_EQ(r->status, 303);
  EXPECT_EQ(location(*r).rfind("/admin/login?return_to=%2Fadmin", 0), 0u) << location(*r);
  // sweep() drops expired sessions only.
  ASSERT_TRUE(cw.w.dir->write(directory::Actor{"t"}, kNow + 9LL * 3600 * 1000, [&](directory::Change& c) -> Status {
    admin::sweep(c, kNow + 9LL * 3600 * 1000, 30 * kMinute);
    return ok_status();
  }));
  EXPECT_FALSE(cw.w.dir->read([&](directory::Snapshot& s) { return s.get_raw(directory::schema::admin_session, admin::session_key(cw.cookie)).has_value(); }));
}

TEST(AdminConsole, RoutesAndSignInRedirects) {
  ConsoleWorld cw;
  EXPECT_FALSE(cw.console->handle(cw.get("/administrator"), kNow));
  EXPECT_FALSE(cw.console->handle(cw.get("/oidc/authorize"), kNow));
  auto css = cw.console->handle(cw.get("/admin/style.css"), kNow);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");

  // No session: a GET goes to the sign-in, keeping where it was going; a POST is refused.
  auto r = cw.console->handle(cw.get("/admin/person/x?y=1", "S.nobody"), kNow);
  EXPECT_EQ(r->status, 303);
  EXPECT_EQ(location(*r), "/admin/login?return_to=%2Fadmin%2Fperson%2Fx%3Fy%3D1");
  auto p = cw.post("/admin/person/x", "csrf=" + cw.csrf);
  p.headers["cookie"] = "__Host-congvu-admin=S.nobody";
  EXPECT_EQ(cw.console->handle(p, kNow)->status, 403);

  // /admin/login: a cookie with the secret, and the authorize request derived from it.
  r = cw.console->handle(cw.get("/admin/login?return_to=%2F%2Fevil.example", "none"), kNow);
  ASSERT_EQ(r->status, 303);
  auto loc = location(*r);
  EXPECT_EQ(loc.rfind("/oidc/authorize?", 0), 0u);
  auto q = web::decode_form(web::query_of(loc));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->at("client_id"), "congvu-admin");
  EXPECT_EQ(q->at("redirect_uri"), "https://sso.test/admin/callback");
  EXPECT_EQ(q->at("code_challenge_method"), "S256");
  EXPECT_EQ(q->at("code_challenge").size(), 43u);
  EXPECT_FALSE(q->at("state").empty());
  auto ck = set_cookie(*r);
  EXPECT_EQ(ck.rfind("__Host-congvu-admin=L.", 0), 0u);
  EXPECT_NE(ck.find("Secure; HttpOnly; SameSite=Lax"), std::string::npos);
  std::string login_cookie = ck.substr(20, ck.find(';') - 20);
  EXPECT_EQ(login_cookie.find(q->at("state")), std::string::npos);  // the state is not the secret
  // The return path `//evil.example` was replaced by /admin (base64url "L2FkbWlu").
  EXPECT_NE(login_cookie.find(".L2FkbWlu"), std::string::npos) << login_cookie;

  // The callback: a state that does not match the cookie, or no cookie, is refused.
  auto cb = cw.console->handle(cw.get("/admin/callback?code=x&state=wrong", login_cookie), kNow);
  EXPECT_EQ(cb->status, 400);
  EXPECT_EQ(set_cookie(*cb).rfind("__Host-congvu-admin=;", 0), 0u);
  cb = cw.console->handle(cw.get("/admin/callback?code=x&state=" + web::percent_encode(q->at("state")), login_cookie), kNow);
  EXPECT_EQ(cb->status, 400);  // the right state, but the code is not valid
  EXPECT_NE(cb->body.find("the code is not valid"), std::string::npos);
  // The IdP knows the console as a public, first-party client with a second factor required.
  auto client = cw.w.dir->read([](directory::Snapshot& s) { return directory::find_client(s, "congvu-admin"); });
  ASSERT_TRUE(client);
  EXPECT_FALSE(client->confidential);
  EXPECT_TRUE(client->first_party && client->require_mfa);
  // Registering again with the same issuer writes nothing; a new issuer corrects the URI.
  auto head = cw.audit_head();
  ASSERT_TRUE(admin::Console::register_client(*cw.w.dir, "https://sso.test", kNow));
  EXPECT_EQ(cw.audit_head(), head);
  ASSERT_TRUE(admin::Console::register_client(*cw.w.dir, "https://new.test", kNow));
  client = cw.w.dir->read([](directory::Snapshot& s) { return directory::find_client(s, "congvu-admin"); });
  EXPECT_EQ(client->redirect_uris, std::vector<std::string>{"https://new.test/admin/callback"});
}

TEST(AdminConsole, SearchIsScopedAndDiacriticInsensitive) {
  ConsoleWorld hr;  // hr-admin of Sở Nội vụ
  auto r = hr.console->handle(hr.get("/admin?q=nguyen+van+an"), kNow);
  ASSERT_EQ(r->status, 200);
  auto an2 = hr.person("annv2"), an = hr.person("annv");
  EXPECT_NE(r->body.find("/admin/person/" + an2.id.str()), std::string::npos);
  EXPECT_EQ(r->body.find("/admin/person/" + an.id.str()), std::string::npos);
  EXPECT_EQ(hr.console->handle(hr.get("/admin/person/" + an.id.str()), kNow)->status, 403);
  EXPECT_EQ(hr.console->handle(hr.get("/admin?unit=000.00.03.H99"), kNow)->status, 403);
  EXPECT_EQ(hr.console->handle(hr.get("/admin?unit=999"), kNow)->status, 404);
  EXPECT_EQ(hr.console->handle(hr.get("/admin/person/not-an-id"), kNow)->status, 404);

  ConsoleWorld top("annv", directory::Role::province_admin, "000.00.00.H99");
  r = top.console->handle(top.get("/admin?q=NGUY%E1%BB%84N+V%C4%82N+AN"), kNow);  // "NGUYỄN VĂN AN"
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("/admin/person/" + top.person("annv2").id.str()), std::string::npos);  // another world: other ids
  EXPECT_NE(r->body.find("/admin/person/" + top.person("annv").id.str()), std::string::npos);
  // The unit tree: the whole province for a province admin, one subtree for the HR admin.
  auto units = top.console->handle(top.get("/admin/units"), kNow)->body;
  EXPECT_NE(units.find("Ủy ban nhân dân tỉnh Mẫu"), std::string::npos);
  EXPECT_NE(units.find("20 cả đơn vị trực thuộc"), std::string::npos);
  units = hr.console->handle(hr.get("/admin/units"), kNow)->body;
  EXPECT_EQ(units.find("Ủy ban nhân dân tỉnh Mẫu"), std::string::npos);
  EXPECT_NE(units.find("6 cả đơn vị trực thuộc"), std::string::npos);
}

TEST(AdminConsole, ChangesAreValidatedScopedAndAudited) {
  ConsoleWorld cw;
  auto an2 = cw.person("annv2");
  std::string path = "/admin/person/" + an2.id.str();
  auto form = [&](const std::string& fields) { return "csrf=" + web::percent_encode(cw.csrf) + "&from=000.02.02.H99&" + fields; };
  auto head = cw.audit_head();
  struct Bad {
    std::string fields;
    int status;
  };
  for (const auto& b : std::vector<Bad>{{"action=transfer&to_unit=000.00.03.H99", 400},
                                        {"action=transfer&to_unit=000.00.03.H99&decision=1&date=2026-13-01", 400},
                                        {"action=transfer&to_unit=123&decision=1", 404},
                                        {"action=appointment&decision=1", 400},
                                        {"action=hire&decision=1", 400},
                                        {"action=fly&decision=1", 400},
                                        {"action=retire&decision=1&successor=nobody", 404}}) {
    auto r = cw.console->handle(cw.post(path, form(b.fields)), kNow);
    EXPECT_EQ(r->status, b.status) << b.fields;
    EXPECT_NE(r->body.find("role=\"alert\""), std::string::npos) << b.fields;
  }
  // The unit the admin saw is not the unit now: refused, not overridden.
  auto stale = cw.post(path, "csrf=" + web::percent_encode(cw.csrf) + "&from=000.01.02.H99&action=transfer&to_unit=000.01.02.H99&decision=1");
  EXPECT_EQ(cw.console->handle(stale, kNow)->status, 409);
  // CSRF: missing, wrong, or from another site.
  EXPECT_EQ(cw.console->handle(cw.post(path, "action=transfer&to_unit=000.00.03.H99&decision=1"), kNow)->status, 403);
  auto foreign = cw.post(path, form("action=transfer&to_unit=000.00.03.H99&decision=1"));
  foreign.headers["origin"] = "https://evil.example";
  EXPECT_EQ(cw.console->handle(foreign, kNow)->status, 403);
  auto wrong_type = cw.post(path, form("action=transfer&to_unit=000.00.03.H99&decision=1"));
  wrong_type.headers["content-type"] = "text/plain";
  EXPECT_EQ(cw.console->handle(wrong_type, kNow)->status, 415);
  EXPECT_EQ(cw.audit_head(), head);  // nothing written by any refusal
  EXPECT_EQ(cw.person("annv2").unit, "000.02.02.H99");

  // Out of scope: the director of another department.
  auto other = cw.person("annv");
  auto r = cw.console->handle(cw.post("/admin/person/" + other.id.str(),
                                      "csrf=" + web::percent_encode(cw.csrf) + "&from=000.00.01.H99&action=suspend"), kNow);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(cw.audit_head(), head);

  // A later date is scheduled; today's applies; both audited as the admin.
  r = cw.console->handle(cw.post(path, form("action=appointment&position=Chuy%C3%AAn+vi%C3%AAn&decision=2%2FQ%C4%90&date=2099-01-01")), kNow);
  ASSERT_EQ(r->status, 303);
  EXPECT_NE(location(*r).find("n="), std::string::npos);
  EXPECT_EQ(cw.person("annv2").position, "Văn thư");
  auto page = cw.console->handle(cw.get(path), kNow)->body;
  EXPECT_NE(page.find("2099-01-01"), std::string::npos);
  // A transfer into a unit outside the admin's scope becomes a proposal: only an administrator
  // over the target may place people there (its official inbox, its role address).
  r = cw.console->handle(cw.post(path, form("action=transfer&to_unit=000.00.03.H99&decision=3%2FQ%C4%90")), kNow);
  ASSERT_EQ(r->status, 303);
  EXPECT_NE(location(*r).find("done=proposed"), std::string::npos) << location(*r);
  EXPECT_EQ(cw.person("annv2").unit, "000.02.02.H99");
  auto proposal_page = cw.console->handle(cw.get("/admin/pending"), kNow)->body;
  EXPECT_NE(proposal_page.find("Rút đề nghị"), std::string::npos) << "the proposer may withdraw it";
  EXPECT_EQ(proposal_page.find("value=\"accept\""), std::string::npos) << "but not accept it";
  // Withdrawn, so that the direct transfer below is the only change.
  auto n = std::to_string(cw.w.dir->read([](directory::Snapshot& s) { return directory::proposals(s).at(0).number; }));
  r = cw.console->handle(cw.post("/admin/pending", "csrf=" + web::percent_encode(cw.csrf) + "&proposal=" + n + "&decide=refuse"), kNow);
  EXPECT_EQ(r->status, 303);
  EXPECT_TRUE(cw.w.dir->read([](directory::Snapshot& s) { return directory::proposals(s).empty(); }));
  r = cw.console->handle(cw.post(path, form("action=transfer&to_unit=000.01.02.H99&decision=3%2FQ%C4%90&reason=chuy%E1%BB%83n")), kNow);
  ASSERT_EQ(r->status, 303);
  auto moved = cw.person("annv2");
  EXPECT_EQ(moved.unit, "000.01.02.H99");
  EXPECT_EQ(moved.address, an2.address);
  auto log = cw.w.dir->read([&](directory::Snapshot& s) { return s.audit_log(an2.id.str(), 10); });
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back().actor, "admin:hapt");
  EXPECT_EQ(log.back().reason, "3/QĐ");
}

TEST(AdminConsole, EverythingReflectedIsEscaped) {
  ConsoleWorld cw;
  auto r = cw.console->handle(cw.get("/admin?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22"), kNow);
  EXPECT_EQ(r->body.find("<script"), std::string::npos);
  EXPECT_NE(r->body.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;"), std::string::npos);
  auto an2 = cw.person("annv2");
  r = cw.console->handle(cw.post("/admin/person/" + an2.id.str(), "csrf=" + web::percent_encode(cw.csrf) +
                                                                      "&action=transfer&to_unit=%22%3E%3Cimg+src%3Dx%3E&reason=%3Cb%3E"),
                         kNow);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body.find("<img"), std::string::npos);
  EXPECT_EQ(r->body.find("<b>"), std::string::npos);
  EXPECT_NE(r->body.find("&lt;b&gt;</textarea>"), std::string::npos);
  EXPECT_EQ(r->headers.at("Cache-Control"), "no-store");
  EXPECT_NE(r->headers.at("Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(admin::vn_time(0), "1970-01-01 07:00");
}

// Decree 13/2023: an auditor reads the audit trail with staff numbers masked; the admin who
// manages the person sees them.
TEST(AdminConsole, AuditViewMasksStaffNumbersForAuditors) {
  ConsoleWorld aud("hapt", directory::Role::auditor, "000.00.00.H99");
  auto page = aud.console->handle(aud.get("/admin/audit"), kNow);
  ASSERT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("person.import"), std::string::npos);
  EXPECT_EQ(page->body.find("DM0007"), std::string::npos);
  EXPECT_NE(page->body.find("&quot;staff_no&quot;:&quot;***&quot;"), std::string::npos);
  ConsoleWorld hr;  // hr-admin of Sở Nội vụ, who manages DM0007
  auto mine = hr.console->handle(hr.get("/admin/person/" + hr.person("annv2").id.str()), kNow);
  ASSERT_EQ(mine->status, 200);
  EXPECT_NE(mine->body.find("&quot;staff_no&quot;:&quot;DM0007&quot;"), std::string::npos);
}

TEST(AdminConsole, PendingAndAudit) {
  ConsoleWorld cw;
  auto an2 = cw.person("annv2");
  auto form = "csrf=" + web::percent_encode(cw.csrf) + "&from=000.02.02.H99&action=suspend&date=2099-05-05&reason=x";
  ASSERT_EQ(cw.console->handle(cw.post("/admin/person/" + an2.id.str(), form), kNow)->status, 303);
  auto page = cw.console->handle(cw.get("/admin/pending"), kNow)->body;
  EXPECT_NE(page.find("2099-05-05"), std::string::npos);
  EXPECT_NE(page.find("name=\"cancel\" value=\"1\""), std::string::npos);
  auto r = cw.console->handle(cw.post("/admin/pending", "csrf=" + web::percent_encode(cw.csrf) + "&cancel=99&return_to=/admin/pending"), kNow);
  EXPECT_EQ(r->status, 404);
  r = cw.console->handle(cw.post("/admin/pending", "csrf=" + web::percent_encode(cw.csrf) + "&cancel=1&return_to=%2F%2Fevil"), kNow);
  EXPECT_EQ(r->status, 303);
  EXPECT_EQ(location(*r), "/admin?done=cancelled");  // an outside return path is not followed
  EXPECT_EQ(cw.console->handle(cw.get("/admin/pending"), kNow)->body.find("2099-05-05"), std::string::npos);
  // The audit view: records in scope (the suspension scheduled for annv2), verification.
  auto audit = cw.console->handle(cw.get("/admin/audit"), kNow)->body;
  EXPECT_NE(audit.find("/admin/person/" + an2.id.str()), std::string::npos);
  EXPECT_EQ(audit.find("client.add"), std::string::npos);  // not a person or unit of the admin's
  auto verified = cw.console->handle(cw.post("/admin/audit", "csrf=" + web::percent_encode(cw.csrf)), kNow)->body;
  EXPECT_NE(verified.find("Chuỗi nhật ký toàn vẹn"), std::string::npos);
  // Sign-out: the session is gone, the IdP's logout comes next.
  r = cw.console->handle(cw.post("/admin/logout", "csrf=" + web::percent_encode(cw.csrf)), kNow);
  EXPECT_EQ(r->status, 303);
  EXPECT_EQ(location(*r).rfind("/oidc/logout?", 0), 0u);
  EXPECT_EQ(cw.console->handle(cw.get("/admin"), kNow)->status, 303);
}

}  // namespace
}  // namespace congvu
