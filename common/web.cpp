#include "common/web.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <boost/url/pct_string_view.hpp>

#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "common/json.hpp"

namespace congvu::web {

namespace {
// One application/x-www-form-urlencoded component ('+' is a space), by Boost.URL; nullopt
// when an escape is malformed.
std::optional<std::string> form_decode(std::string_view s) {
  auto pct = boost::urls::make_pct_string_view(boost::urls::string_view(s.data(), s.size()));
  if (!pct) return std::nullopt;
  boost::urls::encoding_opts form;
  form.space_as_plus = true;
  return pct->decode(form);
}
}  // namespace

std::optional<std::map<std::string, std::string>> decode_form(std::string_view s) {
  // Boost.URL parses the query grammar (RFC 3986 3.4): a malformed escape or a character that
  // must have been escaped makes the whole input invalid. Keys and values are then decoded
  // with '+' as a space (application/x-www-form-urlencoded).
  // (Through parse_relative_ref: Boost 1.81's parse_query() crashes on any input.)
  if (s.find('#') != std::string_view::npos) return std::nullopt;
  std::string target = "?" + std::string(s);
  auto ref = boost::urls::parse_relative_ref(target);
  if (!ref) return std::nullopt;
  auto params = ref->encoded_params();
  boost::urls::encoding_opts form;
  form.space_as_plus = true;
  std::map<std::string, std::string> out;
  for (const auto& p : params) {
    if (p.key.empty() && !p.has_value) continue;  // "a=1&&b=2"
    std::string value = p.has_value ? p.value.decode(form) : std::string();
    if (!out.emplace(p.key.decode(form), std::move(value)).second) return std::nullopt;
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string_view query_of(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

std::map<std::string, std::string> cookies(const net::HttpRequest& req) {
  std::map<std::string, std::string> out;
  auto it = req.headers.find("cookie");
  if (it == req.headers.end()) return out;
  std::string_view s = it->second;
  while (!s.empty()) {
    auto semi = s.find(';');
    std::string_view part = s.substr(0, semi);
    s = semi == std::string_view::npos ? std::string_view() : s.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace(std::string(part.substr(0, eq)), std::string(part.substr(eq + 1)));
  }
  return out;
}

bool local_path(std::string_view p) {
  if (p.empty() || p.size() > 2000 || p[0] != '/' || (p.size() > 1 && (p[1] == '/' || p[1] == '\\'))) return false;
  // Printable ASCII only (what Boost.URL's grammar allows is a subset of it): no byte a
  // browser would drop or reinterpret.
  for (char c : p)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '\\') return false;
  return boost::urls::parse_origin_form(p).has_value();
}

std::string with_params(std::string uri, const std::vector<std::pair<std::string, std::string>>& params) {
  char sep = uri.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : params) {
    uri += sep;
    uri += percent_encode(k) + "=" + percent_encode(v);
    sep = '&';
  }
  return uri;
}

std::optional<std::pair<std::string, std::string>> basic_credentials(const net::HttpRequest& req) {
  auto it = req.headers.find("authorization");
  if (it == req.headers.end() || it->second.size() < 6 || !(it->second.compare(0, 6, "Basic ") == 0 ||
                                                            it->second.compare(0, 6, "basic ") == 0))
    return std::nullopt;
  auto raw = crypto::base64_decode(std::string_view(it->second).substr(6));
  if (!raw) return std::nullopt;
  auto colon = raw->find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto id = form_decode(std::string_view(*raw).substr(0, colon));
  auto secret = form_decode(std::string_view(*raw).substr(colon + 1));
  if (!id || !secret) return std::nullopt;
  return std::make_pair(std::move(*id), std::move(*secret));
}

std::optional<std::string> bearer(const net::HttpRequest& req) {
  auto it = req.headers.find("authorization");
  if (it == req.headers.end() || it->second.size() < 8) return std::nullopt;
  std::string scheme = it->second.substr(0, 7);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return std::nullopt;
  std::string token = it->second.substr(7);
  while (!token.empty() && token.front() == ' ') token.erase(0, 1);
  if (token.empty()) return std::nullopt;
  return token;
}

net::HttpResponse json_reply(int status, std::string body) {
  return net::HttpResponse{status, "application/json", {{"Pragma", "no-cache"}}, std::move(body)};
}

net::HttpResponse oauth_error(int status, std::string_view code, std::string_view description) {
  auto r = json_reply(status, json_object({{"error", std::string(code)}, {"error_description", std::string(description)}}));
  if (status == 401) r.headers["WWW-Authenticate"] = "Basic realm=\"congvu\"";
  return r;
}

net::HttpResponse redirect(const std::string& location) {
  return net::HttpResponse{303, "text/plain; charset=utf-8", {{"Location", location}}, ""};
}

}  // namespace congvu::web
