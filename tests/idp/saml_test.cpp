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
  // Follows a parked request through the login page as T001: the response to the POST /login
  // (a redirect back to the continuation).
  net::HttpResponse sign_in(const std::string& location) {
    auto r = call("GET", location);
    EXPECT_EQ(r.status, 303);
    std::string login = r.headers["Location"];
    EXPECT_EQ(login.rfind("/login?", 0), 0u) << login;
    auto page = call("GET", login);
    std::smatch m;
    EXPECT_TRUE(std::regex_search(page.body, m, std::regex("name=\"csrf\" value=\"([^\"]+)\"")));
    auto q = web::decode_form(web::query_of(login));
    return call("POST", "/login", "csrf=" + std::string(m[1]) + "&login=" + who("T001").login +
                                      "&password=pw-T001-long&return_to=" + web::percent_encode(q->at("return_to")));
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
  auto posted = sign_in(r.headers["Location"]);
  ASSERT_EQ(posted.status, 303) << posted.body;
  std::smatch m;
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
    idp::store_session(c, sid, upgraded);
    return ok_status();
  }));
  auto sso2 = call("GET", "/saml/sso?SAMLRequest=" + web::percent_encode(crypto::base64_encode(deflate_raw(authn("_req2")))));
  ASSERT_EQ(sso2.status, 200) << sso2.body;
  ASSERT_TRUE(std::regex_search(sso2.body, m, std::regex("name=\"SAMLResponse\" value=\"([^\"]+)\"")));
  EXPECT_NE(crypto::base64_decode(std::string(m[1]))->find("ac:classes:TimeSyncToken"), std::string::npos);
  upgraded.amr = "pwd";
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](directory::Change& c) -> Status {
    idp::store_session(c, sid, upgraded);
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

// Nothing an unauthenticated browser sends is stored (issue 20): a request that waits for the
// login travels sealed in its continuation token; a status answer, an IdP-initiated start and a
// LogoutRequest that ends nothing store nothing either. A continuation is answered once, a
// forged or altered one is refused, and the replay guards are swept when their time is over.
TEST_P(SamlSsoTest, UnauthenticatedRequestsStoreNothingAndContinuationsAnswerOnce) {
  auto open_sp = *parse_metadata(sp_metadata());
  open_sp.entity_id = "https://open.test";
  open_sp.signing_certs.clear();
  open_sp.idp_initiated = true;
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](directory::Change& c) { return add_sp(c, open_sp, false); }));
  auto stored = [&] {
    namespace schema = directory::schema;
    return std::vector<std::size_t>{rows(schema::saml_pending), rows(schema::saml_seen), rows(schema::sso),
                                    rows(schema::sso_index), rows(schema::audit)};
  };
  auto request = [](const std::string& xml) {
    return "/saml/sso?SAMLRequest=" + web::percent_encode(crypto::base64_encode(deflate_raw(xml)));
  };
  auto before = stored();
  auto parked = call("GET", request(authn("_req9")) + "&RelayState=r9");
  ASSERT_EQ(parked.status, 303);
  std::string cont = parked.headers["Location"];
  ASSERT_EQ(cont.rfind("/saml/continue?p=s.", 0), 0u) << cont;
  for (int i = 0; i < 50; ++i) ASSERT_EQ(call("GET", request(authn("_flood" + std::to_string(i)))).status, 303);
  // IsPassive without a session: NoPassive at once. An unknown NameID policy: a status.
  std::string passive = authn("_p1");
  passive.replace(passive.find("Version="), 0, "IsPassive=\"true\" ");
  auto np = call("GET", request(passive));
  ASSERT_EQ(np.status, 303) << np.body;  // a cross-site POST brings no cookie: come back with a GET
  np = call("GET", np.headers["Location"]);
  ASSERT_EQ(np.status, 200) << np.body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(np.body, m, std::regex("name=\"SAMLResponse\" value=\"([^\"]+)\"")));
  EXPECT_NE(crypto::base64_decode(std::string(m[1]))->find("status:NoPassive"), std::string::npos);
  EXPECT_EQ(call("GET", request(authn("_n1", "https://sp.test/acs",
                                      "<samlp:NameIDPolicy Format=\"urn:example:unknown\"/>"))).status, 200);
  auto init = call("GET", "/saml/init?sp=" + web::percent_encode("https://open.test"));
  ASSERT_EQ(init.status, 303);
  std::string init_cont = init.headers["Location"];
  ASSERT_EQ(init_cont.rfind("/saml/continue?p=s.", 0), 0u) << init_cont;
  // An unsigned LogoutRequest naming T001 from a browser without a session: nothing to end.
  std::string logout = "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
                       "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_lo1\" Version=\"2.0\" "
                       "IssueInstant=\"2026-11-21T17:00:00Z\" Destination=\"https://sso.test/saml/slo\">"
                       "<saml:Issuer>https://open.test</saml:Issuer><saml:NameID>" + who("T001").id.str() +
                       "</saml:NameID></samlp:LogoutRequest>";
  auto lo = call("POST", "/saml/slo", "SAMLRequest=" + web::percent_encode(crypto::base64_encode(logout)));
  EXPECT_EQ(lo.status, 200) << lo.body;
  EXPECT_EQ(stored(), before) << "an unauthenticated browser made the server store something";

  // An altered continuation, or one sealed under another key, is refused.
  std::string altered = cont;
  altered[altered.size() - 5] = altered[altered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(call("GET", altered).status, 400);
  Config other = saml_config();
  other.seal_key = std::string(32, 'k');
  Idp stranger(dir_, key_in("idp"), other);
  net::HttpRequest rq;
  rq.method = "GET";
  rq.target = cont;
  auto foreign = stranger.handle(rq, "", kNow);
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 400);

  // Signed in through the continuation: answered, then the same continuation is refused.
  auto posted = sign_in(cont);
  ASSERT_EQ(posted.status, 303) << posted.body;
  ASSERT_EQ(posted.headers["Location"], cont);
  auto form = call("GET", cont);
  ASSERT_EQ(form.status, 200) << form.body;
  ASSERT_TRUE(std::regex_search(form.body, m, std::regex("name=\"SAMLResponse\" value=\"([^\"]+)\"")));
  EXPECT_NE(crypto::base64_decode(std::string(m[1]))->find("InResponseTo=\"_req9\""), std::string::npos);
  auto again = call("GET", cont);
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(again.body.find("answered already"), std::string::npos);
  // ... and so is the request itself, now that it was answered.
  EXPECT_NE(call("GET", request(authn("_req9"))).body.find("seen before"), std::string::npos);
  // The IdP-initiated continuation (no request ID) is answered once too.
  EXPECT_EQ(call("GET", init_cont).status, 200);
  EXPECT_EQ(call("GET", init_cont).status, 400);

  // The replay guards go when their time is over, never before.
  auto guards = rows(directory::schema::saml_seen);
  EXPECT_EQ(guards, 2u);
  EXPECT_EQ(idp::sweep_expired(dir_, kNow + 1000), 0u) << "still in use";
  EXPECT_EQ(rows(directory::schema::saml_seen), guards);
  EXPECT_GE(idp::sweep_expired(dir_, kNow + 24LL * 3600 * 1000), guards);
  EXPECT_EQ(rows(directory::schema::saml_seen), 0u);
  EXPECT_EQ(rows(directory::schema::sso), 0u);
  EXPECT_EQ(rows(directory::schema::sso_index), 0u);
}

// Sessions are found by person and by SAML NameID through sso_index, kept by every write of the
// sso table; sessions stored before the index existed are indexed once, at the first sweep.
TEST_P(SamlSsoTest, SessionsAreFoundThroughTheIndexAndOldOnesAreIndexedOnce) {
  idp::SsoSession s;
  s.sid = "sid-old";
  s.person = who("T001").id;
  s.expires = kNow + 3600 * 1000;
  s.saml = {idp::SamlParticipant{"https://sp.test", "name-1", kNameIdPersistent, "sid-old"}};
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](directory::Change& c) -> Status {
    c.put(directory::schema::sso, "key-old", idp::encode(s));  // as an older server stored it
    return ok_status();
  }));
  auto of_person = [&] { return dir_.read([&](directory::Snapshot& r) { return idp::sessions_of(r, who("T001").id); }); };
  auto named = [&](const std::string& sp, const std::string& name_id) {
    return dir_.read([&](directory::Snapshot& r) { return idp::sessions_named(r, sp, name_id); });
  };
  EXPECT_TRUE(of_person().empty());
  idp::index_sessions(dir_, kNow);
  ASSERT_EQ(of_person().size(), 1u);
  EXPECT_EQ(named("https://sp.test", "name-1").size(), 1u);
  EXPECT_TRUE(named("https://sp.test", "name-2").empty());
  EXPECT_TRUE(named("https://other.test", "name-1").empty());
  // A participant added: found under its NameID; the session erased: found nowhere, no entry left.
  s.saml.push_back(idp::SamlParticipant{"https://other.test", "name-2", kNameIdTransient, "sid-old"});
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](directory::Change& c) -> Status {
    idp::store_session(c, "key-old", s);
    return ok_status();
  }));
  EXPECT_EQ(named("https://other.test", "name-2").size(), 1u);
  EXPECT_EQ(rows(directory::schema::sso_index), 3u);
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](directory::Change& c) -> Status {
    idp::erase_session(c, "key-old");
    return ok_status();
  }));
  EXPECT_TRUE(of_person().empty());
  EXPECT_EQ(rows(directory::schema::sso_index), 0u);
  // Once only: a session stored behind the index's back later is not picked up again.
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](directory::Change& c) -> Status {
    c.put(directory::schema::sso, "key-old", idp::encode(s));
    return ok_status();
  }));
  idp::index_sessions(dir_, kNow);
  EXPECT_EQ(rows(directory::schema::sso_index), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, SamlSsoTest, testing::Values(Backend::lmdb, Backend::memory), backend_name);

}  // namespace
}  // namespace congvu::test
