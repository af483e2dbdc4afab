// SPF, DKIM and DMARC on a fixed DNS table (StaticDns). DKIM signatures come from our own
// signer here; tests/integration/test_smtp_inbound.py checks signatures made by python3-dkim
// (simple and relaxed) against a real resolver and dnsmasq.
#include <gtest/gtest.h>

#include "smtp/authcheck.hpp"
#include "smtp/dkim.hpp"
#include "tests/support/tmpdir.hpp"

namespace congvu::smtp {
namespace {

TEST(Spf, MechanismsQualifiersAndLimits) {
  StaticDns dns;
  dns.txt_records["example.net"] = {"v=spf1 ip4:192.0.2.0/24 include:_spf.example.net mx a:web.example.net/30 -all"};
  dns.txt_records["_spf.example.net"] = {"v=spf1 ip6:2001:db8::/32 ~all"};
  dns.mx_records["example.net"] = {{10, "mx.example.net"}};
  dns.address_records["mx.example.net"] = {"198.51.100.7"};
  dns.address_records["web.example.net"] = {"203.0.113.8"};
  auto spf = [&](const std::string& ip) { return check_spf(dns, ip, "example.net", "a@example.net", "h"); };
  EXPECT_EQ(spf("192.0.2.77"), AuthResult::pass);
  EXPECT_EQ(spf("2001:db8::1"), AuthResult::pass);      // through include
  EXPECT_EQ(spf("198.51.100.7"), AuthResult::pass);     // mx
  EXPECT_EQ(spf("203.0.113.11"), AuthResult::pass);     // a:/30
  EXPECT_EQ(spf("203.0.113.12"), AuthResult::fail);     // outside /30: -all
  EXPECT_EQ(check_spf(dns, "192.0.2.1", "nospf.example", "a@nospf.example", "h"), AuthResult::none);
  dns.txt_records["two.example"] = {"v=spf1 -all", "v=spf1 +all"};
  EXPECT_EQ(check_spf(dns, "192.0.2.1", "two.example", "a@two.example", "h"), AuthResult::permerror);
  dns.txt_records["redir.example"] = {"v=spf1 redirect=example.net"};
  EXPECT_EQ(check_spf(dns, "192.0.2.9", "redir.example", "a@redir.example", "h"), AuthResult::pass);
  // More than 10 DNS mechanisms: permerror (RFC 7208 4.6.4).
  std::string many = "v=spf1";
  for (int i = 0; i < 11; ++i) many += " a:h" + std::to_string(i) + ".example";
  dns.txt_records["many.example"] = {many + " -all"};
  for (int i = 0; i < 11; ++i) dns.address_records["h" + std::to_string(i) + ".example"] = {"10.0.0.1"};
  EXPECT_EQ(check_spf(dns, "192.0.2.1", "many.example", "a@many.example", "h"), AuthResult::permerror);
  // Macros: exists:%{i}._ip.%{d} and %{l}.
  dns.txt_records["macro.example"] = {"v=spf1 exists:%{ir}._ip.%{d} ?exists:%{l}.users.%{d2} -all"};
  dns.address_records["1.2.0.192._ip.macro.example"] = {"127.0.0.2"};
  dns.address_records["bob.users.macro.example"] = {"127.0.0.2"};
  EXPECT_EQ(check_spf(dns, "192.0.2.1", "macro.example", "x@macro.example", "h"), AuthResult::pass);
  EXPECT_EQ(check_spf(dns, "192.0.2.9", "macro.example", "bob@macro.example", "h"), AuthResult::neutral);
  EXPECT_EQ(check_spf(dns, "192.0.2.9", "macro.example", "eve@macro.example", "h"), AuthResult::fail);
  // Prefix lengths that are not numbers, too long, or too large: permerror, never an exception.
  for (std::string rec : {"v=spf1 ip4:192.0.2.0/abc -all", "v=spf1 ip4:192.0.2.0/33 -all", "v=spf1 a/99999999999999999999 -all",
                          "v=spf1 mx//129 -all", "v=spf1 ip6:2001:db8::/ -all"}) {
    dns.txt_records["cidr.example"] = {rec};
    EXPECT_EQ(check_spf(dns, "192.0.2.1", "cidr.example", "a@cidr.example", "h"), AuthResult::permerror) << rec;
  }
}

class InboundChecks : public testing::Test {
 protected:
  void SetUp() override {
    for (auto alg : {DkimAlgorithm::rsa_sha256, DkimAlgorithm::ed25519_sha256}) {
      auto k = generate_dkim_key(dir_.path(), "example.net", alg == DkimAlgorithm::rsa_sha256 ? "r1" : "e1", alg);
      dns_.txt_records[k.dns_name] = {k.dns_txt};
    }
    signer_ = DkimSigner::load(dir_.path(), "example.net");
    dns_.txt_records["example.net"] = {"v=spf1 ip4:192.0.2.0/24 -all"};
    dns_.txt_records["_dmarc.example.net"] = {"v=DMARC1; p=reject; adkim=r; aspf=r"};
  }
  std::string signed_message(const std::string& from = "Ngân hàng <tb@example.net>") {
    std::string m = "From: " + from + "\r\nTo: annv@tinhmau.test\r\nSubject: Thông báo\r\n\r\nNội dung.\r\n";
    return signer_.sign(m, system_now_ms()) + m;
  }
  test::TempDir dir_;
  StaticDns dns_;
  DkimSigner signer_;
};

TEST_F(InboundChecks, DkimVerifiesBothAlgorithmsAndCatchesTampering) {
  auto m = signed_message();
  auto r = verify_dkim(dns_, m, system_now_ms());
  ASSERT_EQ(r.size(), 2u);
  for (const auto& c : r) EXPECT_EQ(c.result, AuthResult::pass) << c.algorithm << ": " << c.reason;
  auto tampered = m;
  tampered.replace(tampered.find("Nội dung"), 3, "Noi");
  for (const auto& c : verify_dkim(dns_, tampered, system_now_ms())) EXPECT_EQ(c.result, AuthResult::fail);
  auto subject = m;
  subject.replace(subject.find("Subject: Thông"), 14, "Subject: THONG");
  for (const auto& c : verify_dkim(dns_, subject, system_now_ms())) {
    EXPECT_EQ(c.result, AuthResult::fail);
    EXPECT_EQ(c.reason, "signature does not verify");
  }
  // x= and l= that are not small decimal numbers: permerror (no overflow in x * 1000).
  for (std::string tag : {"x=99999999999999999999; ", "x=abc; ", "l=18446744073709551616; ", "l=-1; "}) {
    auto odd = m;
    odd.insert(odd.find("DKIM-Signature: ") + 16, tag);
    auto results = verify_dkim(dns_, odd, system_now_ms());  // the first signature has the odd tag
    ASSERT_FALSE(results.empty());
    EXPECT_EQ(results.front().result, AuthResult::permerror) << tag << results.front().reason;
  }
  dns_.txt_records["r1._domainkey.example.net"] = {"v=DKIM1; k=rsa; p="};  // revoked
  for (const auto& c : verify_dkim(dns_, m, system_now_ms()))
    EXPECT_EQ(c.result, c.selector == "r1" ? AuthResult::permerror : AuthResult::pass) << c.selector;
}

TEST_F(InboundChecks, DmarcAlignsSpfOrDkimWithFrom) {
  // SPF passes and aligns: pass, even without DKIM.
  std::string plain = "From: tb@example.net\r\nSubject: x\r\n\r\nx\r\n";
  auto a = check_inbound(dns_, {"192.0.2.5", "mx.example.net", "bounce@example.net", plain});
  EXPECT_EQ(a.spf, AuthResult::pass);
  EXPECT_EQ(a.dmarc, AuthResult::pass);
  // From a foreign IP with a valid aligned DKIM signature: SPF fails, DMARC passes.
  auto m = signed_message();
  a = check_inbound(dns_, {"198.51.100.1", "relay.example.org", "x@example.net", m});
  EXPECT_EQ(a.spf, AuthResult::fail);
  EXPECT_EQ(a.dmarc, AuthResult::pass);
  // Spoofed From with no signature from a foreign IP: fail, policy reject, applies (pct 100).
  a = check_inbound(dns_, {"198.51.100.1", "spoof.example.org", "x@spoof.example.org", plain});
  EXPECT_EQ(a.dmarc, AuthResult::fail);
  EXPECT_EQ(a.dmarc_policy, "reject");
  EXPECT_TRUE(a.dmarc_applies);
  auto h = a.header("mail.tinhmau.test");
  EXPECT_NE(h.find("dmarc=fail (p=reject) header.from=example.net"), std::string::npos) << h;
  // A subdomain falls back to the organizational domain's record and its sp=.
  dns_.txt_records["_dmarc.example.net"] = {"v=DMARC1; p=reject; sp=quarantine"};
  std::string sub = "From: a@news.example.net\r\nSubject: x\r\n\r\nx\r\n";
  a = check_inbound(dns_, {"198.51.100.1", "h", "x@other.example", sub});
  EXPECT_EQ(a.dmarc, AuthResult::fail);
  EXPECT_EQ(a.dmarc_policy, "quarantine");
}

TEST(Dmarc, OrganizationalDomainFromThePublicSuffixList) {
  EXPECT_EQ(organizational_domain("mail.tinhmau.gov.vn"), "tinhmau.gov.vn");
  EXPECT_EQ(organizational_domain("a.b.example.co.uk"), "example.co.uk");
  EXPECT_EQ(organizational_domain("news.example.net"), "example.net");
  EXPECT_EQ(organizational_domain("example.net"), "example.net");
}

}  // namespace
}  // namespace congvu::smtp
