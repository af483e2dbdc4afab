// The token service driven through Provider::handle() on both stores, with a fixed clock: the
// browser steps (login form with CSRF, authorize), the code exchange with PKCE, refresh
// rotation and reuse detection, code replay, and the expiry of codes.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>

#include "common/crypto.hpp"
#include "directory/schema.hpp"
#include "directory/tokens.hpp"
#include "idp/provider.hpp"
#include "idp/store.hpp"
#include "common/web.hpp"
#include "tests/support/directory_fixture.hpp"
#include "tests/support/idp_call.hpp"

namespace congvu::test {
namespace {

namespace json = boost::json;
using namespace directory;

constexpr const char* kRedirect = "https://docs.test/cb";
const std::string kVerifier(64, 'v');

class ProviderTest : public DirectoryTest {
 protected:
  ProviderTest() : keys_("test passphrase 0123456789"), idp_(dir_, keys_, idp_test_config()) {}
  void SetUp() override {
    import_province();
    ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) -> Result<bool> { return keys_.ensure(c); }));
    ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_password(who("T001").id, "pw-T001-long"); }));
    Client c;
    c.id = "docs";
    c.redirect_uris = {kRedirect};
    c.first_party = true;
    auto s = dir_.write(actor_, kNow, [&](Change& ch) { return add_client(ch, c); });
    ASSERT_TRUE(s);
    secret_ = *s;
  }

  net::HttpResponse call(std::string method, std::string target, std::string body = {}, bool basic = false) {
    return idp_call(idp_, cookie_, std::move(method), std::move(target), std::move(body), now_,
                    basic ? "Basic " + crypto::base64_encode("docs:" + secret_) : std::string());
  }
  static std::string param(const std::string& url, const std::string& name) {
    auto q = web::decode_form(web::query_of(url));
    return q && q->count(name) ? q->at(name) : std::string();
  }
  std::string authorize_url() {
    std::string challenge = jose::b64url(crypto::sha256_raw(kVerifier));
    return web::with_params("/oidc/authorize", {{"client_id", "docs"}, {"redirect_uri", kRedirect},
                                                     {"response_type", "code"}, {"scope", "openid unit"},
                                                     {"state", "st"}, {"code_challenge", challenge},
                                                     {"code_challenge_method", "S256"}});
  }
  // Signs in through the login form and returns the code that the authorize step hands out.
  std::string sign_in_and_get_code() {
    auto r = call("GET", authorize_url());
    EXPECT_EQ(r.status, 303);
    std::string login_url = r.headers["Location"];
    auto page = call("GET", login_url);
    std::smatch m;
    EXPECT_TRUE(std::regex_search(page.body, m, std::regex("name=\"csrf\" value=\"([^\"]+)\"")));
    std::string csrf = m[1];
    auto posted = call("POST", "/login", "csrf=" + csrf + "&login=T001&password=wrong&return_to=" +
                                             web::percent_encode(param(login_url, "return_to")));
    EXPECT_EQ(posted.status, 401);
    posted = call("POST", "/login", "csrf=" + csrf + "&login=nguyen.van.an&password=x");
    auto person = who("T001");
    posted = call("POST", "/login", "csrf=" + csrf + "&login=" + person.login + "&password=pw-T001-long&return_to=" +
                                         web::percent_encode(param(login_url, "return_to")));
    EXPECT_EQ(posted.status, 303) << posted.body;
    auto back = call("GET", posted.headers["Location"]);
    EXPECT_EQ(back.status, 303);
    std::string loc = back.headers["Location"];
    EXPECT_EQ(loc.rfind(kRedirect, 0), 0u) << loc;
    EXPECT_EQ(param(loc, "state"), "st");
    return param(loc, "code");
  }
  json::object exchange(const std::string& code, const std::string& verifier, int expect_status) {
    auto r = call("POST", "/oidc/token",
                  "grant_type=authorization_code&code=" + code + "&redirect_uri=" + web::percent_encode(kRedirect) +
                      "&code_verifier=" + verifier, true);
    EXPECT_EQ(r.status, expect_status) << r.body;
    return json::parse(r.body).as_object();
  }
  json::object refresh(const std::string& token, int expect_status) {
    auto r = call("POST", "/oidc/token", "grant_type=refresh_token&refresh_token=" + token, true);
    EXPECT_EQ(r.status, expect_status) << r.body;
    return json::parse(r.body).as_object();
  }
  bool userinfo_ok(const json::object& tokens) {
    net::HttpRequest r;
    r.method = "GET";
    r.target = "/oidc/userinfo";
    r.headers["authorization"] = "Bearer " + std::string(tokens.at("access_token").as_string());
    return idp_.handle(r, now_)->status == 200;
  }

  KeyRing keys_;
  idp::Provider idp_;
  std::string secret_, cookie_;
  UnixMs now_ = kNow;
};

TEST_P(ProviderTest, CodeFlowWithPkceThenRefreshRotation) {
  std::string code = sign_in_and_get_code();
  auto tokens = exchange(code, kVerifier, 200);
  EXPECT_TRUE(userinfo_ok(tokens));
  std::string id_token(tokens.at("id_token").as_string());
  auto payload = json::parse(*jose::b64url_decode(id_token.substr(id_token.find('.') + 1, id_token.rfind('.') - id_token.find('.') - 1))).as_object();
  EXPECT_EQ(payload.at("unit_code").as_string(), "000.01.02.H99");
  EXPECT_EQ(payload.at("sub").as_string(), who("T001").id.str());

  now_ += 1000;
  std::string r1(tokens.at("refresh_token").as_string());
  auto next = refresh(r1, 200);
  std::string r2(next.at("refresh_token").as_string());
  EXPECT_NE(r1, r2);
  EXPECT_TRUE(userinfo_ok(next));
  // Reuse of r1: refused, and r2 with every access token of the family dies with it.
  EXPECT_EQ(refresh(r1, 400).at("error").as_string(), "invalid_grant");
  EXPECT_EQ(refresh(r2, 400).at("error").as_string(), "invalid_grant");
  EXPECT_FALSE(userinfo_ok(next));
  EXPECT_FALSE(userinfo_ok(tokens));
}

// Refresh tokens end with what they came from: a password change (anywhere), sign-out, and a
// suspension (also after the person is resumed).
TEST_P(ProviderTest, RefreshTokensEndWithTheSessionAndTheCredential) {
  auto t1 = exchange(sign_in_and_get_code(), kVerifier, 200);
  now_ += 1000;
  ASSERT_TRUE(dir_.write(actor_, now_, [&](Change& c) { return c.set_password(who("T001").id, "pw-T001-long"); }));
  now_ += 1000;
  EXPECT_EQ(refresh(std::string(t1.at("refresh_token").as_string()), 400).at("error").as_string(), "invalid_grant");
  EXPECT_EQ(call("GET", "/account").status, 303) << "the SSO session of the old credential ended too";

  auto t2 = exchange(sign_in_and_get_code(), kVerifier, 200);
  now_ += 1000;
  auto out = call("GET", web::with_params("/oidc/logout", {{"id_token_hint", std::string(t2.at("id_token").as_string())}}));
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_EQ(refresh(std::string(t2.at("refresh_token").as_string()), 400).at("error").as_string(), "invalid_grant")
      << "signed out: its refresh family ends";

  auto t3 = exchange(sign_in_and_get_code(), kVerifier, 200);
  now_ += 1000;
  std::string r3(t3.at("refresh_token").as_string());
  auto fresh = refresh(r3, 200);  // still good before the suspension
  ASSERT_TRUE(dir_.write(actor_, now_, [&](Change& c) { return c.set_status(who("T001").id, PersonStatus::suspended, "x"); }));
  ASSERT_TRUE(dir_.write(actor_, now_, [&](Change& c) { return c.set_status(who("T001").id, PersonStatus::active, "y"); }));
  now_ += 1000;
  EXPECT_EQ(refresh(std::string(fresh.at("refresh_token").as_string()), 400).at("error").as_string(), "invalid_grant")
      << "a suspension ends the grants for good";
}

// Nothing unusable stays stored: expired sessions, codes, refresh tokens and revocations are
// swept (the server does it every minute); what is still valid is kept.
TEST_P(ProviderTest, ExpiredRecordsAreSwept) {
  auto count = [&](directory::schema::Table t) {
    return dir_.read([&](Snapshot& s) {
      std::size_t n = 0;
      s.scan(t, "", [&](std::string_view, std::string_view) { return ++n, true; });
      return n;
    });
  };
  auto tokens = exchange(sign_in_and_get_code(), kVerifier, 200);
  auto again = call("GET", authorize_url());  // the session signs in at once: a code left unused
  ASSERT_EQ(again.status, 303);
  ASSERT_FALSE(param(again.headers["Location"], "code").empty());
  now_ += 1000;
  auto next = refresh(std::string(tokens.at("refresh_token").as_string()), 200);  // the first is now rotated
  ASSERT_TRUE(dir_.write(actor_, now_, [&](Change& c) { return directory::revoke_jti(c, "jti-x", now_ + 1000), ok_status(); }));
  EXPECT_EQ(idp::sweep_expired(dir_, now_), 0u) << "everything is still valid";
  EXPECT_GE(count(directory::schema::code), 1u);
  EXPECT_GE(count(directory::schema::sso), 1u);
  EXPECT_EQ(count(directory::schema::refresh), 2u);
  // A year later every one of them is over.
  UnixMs later = now_ + 366LL * 24 * 3600 * 1000;
  EXPECT_GE(idp::sweep_expired(dir_, later), 5u);
  for (auto t : {directory::schema::code, directory::schema::sso, directory::schema::refresh})
    EXPECT_EQ(count(t), 0u) << t;
  EXPECT_EQ(dir_.read([&](Snapshot& s) { return directory::grants_not_before(s, who("T001").id); }), kNow)
      << "a person's grants-not-before instant is kept";
  EXPECT_EQ(count(directory::schema::revoked), 1u) << "only that one";
}

TEST_P(ProviderTest, PkceAndCodeReplay) {
  std::string code = sign_in_and_get_code();
  EXPECT_EQ(exchange(code, std::string(64, 'w'), 400).at("error").as_string(), "invalid_grant");
  EXPECT_EQ(exchange(code, "short", 400).at("error").as_string(), "invalid_grant");
  auto tokens = exchange(code, kVerifier, 200);
  EXPECT_TRUE(userinfo_ok(tokens));
  EXPECT_EQ(exchange(code, kVerifier, 400).at("error").as_string(), "invalid_grant");
  EXPECT_FALSE(userinfo_ok(tokens));  // the replay revoked what the code issued
  EXPECT_EQ(refresh(std::string(tokens.at("refresh_token").as_string()), 400).at("error").as_string(), "invalid_grant");
}

TEST_P(ProviderTest, CodesExpireAndBelongToTheirRedirect) {
  std::string code = sign_in_and_get_code();
  auto r = call("POST", "/oidc/token", "grant_type=authorization_code&code=" + code +
                                           "&redirect_uri=https%3A%2F%2Fdocs.test%2Fother&code_verifier=" + kVerifier, true);
  EXPECT_EQ(r.status, 400);
  now_ += 61 * 1000;
  EXPECT_EQ(exchange(code, kVerifier, 400).at("error").as_string(), "invalid_grant");
  // Repeated parameters are malformed (RFC 6749 3.1).
  r = call("POST", "/oidc/token", "grant_type=refresh_token&grant_type=refresh_token", true);
  EXPECT_EQ(r.status, 400);
  // A wrong client secret is invalid_client with 401.
  secret_ = "nope";
  r = call("POST", "/oidc/token", "grant_type=refresh_token&refresh_token=x", true);
  EXPECT_EQ(r.status, 401);
}

INSTANTIATE_TEST_SUITE_P(Backends, ProviderTest, testing::Values(Backend::lmdb, Backend::memory), backend_name);

}  // namespace
}  // namespace congvu::test
