// Pieces shared by the protocol transcript runners (tests/transcripts/<protocol>/*.txt).
#pragma once

#include <algorithm>
#include <deque>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace congvu::test {

// Client text with \r \n \0 \t and \\ escapes.
inline std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    out += c == 'r' ? '\r' : c == 'n' ? '\n' : c == '0' ? '\0' : c == 't' ? '\t' : c;
  }
  return out;
}

// The scenario names (file stems) in tests/transcripts/<protocol>, sorted.
inline std::vector<std::string> transcripts(const std::string& protocol) {
  std::vector<std::string> v;
  for (const auto& e : std::filesystem::directory_iterator(std::string(CONGVU_SOURCE_DIR) + "/tests/transcripts/" + protocol))
    if (e.path().extension() == ".txt") v.push_back(e.path().stem().string());
  std::sort(v.begin(), v.end());
  return v;
}

// Server output cut into lines; a last line without CRLF is marked.
inline void split_lines(const std::string& out, std::deque<std::string>& lines) {
  std::size_t pos = 0;
  while (pos < out.size()) {
    auto e = out.find("\r\n", pos);
    if (e == std::string::npos) {
      lines.push_back(out.substr(pos) + "<no CRLF>");
      break;
    }
    lines.push_back(out.substr(pos, e - pos));
    pos = e + 2;
  }
}

}  // namespace congvu::test
