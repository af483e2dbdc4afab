// Small pieces of HTTP for the web front ends (the IdP, SCIM, the admin page), over the plain values of common/net/http.hpp:
// application/x-www-form-urlencoded and query decoding, cookies, HTML escaping, building
// redirect URIs, HTTP Basic credentials and JSON replies. Pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/net/http.hpp"

namespace congvu::web {

// Decodes "a=1&b=x%20y+z". A repeated name or a malformed escape makes the whole input
// invalid (nullopt): OAuth 2.0 (RFC 6749 3.1) forbids repeated parameters.
std::optional<std::map<std::string, std::string>> decode_form(std::string_view s);
std::string percent_encode(std::string_view s);  // everything but RFC 3986 unreserved
// The query part of a request target ("" when none).
std::string_view query_of(std::string_view target);
std::string_view path_of(std::string_view target);

// Cookie header -> name/value pairs (first wins).
std::map<std::string, std::string> cookies(const net::HttpRequest& req);
// A return target on this server, never another origin: a relative reference parsed as an
// RFC 9112 origin-form (an absolute path and an optional query, Boost.URL) of at most 2 000
// bytes: "/x?y=1", but not "//host", "/\\host", nor anything with a space, a control
// character (a TAB, CR or LF is dropped by browsers, so "/<TAB>/host" would become "//host"
// there, and CR/LF would end the Location header), a backslash or a fragment.
bool local_path(std::string_view p);

// `uri` with the parameters appended to its query (or to its fragment when `fragment`).
std::string with_params(std::string uri, const std::vector<std::pair<std::string, std::string>>& params);

// "Basic base64(id:secret)" with both parts percent-decoded (RFC 6749 2.3.1); nullopt if malformed.
std::optional<std::pair<std::string, std::string>> basic_credentials(const net::HttpRequest& req);
// "Bearer TOKEN" from the Authorization header.
std::optional<std::string> bearer(const net::HttpRequest& req);

net::HttpResponse json_reply(int status, std::string body);
// {"error":code,"error_description":desc} (RFC 6749 5.2); 401 replies add WWW-Authenticate.
net::HttpResponse oauth_error(int status, std::string_view code, std::string_view description);
net::HttpResponse redirect(const std::string& location);

}  // namespace congvu::web
