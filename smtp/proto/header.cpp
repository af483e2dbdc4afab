#include "smtp/proto/header.hpp"

#include <algorithm>
#include <cctype>

namespace congvu::smtp::proto {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

const HeaderField* HeaderSection::find(std::string_view name) const {
  for (const auto& f : fields)
    if (iequal(f.name, name)) return &f;
  return nullptr;
}

std::size_t HeaderSection::count(std::string_view name) const {
  return static_cast<std::size_t>(std::count_if(fields.begin(), fields.end(), [&](const HeaderField& f) { return iequal(f.name, name); }));
}

std::optional<HeaderSection> parse_header_section(std::string_view msg, HeaderError* error, std::size_t max_fields) {
  HeaderSection out;
  auto fail = [&](std::size_t line, std::string why) -> std::optional<HeaderSection> {
    if (error) *error = HeaderError{line, std::move(why)};
    return std::nullopt;
  };
  std::size_t pos = 0, line = 0;
  while (pos < msg.size()) {
    ++line;
    std::size_t eol = msg.find("\r\n", pos);
    std::size_t next = eol == std::string_view::npos ? msg.size() : eol + 2;
    std::string_view l = msg.substr(pos, (eol == std::string_view::npos ? msg.size() : eol) - pos);
    if (l.empty()) {  // the empty line ends the header section
      out.body_offset = next;
      return out;
    }
    if (l.front() == ' ' || l.front() == '\t') {
      if (out.fields.empty()) return fail(line, "a continuation line before the first field");
      auto& f = out.fields.back();
      f.raw = msg.substr(f.raw.data() - msg.data(), next - static_cast<std::size_t>(f.raw.data() - msg.data()));
      f.value = msg.substr(f.value.data() - msg.data(), (eol == std::string_view::npos ? msg.size() : eol) -
                                                             static_cast<std::size_t>(f.value.data() - msg.data()));
      pos = next;
      continue;
    }
    auto colon = l.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(line, "a header line without a field name and colon");
    std::string_view name = l.substr(0, colon);
    for (unsigned char c : name)
      if (c <= 32 || c >= 127) return fail(line, "a field name with a character outside printable ASCII");
    if (out.fields.size() >= max_fields) return fail(line, "more than " + std::to_string(max_fields) + " header fields");
    out.fields.push_back(HeaderField{name, l.substr(colon + 1), msg.substr(pos, next - pos)});
    pos = next;
  }
  out.body_offset = msg.size();  // headers only, no body
  return out;
}

std::string unfold(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\r' && i + 1 < v.size() && v[i + 1] == '\n') {
      ++i;
      continue;
    }
    out += v[i];
  }
  auto b = out.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  auto e = out.find_last_not_of(" \t");
  return out.substr(b, e - b + 1);
}

namespace {

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string normalize(std::string a) {
  auto at = a.rfind('@');
  if (at == std::string::npos) return {};
  // The domain is case-insensitive; the local part (quoted or not) is kept as written.
  for (std::size_t i = at; i < a.size(); ++i) a[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(a[i])));
  return a;
}

}  // namespace

std::vector<std::string> parse_address_list(std::string_view v) {
  std::vector<std::string> out;
  std::string current;       // bare text of the current entry, comments and quotes removed
  std::string angle;         // content of <...> if seen
  bool has_angle = false;
  auto flush = [&] {
    std::string a = has_angle ? trim(angle) : trim(current);
    // Drop a source route in an angle address (obsolete syntax).
    if (has_angle && !a.empty() && a.front() == '@') {
      auto c = a.find(':');
      a = c == std::string::npos ? std::string() : a.substr(c + 1);
    }
    a = normalize(a);
    if (!a.empty()) out.push_back(a);
    current.clear();
    angle.clear();
    has_angle = false;
  };
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '"') {  // quoted string: part of a display name or a quoted local part
      std::string q = "\"";
      for (++i; i < v.size() && v[i] != '"'; ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) q += v[i++];
        q += v[i];
      }
      q += '"';
      current += q;
    } else if (c == '(') {  // comment, nested
      int depth = 1;
      for (++i; i < v.size() && depth > 0; ++i) {
        if (v[i] == '\\') ++i;
        else if (v[i] == '(') ++depth;
        else if (v[i] == ')') --depth;
      }
      --i;
    } else if (c == '<') {
      auto close = v.find('>', i);
      if (close == std::string_view::npos) break;
      angle = std::string(v.substr(i + 1, close - i - 1));
      has_angle = true;
      i = close;
    } else if (c == ':' && !has_angle) {  // group name: forget what came before
      current.clear();
    } else if (c == ',' || c == ';') {
      flush();
    } else {
      current += c;
    }
  }
  flush();
  return out;
}

}  // namespace congvu::smtp::proto
