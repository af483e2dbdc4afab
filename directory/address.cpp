#include "directory/address.hpp"

#include "common/text.hpp"

namespace congvu::directory {

NameParts split_full_name(std::string_view full_name) {
  std::string s = text::squeeze(full_name);
  NameParts n;
  auto first = s.find(' ');
  if (first == std::string::npos) {
    n.given = s;
    return n;
  }
  auto last = s.rfind(' ');
  n.family = s.substr(0, first);
  n.given = s.substr(last + 1);
  if (last > first) n.middle = s.substr(first + 1, last - first - 1);
  return n;
}

std::string address_base(const NameParts& n) {
  auto letters = [](std::string_view folded) {
    std::string out;
    for (char c : folded)
      if (c >= 'a' && c <= 'z') out += c;
    return out;
  };
  std::string base = letters(text::fold(n.given));
  if (base.empty()) return {};
  for (const auto* part : {&n.family, &n.middle}) {
    for (const auto& tok : text::fold_tokens(*part)) {
      std::string l = letters(tok);
      if (!l.empty()) base += l[0];
    }
  }
  return base;
}

std::string address_candidate(std::string_view base, unsigned n) {
  std::string s(base);
  if (n > 1) s += std::to_string(n);
  return s;
}

bool valid_local_part(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return false;
  return s.back() != '.' && s.find("..") == std::string_view::npos;
}

bool valid_unit_code(std::string_view c) {
  if (c.empty() || c.size() > 64) return false;
  for (char ch : c)
    if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
          ch == '.' || ch == '-' || ch == '_'))
      return false;
  return true;
}

bool valid_text(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max || !text::valid_utf8(s)) return false;
  for (unsigned char c : s)
    if (c < 0x20) return false;
  return true;
}

bool valid_slug(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

}  // namespace congvu::directory
