#include "smtp/proto/reply.hpp"

#include <cctype>

namespace congvu::smtp::proto {

std::string Reply::text() const {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "; ") + l;
  return out;
}

bool Reply::has(std::string_view keyword) const {
  for (const auto& l : lines) {
    std::string_view w(l);
    w = w.substr(0, w.find(' '));
    if (w.size() != keyword.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < w.size(); ++i)
      if (std::toupper(static_cast<unsigned char>(w[i])) != std::toupper(static_cast<unsigned char>(keyword[i]))) same = false;
    if (same) return true;
  }
  return false;
}

std::variant<NeedMore, Reply, Error> ReplyReader::next() {
  for (;;) {
    auto eol = buf_.find("\r\n", pos_);
    if (eol == std::string::npos) {
      if (buf_.size() - pos_ > 4096) return Error{500, "5.5.2", "reply line too long"};
      if (pos_ > 0) {
        buf_.erase(0, pos_);
        pos_ = 0;
      }
      return NeedMore{};
    }
    std::string_view line(buf_.data() + pos_, eol - pos_);
    pos_ = eol + 2;
    if (line.size() > 4096) return Error{500, "5.5.2", "reply line too long"};
    if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])) || line[0] < '2' || line[0] > '5' ||
        !std::isdigit(static_cast<unsigned char>(line[1])) || !std::isdigit(static_cast<unsigned char>(line[2])) ||
        (line.size() > 3 && line[3] != ' ' && line[3] != '-'))
      return Error{500, "5.5.2", "not an SMTP reply: " + std::string(line.substr(0, 80))};
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (!partial_.lines.empty() && partial_.code != code) return Error{500, "5.5.2", "reply codes differ within one reply"};
    partial_.code = code;
    partial_.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view());
    if (line.size() <= 3 || line[3] == ' ') {
      Reply r = std::move(partial_);
      partial_ = Reply{};
      return r;
    }
  }
}

std::string dot_stuff(std::string_view m) {
  std::string out;
  out.reserve(m.size() + m.size() / 64 + 8);
  bool line_start = true;
  for (char c : m) {
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = c == '\n';
  }
  if (!out.empty() && !(out.size() >= 2 && out.compare(out.size() - 2, 2, "\r\n") == 0)) out += "\r\n";
  out += ".\r\n";
  return out;
}

}  // namespace congvu::smtp::proto
