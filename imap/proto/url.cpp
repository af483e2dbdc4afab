#include "imap/proto/url.hpp"

#include <charconv>
#include <vector>

namespace congvu::imap::proto {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

// RFC 3986 percent-decoding; nullopt on a bad escape or a NUL/CR/LF.
std::optional<std::string> pct_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int h = hex(s[i + 1]), l = hex(s[i + 2]);
      if (h < 0 || l < 0) return std::nullopt;
      c = static_cast<char>(h * 16 + l);
      i += 2;
    } else if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return std::nullopt;  // a URL has no spaces or controls as written
    }
    if (c == '\0' || c == '\r' || c == '\n') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

template <class T>
std::optional<T> number(std::string_view s, bool nonzero) {
  T v{};
  if (s.empty() || s.size() > 20 || s[0] == '+' || s[0] == '-') return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || (nonzero && v == 0)) return std::nullopt;
  return v;
}

// Splits "a;K=v" into "a" and its ;K=v parameters.
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

}  // namespace

std::optional<ImapUrl> parse_imap_url(std::string_view s) {
  ImapUrl u;
  if (s.size() > 8192) return std::nullopt;
  std::string_view path;
  if (s.size() >= 7 && iequals(s.substr(0, 7), "imap://")) {
    std::string_view rest = s.substr(7);
    std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    std::string_view server = rest.substr(0, slash);
    path = rest.substr(slash + 1);
    std::size_t at = server.rfind('@');
    if (at != std::string_view::npos) {
      std::string_view info = server.substr(0, at);
      std::size_t semi = info.find(';');  // ;AUTH=<type>
      auto user = pct_decode(info.substr(0, semi));
      if (!user) return std::nullopt;
      if (!user->empty()) u.user = *user;
      if (semi != std::string_view::npos && !(info.size() > semi + 6 && iequals(info.substr(semi, 6), ";AUTH=")))
        return std::nullopt;
      server = server.substr(at + 1);
    }
    std::size_t colon = server.rfind(':'), bracket = server.rfind(']');  // "[::1]:143"
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
      if (!number<std::uint16_t>(server.substr(colon + 1), true)) return std::nullopt;
      server = server.substr(0, colon);
    }
    if (server.empty()) return std::nullopt;
    u.host = std::string(server);
  } else if (!s.empty() && s[0] == '/') {
    path = s.substr(1);
  } else if (!s.empty() && s[0] == ';') {
    u.relative_mailbox = true;
    path = s;  // ";UID=20/;SECTION=1"
  } else {
    return std::nullopt;
  }
  // path: [enc-mailbox [;UIDVALIDITY=n]] "/;UID=n" ["/;SECTION=s"] ["/;PARTIAL=o[.l]"] [;URLAUTH...]
  std::string_view mailbox_part;
  std::string_view tail = path;
  if (!u.relative_mailbox) {
    std::size_t mark = path.find("/;");
    if (mark == std::string_view::npos) return std::nullopt;  // no ;UID: a mailbox, not a message
    mailbox_part = path.substr(0, mark);
    tail = path.substr(mark + 1);
    auto params = split(mailbox_part, ';');
    auto name = pct_decode(params[0]);
    if (!name || name->empty()) return std::nullopt;
    u.mailbox = *name;
    for (std::size_t i = 1; i < params.size(); ++i) {
      std::string_view kv = params[i];
      if (kv.size() > 12 && iequals(kv.substr(0, 12), "UIDVALIDITY=")) {
        u.uidvalidity = number<std::uint32_t>(kv.substr(12), true);
        if (!u.uidvalidity) return std::nullopt;
      } else {
        return std::nullopt;
      }
    }
  }
  bool have_uid = false;
  for (std::string_view seg : split(tail, '/')) {
    for (std::string_view kv : split(seg, ';')) {
      if (kv.empty()) continue;
      std::size_t eq = kv.find('=');
      if (eq == std::string_view::npos) return std::nullopt;
      std::string_view k = kv.substr(0, eq), v = kv.substr(eq + 1);
      if (iequals(k, "UID") && !have_uid) {
        auto n = number<std::uint32_t>(v, true);
        if (!n) return std::nullopt;
        u.uid = *n;
        have_uid = true;
      } else if (iequals(k, "SECTION") && have_uid && u.section.empty() && !u.partial) {
        auto d = pct_decode(v);
        if (!d || d->empty()) return std::nullopt;
        u.section = *d;
      } else if (iequals(k, "PARTIAL") && have_uid && !u.partial) {
        std::size_t dot = v.find('.');
        auto off = number<std::uint64_t>(v.substr(0, dot), false);
        if (!off) return std::nullopt;
        std::optional<std::uint64_t> len;
        if (dot != std::string_view::npos) {
          len = number<std::uint64_t>(v.substr(dot + 1), true);
          if (!len) return std::nullopt;
        }
        u.partial = std::make_pair(*off, len);
      } else if ((iequals(k, "EXPIRE") || iequals(k, "URLAUTH")) && have_uid) {
        u.urlauth = true;
      } else {
        return std::nullopt;
      }
    }
  }
  if (!have_uid) return std::nullopt;
  return u;
}

}  // namespace congvu::imap::proto
