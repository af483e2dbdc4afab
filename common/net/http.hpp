// Plain HTTP request and response values, so that handlers (the router in app/, the IdP, the
// admin page, SCIM) never include Beast. The HTTPS server converts to and from Beast's types.
#pragma once

#include <functional>
#include <map>
#include <string>

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

}  // namespace congvu::net
