// The SAML IdP's XML security layer (libxml2 + xmlsec1) and its SSO endpoint driven through
// Provider::handle() on both stores: signatures that verify and those that must not (tampered,
// wrapped, duplicated IDs, SHA-1), DTDs and oversize input refused, DEFLATE bombs stopped, SP
// metadata checked, and one AuthnRequest answered with a Response whose two signatures verify
// with the published certificate, then refused as a replay.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "common/crypto.hpp"
#include "directory/keys.hpp"
#include "idp/provider.hpp"
#include "idp/saml/saml.hpp"
#include "idp/store.hpp"
#include "common/web.hpp"
#include "tests/support/directory_fixture.hpp"
#include "tests/support/idp_call.hpp"

namespace congvu::test {
namespace {

using namespace idp::saml;

// Keys are slow to make: one IdP key and one SP key per process.
const SigningKey& key_in(const std::string& name) {
  static std::map<std::string, SigningKey> keys;
  if (!keys.count(name)) {
    auto dir = std::filesystem::temp_directory_path() / ("congvu-saml-test-" + std::to_string(::getpid()) + "-" + name);
    auto k = SigningKey::load_or_make(dir.string(), "pass", name);
    if (!k) throw std::runtime_error(k.error().message);
    keys.emplace(name, *k);
    std::filesystem::remove_all(dir);
  }
  return keys.at(name);
}

PeerKey peer(const SigningKey& k) { return *PeerKey::from_certificate(k.cert_b64()); }

std::string authn(const std::string& id, const std::string& acs = "https://sp.test/acs", const std::string& extra = "") {
  return "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
         "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"" + id +
         "\" Version=\"2.0\" IssueInstant=\"2026-11-21T17:00:00Z\" Destination=\"https://sso.test/saml/sso\" "
         "AssertionConsumerServiceURL=\"" + acs + "\"><saml:Issuer>https://sp.test</saml:Issuer>" + extra +
         "</samlp:AuthnRequest>";
}

std::string signed_authn(const std::string& id, const std::string& acs = "https://sp.test/acs") {
  auto doc = parse(authn(id, acs));
  xmlNode* root = xmlDocGetRootElement(doc->get());
  EXPECT_TRUE(sign(doc->get(), root, first_child(root, kNsSaml, "Issuer"), key_in("sp")));
  return serialize(doc->get());
}

Status verify_text(const std::string& xml, const SigningKey& k) {
  auto doc = parse(xml);
  if (!doc) return doc.error();
  return verify(doc->get(), xmlDocGetRootElement(doc->get()), peer(k));
}

TEST(SamlXml, SignedRequestVerifiesAndTamperingFails) {
  std::string xml = signed_authn("_a1");
  EXPECT_TRUE(verify_text(xml, key_in("sp")));
  EXPECT_FALSE(verify_text(xml, key_in("idp")));  // another key
  std::string tampered = std::regex_replace(xml, std::regex("https://sp.test/acs"), "https://evil.test/acs");
  auto r = verify_text(tampered, key_in("sp"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("does not verify"), std::string::npos) << r.error().message;
  EXPECT_FALSE(verify_text(authn("_a2"), key_in("sp")));  // unsigned
}

TEST(SamlXml, SignatureWrappingIsRefused) {
  std::string inner = signed_authn("_w1");
  // The signed element moved under a new root that names another ACS, with its signature
  // lifted to the new root.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(inner, m, std::regex("<ds:Signature[\\s\\S]*</ds:Signature>")));
  std::string wrapped = authn("_evil", "https://evil.test/acs", m.str() + "<samlp:Extensions>" + inner + "</samlp:Extensions>");
  auto r = verify_text(wrapped, key_in("sp"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("does not cover"), std::string::npos) << r.error().message;
  // Two signatures on the root.
  std::string twice = std::regex_replace(inner, std::regex("</saml:Issuer>"), "</saml:Issuer>" + m.str());
  EXPECT_FALSE(verify_text(twice, key_in("sp")));
  // A forged copy carrying the same ID as an xml:id elsewhere.
  std::string dup = std::regex_replace(inner, std::regex("</samlp:AuthnRequest>"),
                                       "<samlp:Extensions><x xml:id=\"_w1\"/></samlp:Extensions></samlp:AuthnRequest>");
  auto d = verify_text(dup, key_in("sp"));
  ASSERT_FALSE(d);
}

TEST(SamlXml, DtdsOversizeAndBombsAreRefused) {
  for (std::string bad : {std::string("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>"),
                          std::string("<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><r>&b;</r>"),
                          std::string("<r/><!DOCTYPE r>")}) {
    auto d = parse(bad);
    ASSERT_FALSE(d) << bad;
    EXPECT_NE(d.error().message.find("DOCTYPE"), std::string::npos);
  }
  EXPECT_FALSE(parse(std::string("<r>") + std::string(kMaxXml, 'x') + "</r>"));
  EXPECT_FALSE(parse(std::string("\xff\xfe<\0r\0/\0>\0", 10)));
  EXPECT_FALSE(parse("<r><unclosed></r>"));
  EXPECT_TRUE(parse("<r a=\"1\">text</r>"));
  std::string bomb = deflate_raw(std::string(5 << 20, ' '));
  auto inflated = inflate_raw(bomb, kMaxXml);
  ASSERT_FALSE(inflated);
  EXPECT_NE(inflated.error().message.find("inflates to more than"), std::string::npos);
  EXPECT_EQ(*inflate_raw(deflate_raw("<r/>"), kMaxXml), "<r/>");
  EXPECT_FALSE(inflate_raw("not deflate at all", kMaxXml));
}

TEST(SamlXml, InstantsAndRedirectSignatures) {
  EXPECT_EQ(*parse_instant("2026-11-21T17:00:00Z"), kNow);
  EXPECT_EQ(*parse_instant("2026-11-21T17:00:00.250Z"), kNow + 250);
  EXPECT_FALSE(parse_instant("2026-11-21T17:00:00+07:00"));
  EXPECT_FALSE(parse_instant("2026-13-21T17:00:00Z"));
  EXPECT_FALSE(parse_instant("yesterday"));
  EXPECT_EQ(format_instant(kNow), "2026-11-21T17:00:00Z");
  std::string sig = sign_raw("SAMLRequest=abc&SigAlg=x", key_in("sp"));
  EXPECT_TRUE(verify_raw("SAMLRequest=abc&SigAlg=x", sig, kRsaSha256, peer(key_in("sp"))));
  EXPECT_FALSE(verify_raw("SAMLRequest=abd&SigAlg=x", sig, kRsaSha256, peer(key_in("sp"))));
  EXPECT_FALSE(verify_raw("SAMLRequest=abc&SigAlg=x", sig, "http://www.w3.org/2000/09/xmldsig#rsa-sha1", peer(key_in("sp"))));
}

std::string sp_metadata(const std::string& acs = "https://sp.test/acs", const std::string& extra = "") {
  return "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
         "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"https://sp.test\">"
         "<md:SPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">"
         "<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>" + key_in("sp").cert_b64() +
         "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>" + extra +
         "<md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"" + acs +
         "\" index=\"0\"/></md:SPSSODescriptor></md:EntityDescriptor>";
}

TEST(SamlMetadata, ReadsAnSpAndRefusesWhatIsUnsafe) {
  auto sp = parse_metadata(sp_metadata());
  ASSERT_TRUE(sp) << sp.error().message;
  EXPECT_EQ(sp->entity_id, "https://sp.test");
  EXPECT_EQ(sp->signing_certs.size(), 1u);
  EXPECT_FALSE(sp->encryption_cert.empty());  // a KeyDescriptor without use serves both
  EXPECT_EQ(decode_sp(encode(*sp)).acs.at(0).location, "https://sp.test/acs");
  EXPECT_TRUE(parse_metadata(sp_metadata("http://127.0.0.1:8080/acs")));
  auto http = parse_metadata(sp_metadata("http://sp.test/acs"));
  ASSERT_FALSE(http);
  EXPECT_NE(http.error().message.find("https"), std::string::npos);
  EXPECT_FALSE(parse_metadata("<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"/>"));
  EXPECT_FALSE(parse_metadata(std::regex_replace(sp_metadata(), std::regex("<ds:X509Certificate>M"), "<ds:X509Certificate>!")));
}

class SamlSsoTest : public DirectoryTest {
 protected:
  SamlSsoTest() : keys_("test passphrase 0123456789"), oidc_(dir_, keys_, idp_test_config()), saml_(dir_, key_in("idp"), saml_config()) {
    oidc_.set_saml(&saml_);
  }
  static Config saml_config() {
    Config c;
    c.base = "https://sso.test";
    return c;
  }
  void SetUp() override {
    import_province();
    ASSERT_TRUE(dir_.write(actor_, kNow, [&](directory::Change& c) { return c.set_password(who("T001").id, "pw-T001-long"); }));
    auto sp = parse_metadata(sp_metadata());
    ASSERT_TRUE(sp);
    ASSERT_TRUE(dir_.write(actor_, kNow, [&](directory::Change& c) { return add_sp(c, *sp, false); }));
  }
  net::HttpResponse call(std::string method, std::string target, std::string body = {}) {
    return idp_call(oidc_, cookie_, std::move(method), std::move(target), std::move(body), kNow);
  }
  std::size_t rows(directory::schema::Table t) {
    return dir_.read([&](directory::Snapshot& s) {
      std::size_t n = 0;
      s.scan(t, "", [&](std::string_view, std::string_view) { return ++n, true; });
      return n;
    });
  }
  directory::KeyRing keys_;
  idp::Provider oidc_;
  Idp saml_;
  std::string cookie_;
};

TEST_P(SamlSsoTest, LoginThenSignedResponseThenReplayRefused) {
  std::string url = "/saml/sso?SAMLRequest=" +
                    web::percent_encode(crypto::base64_encode(deflate_raw(authn("_req1")))) + "&RelayState=r1";
  auto r = call("GET", url);
  ASSERT_EQ(r.status, 303) << r.body;  // no cookie: continue with a GET
  r = call("GET", r.headers["Location"]);
  ASSERT_EQ(r.status, 303);
  std::string login = r.headers["Location"];
  ASSERT_EQ(login.rfind("/login?", 0), 0u) << login;
  auto page = call("GET", login);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page.body, m, std::regex("name=\"csrf\" value=\"([^\"]+)\"")));
  auto q = web::decode_form(web::query_of(login));
  auto posted = call("POST", "/login", "csrf=" + std::string(m[1]) + "&login=" + who("T001").login +
                                           "&password=pw-T001-long&return_to=" + web::percent_encode(q->at("return_to")));
  ASSERT_EQ(posted.status, 303) << posted.body;
  auto form = call("GET", posted.headers["Location"]);
  ASSERT_EQ(form.status, 200) << form.body;
  EXPECT_NE(form.headers["Content-Security-Policy"].find("form-action https://sp.test"), std::string::npos);
  ASSERT_TRUE(std::regex_search(form.body, m, std::regex("name=\"SAMLResponse\" value=\"([^\"]+)\"")));
  auto xml = crypto::base64_decode(std::string(m[1]));
  ASSERT_TRUE(xml);
  EXPECT_NE(xml->find("InResponseTo=\"_req1\""), std::string::npos);
  EXPECT_NE(xml->find(who("T001").id.str()), std::string::npos);  // persistent NameID
  EXPECT_NE(form.body.find("name=\"RelayState\" value=\"r1\""), std::string::npos);
  // Both signatures verify with the published certificate.
  auto doc = parse(*xml);
  ASSERT_TRUE(doc);
  xmlNode* root = xmlDocGetRootElement(doc->get());
  EXPECT_TRUE(verify(doc->get(), root, peer(key_in("idp"))));
  auto doc2 = parse(*xml);
  xmlNode* assertion = first_child(xmlDocGetRootElement(doc2->get()), kNsSaml, "Assertion");
  ASSERT_NE(assertion, nullptr);
  // The assertion alone (as an SP checks it after taking it out of the Response).
  xmlUnlinkNode(assertion);
  xmlNode* old = xmlDocSetRootElement(doc2->get(), assertion);
  xmlFreeNode(old);
  EXPECT_TRUE(verify(doc2->get(), assertion, peer(key_in("idp"))));
  // The session knows its SAML participant (single logout needs it); the pending request is gone.
  EXPECT_EQ(rows(directory::schema::saml_pending), 0u);
  auto sessions = dir_.read([&](directory::Snapshot& s) { return idp::sessions_of(s, who("T001").id); });
  ASSERT_EQ(sessions.size(), 1u);
  ASSERT_EQ(sessions[0].second.saml.size(), 1u);
  EXPECT_EQ(sessions[0].second.saml[0].sp, "https://sp.test");
  // The same request again: refused, nothing written.
  auto seen = rows(directory::schema::saml_seen);
  auto again = call("GET", url);
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(again.body.find("seen before"), std::string::npos);
  EXPECT_EQ(rows(directory::schema::saml_seen), seen);
  // After a second factor the class is TimeSyncToken; a request asking for it from a
  // password-only session goes to the second factor first.
  auto sid = sessions[0].first;
  auto upgraded = sessions[0].second;
  upgraded.amr = "pwd otp";
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](directory::Change& c) -> Status {
    c.put(directory::schema::sso, sid, idp::encode(upgraded));
    return ok_status();
  }));
  auto sso2 = call("GET", "/saml/sso?SAMLRequest=" + web::percent_encode(crypto::base64_encode(deflate_raw(authn("_req2")))));
  ASSERT_EQ(sso2.status, 200) << sso2.body;
  ASSERT_TRUE(std::regex_search(sso2.body, m, std::regex("name=\"SAMLResponse\" value=\"([^\"]+)\"")));
  EXPECT_NE(crypto::base64_decode(std::string(m[1]))->find("ac:classes:TimeSyncToken"), std::string::npos);
  upgraded.amr = "pwd";
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](directory::Change& c) -> Status {
    c.put(directory::schema::sso, sid, idp::encode(upgraded));
    return ok_status();
  }));
  std::string want_mfa = "<samlp:RequestedAuthnContext Comparison=\"exact\"><saml:AuthnContextClassRef>"
                         "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken</saml:AuthnContextClassRef>"
                         "</samlp:RequestedAuthnContext>";
  auto sso3 = call("GET", "/saml/sso?SAMLRequest=" +
                              web::percent_encode(crypto::base64_encode(deflate_raw(authn("_req3", "https://sp.test/acs", want_mfa)))));
  ASSERT_EQ(sso3.status, 303) << sso3.body;
  EXPECT_EQ(sso3.headers["Location"].rfind("/mfa/enrol?", 0), 0u) << sso3.headers["Location"];
  // Metadata is served and signed.
  auto md = call("GET", "/saml/metadata");
  EXPECT_EQ(md.status, 200);
  EXPECT_TRUE(verify_text(md.body.substr(md.body.find("<md:")), key_in("idp")));
}

// A request parked before sign-in and its replay guard are swept once their time is over
// (the server sweeps every minute), never before.
TEST_P(SamlSsoTest, ParkedRequestsAndReplayGuardsAreSwept) {
  std::string url = "/saml/sso?SAMLRequest=" +
                    web::percent_encode(crypto::base64_encode(deflate_raw(authn("_req9")))) + "&RelayState=r9";
  ASSERT_EQ(call("GET", url).status, 303);
  EXPECT_EQ(rows(directory::schema::saml_pending), 1u);
  EXPECT_EQ(rows(directory::schema::saml_seen), 1u);
  EXPECT_EQ(idp::sweep_expired(dir_, kNow + 1000), 0u) << "both still in use";
  EXPECT_EQ(rows(directory::schema::saml_pending), 1u);
  EXPECT_GE(idp::sweep_expired(dir_, kNow + 24LL * 3600 * 1000), 2u);
  EXPECT_EQ(rows(directory::schema::saml_pending), 0u);
  EXPECT_EQ(rows(directory::schema::saml_seen), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, SamlSsoTest, testing::Values(Backend::lmdb, Backend::memory), backend_name);

}  // namespace
}  // namespace congvu::test
