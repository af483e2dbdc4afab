#include "config/config.hpp"

#include <gtest/gtest.h>

namespace congvu::config {
namespace {

TEST(Config, ExampleParsesToTheDefaults) {
  auto r = parse_config(example_config(), "example.toml");
  ASSERT_TRUE(r) << r.error().message;
  Config d;
  EXPECT_EQ(r->data_dir, d.data_dir);
  EXPECT_EQ(r->threads, d.threads);
  EXPECT_EQ(r->hostname, d.hostname);
  EXPECT_EQ(r->demo, d.demo);
  EXPECT_EQ(r->directory.domain, d.directory.domain);
  EXPECT_EQ(r->directory.map_size_mb, d.directory.map_size_mb);
  EXPECT_EQ(r->directory.argon2_memory_kib, d.directory.argon2_memory_kib);
  EXPECT_EQ(r->directory.argon2_iterations, d.directory.argon2_iterations);
  EXPECT_EQ(r->directory.role_holders, d.directory.role_holders);
  EXPECT_EQ(r->directory.retirement_notice, d.directory.retirement_notice);
  EXPECT_EQ(r->directory.retention_years, d.directory.retention_years);
  for (const auto& name : Config::listener_names()) {
    EXPECT_EQ(r->listen.at(name).host, d.listen.at(name).host) << name;
    EXPECT_EQ(r->listen.at(name).port, d.listen.at(name).port) << name;
  }
  EXPECT_EQ(r->limits.connections, d.limits.connections);
  EXPECT_EQ(r->limits.connections_per_source, d.limits.connections_per_source);
  EXPECT_EQ(r->limits.pre_auth_seconds, d.limits.pre_auth_seconds);
  EXPECT_EQ(r->limits.idle_seconds, d.limits.idle_seconds);
  EXPECT_EQ(r->limits.grace_seconds, d.limits.grace_seconds);
  EXPECT_EQ(r->limits.proxy_from, d.limits.proxy_from);
  EXPECT_EQ(d.listen.at("smtp").port, 2525);
  EXPECT_EQ(d.listen.at("https").port, 8443);
  EXPECT_EQ(d.listen.at("ldaps").port, 3636);
}

TEST(Config, EmptyFileIsAllDefaults) {
  auto r = parse_config("", "empty.toml");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->data_dir, "./var");
}

TEST(Config, OverridesAndPortZero) {
  auto r = parse_config(
      "[server]\ndata_dir = \"/srv/congvu\"\nthreads = 4\n[listen]\nhttps = \"[::1]:0\"\nsmtp = \"off\"\n"
      "[directory]\ndomain = \"tinhmau.gov.vn\"\n[directory.role_mailbox]\ncommune = [\"Chủ tịch UBND xã\"]\n",
      "c.toml");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->data_dir, "/srv/congvu");
  EXPECT_EQ(r->threads, 4u);
  EXPECT_EQ(r->listen.at("https").host, "::1");
  EXPECT_EQ(r->listen.at("https").port, 0);
  EXPECT_FALSE(r->listen.at("smtp").enabled());
  EXPECT_EQ(r->directory.domain, "tinhmau.gov.vn");
  EXPECT_EQ(r->directory.role_holders.at("commune"), std::vector<std::string>{"Chủ tịch UBND xã"});
  EXPECT_EQ(r->directory.role_holders.at("division").size(), 2u) << "other kinds keep their defaults";
}

void expect_error(const std::string& text, const std::string& starts, const std::string& contains) {
  auto r = parse_config(text, "congvu.toml");
  ASSERT_FALSE(r) << text;
  EXPECT_EQ(r.error().message.rfind(starts, 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find(contains), std::string::npos) << r.error().message;
}

TEST(Config, ErrorsNameFileLineAndFix) {
  expect_error("[server]\n\ntreads = 4\n", "congvu.toml:3:", "unknown key 'treads' in [server] (known keys: data_dir, demo, hostname, threads)");
  expect_error("[server]\nthreads = \"four\"\n", "congvu.toml:2:", "must be an integer from 0 to 256");
  expect_error("[server]\nthreads = 1000\n", "congvu.toml:2:", "from 0 to 256");
  expect_error("[listen]\nsmtp = \"localhost\"\n", "congvu.toml:2:", "is not HOST:PORT");
  expect_error("[listen]\nsmtp = \"127.0.0.1:70000\"\n", "congvu.toml:2:", "HOST:PORT");
  expect_error("[listen]\npop3 = \"127.0.0.1:110\"\n", "congvu.toml:2:", "unknown key 'pop3'");
  expect_error("[server\n", "congvu.toml:1:", "congvu config example");
  expect_error("[server]\ndemo = \"yes\"\n", "congvu.toml:2:", "true or false");
  expect_error("[directory]\ndomain = \"Tinh Mau\"\n", "congvu.toml:2:", "lowercase DNS name");
  expect_error("[tls]\ncert = \"/x.pem\"\n", "congvu.toml:1:", "set both");
  expect_error("[directory.role_mailbox]\ndivision = \"Văn thư\"\n", "congvu.toml:2:", "list of positions");
  expect_error("server = 3\n", "congvu.toml:1:", "must be a table");
  expect_error("[directory]\nretirement_notice = \"Đã nghỉ hưu\"\n", "congvu.toml:2:", "printable ASCII");
  expect_error("[directory]\nretirement_notice = \"\"\n", "congvu.toml:2:", "printable ASCII");
  expect_error("[directory]\nmerged_domains = [\"Tinh Cu\"]\n", "congvu.toml:2:", "lowercase DNS names");
  expect_error("[directory]\nmerged_domains = \"tinhcu.gov.vn\"\n", "congvu.toml:2:", "merged_domains must be a list");
  expect_error("[limits]\nconnections_per_source = 0\n", "congvu.toml:2:", "an office of 500");
  expect_error("[limits]\nproxy_from = [\"haproxy.local\"]\n", "congvu.toml:2:", "IP addresses of load balancers");
  expect_error("[limits]\ngrace = 5\n", "congvu.toml:2:", "grace");
  auto ok = parse_config("[limits]\nproxy_from = [\"10.0.0.5\", \"::1\"]\ngrace_seconds = 0\n", "c.toml");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->limits.proxy_from.size(), 2u);
  EXPECT_EQ(ok->limits.grace_seconds, 0u);
}

TEST(Config, MissingFile) {
  auto r = load_config("/nonexistent/congvu.toml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/nonexistent/congvu.toml"), std::string::npos);
}

TEST(Config, ParseListen) {
  EXPECT_EQ(parse_listen("127.0.0.1:2525")->port, 2525);
  EXPECT_EQ(parse_listen("[::1]:993")->host, "::1");
  EXPECT_FALSE(parse_listen("off")->enabled());
  EXPECT_FALSE(parse_listen("::1:993"));
  EXPECT_FALSE(parse_listen(":25"));
  EXPECT_FALSE(parse_listen("host:"));
}

}  // namespace
}  // namespace congvu::config
