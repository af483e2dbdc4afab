// Plain HTTP request and response values, so that handlers (the router in app/, the IdP, the
// admin page, SCIM) never include Beast. The HTTPS server converts to and from Beast's types.
#pragma once

#include <cctype>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace congvu::net {

struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/path?query"
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string peer;    // remote address
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::map<std::string, std::string> headers;
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Whether every header name and value of `r` can go on the wire as it is: no CR, LF or NUL in
// a value (a Set-Cookie value may hold several cookies separated by "\n", the one exception),
// names of token characters only. The HTTPS server answers 500 instead of a response that
// fails this, whoever built it.
inline bool headers_safe(const HttpResponse& r) {
  auto value_ok = [](std::string_view v, bool cookies) {
    for (char c : v)
      if (c == '\r' || c == '\0' || (c == '\n' && !cookies)) return false;
    return true;
  };
  auto name_ok = [](std::string_view n) {
    if (n.empty()) return false;
    for (char c : n)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos))
        return false;
    return true;
  };
  if (!value_ok(r.content_type, false)) return false;
  for (const auto& [k, v] : r.headers)
    if (!name_ok(k) || !value_ok(v, k == "Set-Cookie")) return false;
  return true;
}

}  // namespace congvu::net
