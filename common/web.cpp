#include "common/web.hpp"

#include <boost/url/parse.hpp>

#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "common/json.hpp"

namespace congvu::web {

namespace {

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int h = codec::hex_digit(s[i + 1]), l = codec::hex_digit(s[i + 2]);
      if (h < 0 || l < 0) return std::nullopt;
      out += static_cast<char>(h * 16 + l);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}
}  // namespace

std::optional<std::map<std::string, std::string>> decode_form(std::string_view s) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    auto j = s.find('&', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view part = s.substr(i, j - i);
    if (!part.empty()) {
      auto eq = part.find('=');
      auto name = percent_decode(part.substr(0, eq), true);
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1), true);
      if (!name || !value) return std::nullopt;
      if (!out.emplace(std::move(*name), std::move(*value)).second) return std::nullopt;
    }
    i = j + 1;
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

std::string html(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
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
  auto id = percent_decode(std::string_view(*raw).substr(0, colon), true);
  auto secret = percent_decode(std::string_view(*raw).substr(colon + 1), true);
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
