// The IdP unit tests' provider configuration, and one browser-like request through
// idp::Provider::handle(): the SSO cookie the test holds is
// sent and replaced by any Set-Cookie of the reply. Shared by the OIDC and SAML tests.
#pragma once

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "idp/provider.hpp"

namespace congvu::test {

// The provider configuration of the IdP unit tests (issuer https://sso.test, fixed keys).
inline idp::ProviderConfig idp_test_config() {
  idp::ProviderConfig c;
  c.issuer = "https://sso.test";
  c.csrf_key = "k";
  c.factor_key = std::string(32, 'f');
  return c;
}

inline net::HttpResponse idp_call(idp::Provider& idp, std::string& cookie, std::string method, std::string target,
                                  std::string body, UnixMs now, const std::string& authorization = {}) {
  net::HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.peer = "127.0.0.1";
  if (r.method == "POST") r.headers["content-type"] = "application/x-www-form-urlencoded";
  if (!cookie.empty()) r.headers["cookie"] = "__Host-congvu=" + cookie;
  if (!authorization.empty()) r.headers["authorization"] = authorization;
  auto res = idp.handle(r, now);
  EXPECT_TRUE(res.has_value()) << r.target;
  if (!res) return net::HttpResponse{404, "text/plain", {}, ""};
  if (auto it = res->headers.find("Set-Cookie"); it != res->headers.end()) {
    std::smatch m;
    if (std::regex_search(it->second, m, std::regex("__Host-congvu=([^;]*)"))) cookie = m[1];
  }
  return *res;
}

}  // namespace congvu::test
