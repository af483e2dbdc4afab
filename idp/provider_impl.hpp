// Internal to idp/: what the endpoint files of the Provider share.
#pragma once

#include <boost/json.hpp>
#include <map>
#include <string>

#include "common/text.hpp"
#include "idp/pages.hpp"
#include "idp/provider.hpp"
#include "common/web.hpp"
#include "directory/throttle.hpp"

namespace congvu::idp {

inline constexpr const char* kCookie = "__Host-congvu";

struct Provider::Request {
  const net::HttpRequest& http;
  std::string path;
  // The query (GET) or the form body (POST); params_ok is false when either was malformed
  // (bad escapes, repeated names).
  std::map<std::string, std::string> params;
  bool params_ok = true;
  std::string cookie;  // the SSO/browser cookie, empty when absent

  std::string get(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
  bool has(const std::string& name) const { return params.count(name) > 0; }
};

// What a grant produced, for token_reply().
struct Provider::Issued {
  directory::Client client;
  std::optional<directory::Person> person;  // none for client_credentials
  std::vector<std::string> scopes;
  std::string sid, amr, nonce, family;
  UnixMs auth_time = 0;
  std::string refresh_token;  // empty: none issued
};

// The claims released for `scopes` (and the client's extra claims) about `p`: the person's
// current unit and position, so the first token after a transfer already carries the new unit.
boost::json::object person_claims(directory::Snapshot& s, const directory::Person& p,
                                  const std::vector<std::string>& scopes, const directory::Client* client);

inline bool contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The page for a form whose CSRF token or fields are not valid (403).
net::HttpResponse form_expired();
// The page for a store failure (500).
net::HttpResponse store_failed(const Error& e);
using directory::wait_seconds;

std::string set_cookie(std::string_view value, UnixMs max_age_ms);
std::string clear_cookie();
net::HttpResponse html_page(int status, std::string body);

}  // namespace congvu::idp
