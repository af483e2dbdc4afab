// The one throttle of every credential check (directory/throttle.hpp): the policy through its
// answers, with an injected clock (the `now` arguments), and its log lines.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "directory/throttle.hpp"

namespace congvu::directory {
namespace {

constexpr UnixMs kT = 1'780'000'000'000;

TEST(Throttle, SourceNetworks) {
  EXPECT_EQ(source_network("203.0.113.5"), "203.0.113.5");
  EXPECT_EQ(source_network("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(source_network("2001:db8:1:2::77"), "2001:db8:1:2::/64") << "one /64, one source";
  EXPECT_EQ(source_network("[2001:db8:1:3::1]"), "2001:db8:1:3::/64");
  EXPECT_EQ(source_network("::ffff:198.51.100.7"), "198.51.100.7") << "IPv4-mapped is IPv4";
  EXPECT_EQ(source_network("not an address"), "not an address");
}

TEST(Throttle, LogValuesCannotForgeFields) {
  EXPECT_EQ(log_value("annv@tinhmau.test"), "annv@tinhmau.test");
  EXPECT_EQ(log_value("a src=192.0.2.1"), "\"a\\x20src=192.0.2.1\"") << "no value holds a space";
  EXPECT_EQ(log_value("x\r\nevent=auth"), "\"x\\x0d\\x0aevent=auth\"");
  EXPECT_EQ(log_value("q\"\\"), "\"q\\\"\\\\\"");
  EXPECT_EQ(log_value(""), "\"\"");
  EXPECT_EQ(log_value("Văn"), "\"V\\xc4\\x83n\"");
}

TEST(Throttle, GrowingDelaysPerAccountAndNetwork) {
  std::vector<std::string> log;
  LoginThrottle t([&](const std::string& l) { log.push_back(l); });
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(t.wait_ms("annv", "203.0.113.5", kT), 0);
    t.failure("annv", "203.0.113.5", kT, "imap");
  }
  EXPECT_EQ(t.wait_ms("annv", "203.0.113.5", kT), 0) << "four failures are free";
  t.failure("annv", "203.0.113.5", kT, "imap");
  EXPECT_EQ(t.wait_ms("annv", "203.0.113.5", kT, "imap"), 1000);
  EXPECT_EQ(log.back(), "event=auth proto=imap src=203.0.113.5 user=annv result=throttled wait=1");
  t.failure("annv", "203.0.113.5", kT + 1000, "imap");
  EXPECT_EQ(t.wait_ms("annv", "203.0.113.5", kT + 1000), 2000) << "the wait doubles";
  t.failure("annv", "203.0.113.5", kT + 3000, "imap");
  EXPECT_EQ(t.wait_ms("annv", "203.0.113.5", kT + 3000), 4000);
  // The same /64 is the same source; another network and another account are not refused.
  EXPECT_EQ(t.wait_ms("annv", "203.0.113.6", kT + 3000), 0);
  EXPECT_EQ(t.wait_ms("hantt", "203.0.113.5", kT + 3000), 0);
  for (int i = 0; i < 5; ++i) t.failure("ducdv", "2001:db8:1:2::" + std::to_string(i + 1), kT, "smtp");
  EXPECT_GT(t.wait_ms("ducdv", "2001:db8:1:2::ffff", kT), 0) << "five addresses of one /64 are one source";
  // Case does not make another account; a success resets the pair.
  EXPECT_GT(t.wait_ms("ANNV", "203.0.113.5", kT + 3000), 0);
  t.success("annv", "203.0.113.5", kT + 7000);
  EXPECT_EQ(t.wait_ms("annv", "203.0.113.5", kT + 7000), 0);
  // The wait is capped at 15 minutes.
  for (int i = 0; i < 40; ++i) t.failure("longdv", "192.0.2.1", kT, "web");
  EXPECT_EQ(t.wait_ms("longdv", "192.0.2.1", kT), 15 * 60 * 1000);
}

TEST(Throttle, RepeatedWrongPasswordCountsOnce) {
  std::vector<std::string> log;
  LoginThrottle t([&](const std::string& l) { log.push_back(l); });
  t.failure("annv", "203.0.113.5", kT, "imap", false, "wrong-password");
  for (int i = 0; i < 50; ++i) t.failure("annv", "203.0.113.5", kT + i, "imap", /*repeated=*/true, "wrong-password");
  EXPECT_EQ(t.wait_ms("annv", "203.0.113.5", kT + 100), 0) << "a phone retrying its stale password is not throttled";
  EXPECT_EQ(log.back(), "event=auth proto=imap src=203.0.113.5 user=annv result=repeat reason=wrong-password");
}

TEST(Throttle, DistributedGuessingIsSlowedButNobodyIsLockedOut) {
  LoginThrottle t;
  // The Chủ tịch signs in every day from the office.
  t.success("chutich", "198.51.100.10", kT);
  // 30 addresses guess 3 passwords each: 90 failures against the account.
  for (int a = 0; a < 30; ++a)
    for (int i = 0; i < 3; ++i) t.failure("chutich", "192.0.2." + std::to_string(a), kT + i, "imap");
  // An address that has not failed is never refused, the office keeps its allowance, and a
  // new guesser now waits from its first failure.
  EXPECT_EQ(t.wait_ms("chutich", "198.51.100.10", kT + 10), 0);
  EXPECT_EQ(t.wait_ms("chutich", "203.0.113.99", kT + 10), 0);
  t.failure("chutich", "203.0.113.99", kT + 10, "imap");
  EXPECT_EQ(t.wait_ms("chutich", "203.0.113.99", kT + 10), 1000) << "under attack: no free failures for new sources";
  for (int i = 0; i < 3; ++i) t.failure("chutich", "198.51.100.10", kT + 10, "imap");
  EXPECT_EQ(t.wait_ms("chutich", "198.51.100.10", kT + 10), 0) << "the office keeps its four free failures";
  // Ten minutes later the account is no longer under attack.
  t.failure("chutich", "203.0.113.100", kT + 11 * 60 * 1000, "imap");
  EXPECT_EQ(t.wait_ms("chutich", "203.0.113.100", kT + 11 * 60 * 1000), 0);
}

TEST(Throttle, SprayingFromOneNetworkSparesTheColleaguesBehindIt) {
  LoginThrottle t;
  const std::string nat = "203.0.113.1";
  t.success("hantt", nat, kT);  // a colleague who works behind the same NAT address
  for (int i = 0; i < 101; ++i) t.failure("user" + std::to_string(i), nat, kT, "imap");
  EXPECT_GT(t.wait_ms("someone-else", nat, kT + 1), 0) << "the spraying network is blocked for new accounts";
  EXPECT_EQ(t.wait_ms("hantt", nat, kT + 1), 0) << "who signed in from it before is not";
  EXPECT_EQ(t.wait_ms("someone-else", "198.51.100.1", kT + 1), 0) << "other networks are not";
  EXPECT_EQ(t.wait_ms("someone-else", nat, kT + 10 * 60 * 1000 + 1), 0) << "the block ends";
}

TEST(Throttle, SecretsAndDisconnectsAreLogged) {
  std::vector<std::string> log;
  LoginThrottle t([&](const std::string& l) { log.push_back(l); });
  int checks = 0;
  auto wrong = [&] {
    ++checks;
    return std::optional<bool>(false);
  };
  for (int i = 0; i < 5; ++i) EXPECT_EQ(t.secret("oidc", "client:crm", "192.0.2.9", kT, wrong).kind, LoginThrottle::Checked::wrong);
  EXPECT_EQ(log.back(), "event=auth proto=oidc src=192.0.2.9 user=client:crm result=fail");
  auto r = t.secret("oidc", "client:crm", "192.0.2.9", kT, wrong);
  EXPECT_EQ(r.kind, LoginThrottle::Checked::throttled);
  EXPECT_EQ(r.wait, 1000);
  EXPECT_EQ(checks, 5) << "a throttled attempt is not checked";
  EXPECT_EQ(t.secret("oidc", "client:crm", "192.0.2.9", kT, [] { return std::optional<bool>(); }).kind,
            LoginThrottle::Checked::throttled);
  EXPECT_EQ(t.secret("oidc", "client:crm", "192.0.2.10", kT, [] { return std::optional<bool>(); }).kind,
            LoginThrottle::Checked::busy);
  EXPECT_EQ(log.back(), "event=auth proto=oidc src=192.0.2.10 user=client:crm result=busy");
  t.disconnected("192.0.2.9", "smtp", 3);
  EXPECT_EQ(log.back(), "event=auth_disconnect proto=smtp src=192.0.2.9 failures=3");
}

}  // namespace
}  // namespace congvu::directory
