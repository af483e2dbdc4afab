// JWS encoding and verification, signing keys at rest, and access-token checks: every way a
// token can be wrong is refused (alg none, another alg, wrong key, tampered, expired, wrong
// issuer, audience or scope, revoked, person suspended).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "directory/clients.hpp"
#include "directory/jose.hpp"
#include "directory/keys.hpp"
#include "directory/sasl.hpp"
#include "directory/tokens.hpp"
#include "tests/support/directory_fixture.hpp"

namespace congvu::test {
namespace {

using namespace directory;
using jose::Alg;

TEST(Jose, Base64UrlIsStrict) {
  EXPECT_EQ(jose::b64url("\xfb\xff"), "-_8");
  EXPECT_EQ(jose::b64url_decode("-_8"), std::string("\xfb\xff"));
  EXPECT_FALSE(jose::b64url_decode("-_8="));   // padding
  EXPECT_FALSE(jose::b64url_decode("+/8"));    // the other alphabet
  EXPECT_FALSE(jose::b64url_decode("-_9"));    // non-zero leftover bits
  EXPECT_FALSE(jose::b64url_decode("A"));      // impossible length
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\x00\x01\x02\xff"}) EXPECT_EQ(jose::b64url_decode(jose::b64url(s)), s);
}

TEST(Jose, SignAndVerifyEveryAlgorithm) {
  for (auto alg : {Alg::RS256, Alg::ES256, Alg::EdDSA}) {
    auto key = jose::SigningKey::generate(alg, "k1");
    std::string tok = jose::sign_compact(key, "JWT", R"({"sub":"x"})");
    auto ok = jose::verify_compact(tok, [&](const std::string& kid) { return kid == "k1" ? &key : nullptr; });
    ASSERT_TRUE(ok) << jose::alg_name(alg) << ": " << ok.error().message;
    EXPECT_EQ(*ok, R"({"sub":"x"})");
    // The public JWK verifies what the private key signed.
    auto pub = jose::SigningKey::from_public_jwk(key.public_jwk());
    ASSERT_TRUE(pub) << pub.error().message;
    EXPECT_TRUE(jose::verify_compact(tok, [&](const std::string&) { return &pub.value(); }));
    EXPECT_EQ(key.public_jwk().find("\"d\""), std::string::npos);
    // Tampered payload.
    auto dot = tok.find('.');
    std::string tampered = tok.substr(0, dot + 1) + jose::b64url(R"({"sub":"y"})") + tok.substr(tok.rfind('.'));
    EXPECT_FALSE(jose::verify_compact(tampered, [&](const std::string&) { return &key; }));
    // Another key of the same kind.
    auto other = jose::SigningKey::generate(alg, "k1");
    EXPECT_FALSE(jose::verify_compact(tok, [&](const std::string&) { return &other; }));
  }
}

TEST(Jose, AlgNoneAndAlgConfusionAreRefused) {
  auto key = jose::SigningKey::generate(Alg::RS256, "k1");
  auto lookup = [&](const std::string&) { return &key; };
  std::string payload = jose::b64url(R"({"sub":"x"})");
  EXPECT_FALSE(jose::verify_compact(jose::b64url(R"({"alg":"none","kid":"k1"})") + "." + payload + ".", lookup));
  EXPECT_FALSE(jose::verify_compact(jose::b64url(R"({"alg":"HS256","kid":"k1"})") + "." + payload + "." + jose::b64url("sig"), lookup));
  // An ES256 signature presented as RS256 by the header: the key decides the algorithm.
  auto ec = jose::SigningKey::generate(Alg::ES256, "k1");
  std::string es = jose::sign_compact(ec, "JWT", R"({"sub":"x"})");
  EXPECT_FALSE(jose::verify_compact(es, lookup));
  EXPECT_FALSE(jose::verify_compact("a.b", lookup));
  EXPECT_FALSE(jose::verify_compact("a.b.c.d", lookup));
  EXPECT_FALSE(jose::verify_compact(jose::b64url(R"({"alg":"RS256","kid":"k1","crit":["x"]})") + "." + payload + ".AA", lookup));
}

TEST(Jose, KeysAtRestNeedThePassphrase) {
  auto key = jose::SigningKey::generate(Alg::ES256, "k1");
  std::string pem = key.to_pem("correct horse battery staple");
  EXPECT_NE(pem.find("ENCRYPTED"), std::string::npos);
  auto back = jose::SigningKey::from_pem(Alg::ES256, "k1", pem, "correct horse battery staple");
  EXPECT_EQ(back.public_jwk(), key.public_jwk());
  EXPECT_THROW(jose::SigningKey::from_pem(Alg::ES256, "k1", pem, "wrong"), std::runtime_error);
  EXPECT_THROW(jose::SigningKey::from_pem(Alg::RS256, "k1", pem, "correct horse battery staple"), std::runtime_error);
}

class Tokens : public DirectoryTest {
 protected:
  Tokens() : keys_("test passphrase 0123456789") {}
  void SetUp() override {
    import_province();
    auto r = dir_.write(actor_, kNow, [&](Change& c) -> Result<bool> { return keys_.ensure(c); });
    ASSERT_TRUE(r && *r);
  }
  AccessToken sample() {
    AccessToken t;
    t.issuer = "https://sso.test";
    t.subject = who("T001").id.str();
    t.client_id = "docs";
    t.audience = {kAudUserinfo, kAudMail};
    t.scope = "openid mail";
    t.jti = "jti-1";
    t.family = "fam-1";
    t.issued = kNow;
    t.expires = kNow + 600000;
    return t;
  }
  std::string issue(const AccessToken& t) {
    auto key = dir_.read([&](Snapshot& s) { return keys_.active(s, Alg::RS256); });
    return issue_access_token(*key, t);
  }
  Result<AccessToken> verify(const std::string& tok, std::string_view aud, std::string_view scope, UnixMs now = kNow + 1000) {
    return dir_.read([&](Snapshot& s) { return verify_access_token(keys_, s, tok, "https://sso.test", aud, scope, now); });
  }
  KeyRing keys_;
};

TEST_P(Tokens, AcceptedOnlyForItsIssuerAudienceScopeAndLifetime) {
  std::string tok = issue(sample());
  auto ok = verify(tok, kAudMail, "mail");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->person, who("T001").id);
  EXPECT_FALSE(verify(tok, kAudScim, ""));                  // wrong audience
  EXPECT_FALSE(verify(tok, kAudMail, "scim:write"));        // missing scope
  EXPECT_FALSE(verify(tok, kAudMail, "mail", kNow + 600000));  // expired
  auto other_issuer = dir_.read([&](Snapshot& s) { return verify_access_token(keys_, s, tok, "https://evil", kAudMail, "", kNow); });
  EXPECT_FALSE(other_issuer);
  // An ID token (typ JWT) is not an access token.
  auto key = dir_.read([&](Snapshot& s) { return keys_.active(s, Alg::RS256); });
  EXPECT_FALSE(verify(jose::sign_compact(*key, "JWT", R"({"iss":"https://sso.test","aud":"mail","exp":9999999999,"jti":"x"})"), kAudMail, ""));
  // Signed by a key that is not ours, with our kid.
  auto rogue = jose::SigningKey::generate(Alg::RS256, key->kid());
  EXPECT_FALSE(verify(issue_access_token(rogue, sample()), kAudMail, "mail"));
}

TEST_P(Tokens, RevocationAndSuspensionEndAToken) {
  std::string tok = issue(sample());
  ASSERT_TRUE(verify(tok, kAudMail, "mail"));
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) -> Status {
    revoke_family(c, "fam-1", kNow + 3600000);
    return ok_status();
  }));
  EXPECT_FALSE(verify(tok, kAudMail, "mail"));
  auto t2 = sample();
  t2.family = "fam-2";
  t2.jti = "jti-2";
  std::string tok2 = issue(t2);
  ASSERT_TRUE(verify(tok2, kAudMail, "mail"));
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return c.set_status(who("T001").id, PersonStatus::suspended, "test"); }));
  auto r = verify(tok2, kAudMail, "mail");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("suspended"), std::string::npos);
}

TEST_P(Tokens, RotationKeepsOldKeysPublishedForADay) {
  std::string tok = issue(sample());
  auto before = dir_.read([&](Snapshot& s) { return keys_.published(s, kNow).size(); });
  EXPECT_EQ(before, 3u);
  ASSERT_TRUE(dir_.write(actor_, kNow + 1000, [&](Change& c) -> Result<int> {
    keys_.rotate(c);
    return 0;
  }));
  EXPECT_EQ(dir_.read([&](Snapshot& s) { return keys_.published(s, kNow + 2000).size(); }), 6u);
  EXPECT_TRUE(verify(tok, kAudMail, "mail", kNow + 2000));  // an old key still verifies
  auto later = kNow + 1000 + kRetiredKeepMs + 1;
  EXPECT_EQ(dir_.read([&](Snapshot& s) { return keys_.published(s, later).size(); }), 3u);
  auto new_key = dir_.read([&](Snapshot& s) { return keys_.active(s, Alg::RS256); });
  auto old_key = dir_.read([&](Snapshot& s) { return keys_.verifier(s, jose::parse_compact(tok)->kid, later); });
  EXPECT_EQ(old_key, nullptr);
  EXPECT_NE(new_key->kid(), jose::parse_compact(tok)->kid);
}

TEST_P(Tokens, ClientsStoreOnlyASecretDigest) {
  Client c;
  c.id = "docs";
  c.redirect_uris = {"https://docs.test/cb"};
  auto secret = dir_.write(actor_, kNow, [&](Change& ch) { return add_client(ch, c); });
  ASSERT_TRUE(secret) << secret.error().message;
  EXPECT_EQ(secret->size(), 43u);  // 256 bits, base64url
  auto stored = dir_.read([&](Snapshot& s) { return find_client(s, "docs"); });
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->secret_sha256.size(), 32u);
  EXPECT_TRUE(client_secret_matches(*stored, *secret));
  EXPECT_FALSE(client_secret_matches(*stored, secret->substr(1)));
  Client bad = c;
  bad.id = "bad";
  bad.redirect_uris = {"http://docs.test/cb"};  // plain http off loopback
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& ch) { return add_client(ch, bad); }));
  bad.redirect_uris = {"https://docs.test/cb#frag"};
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& ch) { return add_client(ch, bad); }));
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& ch) { return add_client(ch, c); }));  // exists
  Client pub = c;
  pub.id = "spa";
  pub.confidential = false;
  pub.grants = {"client_credentials"};
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& ch) { return add_client(ch, pub); }));
}

INSTANTIATE_TEST_SUITE_P(Backends, Tokens, testing::Values(Backend::lmdb, Backend::memory), backend_name);

}  // namespace
}  // namespace congvu::test

namespace congvu::test {
namespace {

TEST(BearerSasl, ParsesOauthbearerAndXoauth2Messages) {
  using directory::parse_bearer_message;
  auto m = parse_bearer_message("OAUTHBEARER", std::string("n,a=an=2Cnv=3D@x.test,\x01host=h\x01port=993\x01" "auth=Bearer T0K\x01\x01"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->user, "an,nv=@x.test");
  EXPECT_EQ(m->token, "T0K");
  m = parse_bearer_message("OAUTHBEARER", std::string("n,,\x01" "auth=Bearer abc\x01\x01"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->user, "");
  m = parse_bearer_message("XOAUTH2", std::string("user=annv@x.test\x01" "auth=Bearer abc\x01\x01"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->user, "annv@x.test");
  EXPECT_EQ(m->token, "abc");
  for (std::string bad : {std::string("n,,auth=Bearer abc\x01\x01"),               // no kvsep after the header
                          std::string("p=x,,\x01" "auth=Bearer abc\x01\x01"),        // channel binding
                          std::string("n,a=x=zz,\x01" "auth=Bearer abc\x01\x01"),    // bad saslname escape
                          std::string("n,,\x01" "auth=Basic abc\x01\x01"),           // not a bearer token
                          std::string("n,,\x01" "auth=Bearer abc\x01"),              // unterminated
                          std::string("n,,\x01host=h\x01\x01"),                      // no token
                          std::string("")})
    EXPECT_FALSE(parse_bearer_message("OAUTHBEARER", bad)) << bad;
  EXPECT_FALSE(parse_bearer_message("PLAIN", std::string("user=a\x01" "auth=Bearer x\x01\x01")));
}

}  // namespace
}  // namespace congvu::test
