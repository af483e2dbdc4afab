#include "smtp/proto/command.hpp"

#include <algorithm>
#include <cctype>

namespace congvu::smtp::proto {
namespace {

Error syntax(std::string text) { return Error{501, "5.5.4", std::move(text)}; }

char upper(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return upper(x) == upper(y); });
}

bool istarts(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool is_atext(unsigned char c) {
  if (c >= 0x80) return true;  // UTF-8 (RFC 6531), validity checked by the caller's policy
  if (std::isalnum(c)) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) != std::string_view::npos;
}

// Dot-string: atoms of atext separated by single dots.
bool valid_dot_string(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i - 1] == '.') return false;
    } else if (!is_atext(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

bool valid_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = i;
    unsigned v = 0;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])) && j - i < 3) v = v * 10 + static_cast<unsigned>(s[j++] - '0');
    if (j == i || v > 255) return false;
    ++parts;
    if (j == s.size()) break;
    if (s[j] != '.') return false;
    i = j + 1;
  }
  return parts == 4;
}

bool valid_ipv6(std::string_view s) {
  if (s.empty() || s.size() > 45) return false;
  int groups = 0;
  for (char c : s) {
    if (c == ':') ++groups;
    else if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  }
  return groups >= 2 && groups <= 7;
}

}  // namespace

bool valid_domain(std::string_view d) {
  if (d.empty() || d.size() > 255) return false;
  std::size_t start = 0;
  while (start <= d.size()) {
    auto end = d.find('.', start);
    if (end == std::string_view::npos) end = d.size();
    auto label = d.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (unsigned char c : label)
      if (!(std::isalnum(c) || c == '-' || c >= 0x80)) return false;
    if (end == d.size()) break;
    start = end + 1;
  }
  return true;
}

std::optional<Path> parse_path(std::string_view s, bool allow_null) {
  if (s.size() < 2 || s.front() != '<' || s.back() != '>' || s.size() > 258) return std::nullopt;
  s = s.substr(1, s.size() - 2);
  Path p;
  if (s.empty()) {
    if (!allow_null) return std::nullopt;
    p.null = true;
    return p;
  }
  // A-d-l ":" : source routes, accepted and ignored as RFC 5321 appendix C asks.
  if (s.front() == '@') {
    auto colon = s.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto route = s.substr(0, colon);
    std::size_t i = 0;
    while (i < route.size()) {
      if (route[i] != '@') return std::nullopt;
      auto comma = route.find(',', i);
      if (comma == std::string_view::npos) comma = route.size();
      if (!valid_domain(route.substr(i + 1, comma - i - 1))) return std::nullopt;
      i = comma + 1;
    }
    p.source_route = true;
    s = s.substr(colon + 1);
  }
  std::size_t at;
  if (!s.empty() && s.front() == '"') {
    // Quoted-string: qtextSMTP or a backslash pair.
    std::size_t i = 1;
    std::string local;
    for (;; ++i) {
      if (i >= s.size()) return std::nullopt;
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c == '"') break;
      if (c == '\\') {
        if (++i >= s.size() || static_cast<unsigned char>(s[i]) < 32 || static_cast<unsigned char>(s[i]) == 127) return std::nullopt;
        local += s[i];
      } else if (c < 32 || c == 127) {
        return std::nullopt;
      } else {
        local += static_cast<char>(c);
      }
    }
    if (i + 1 >= s.size() || s[i + 1] != '@') return std::nullopt;
    p.local = local;
    p.quoted_local = true;
    at = i + 1;
  } else {
    at = s.rfind('@');
    // RCPT TO:<Postmaster> has no domain (RFC 5321 4.5.1).
    if (at == std::string_view::npos) {
      if (!iequals(s, "postmaster") || p.source_route) return std::nullopt;
      p.local = std::string(s);
      return p;
    }
    p.local = std::string(s.substr(0, at));
    if (!valid_dot_string(p.local)) return std::nullopt;
  }
  if (p.local.size() > 64) return std::nullopt;
  auto domain = s.substr(at + 1);
  if (!domain.empty() && domain.front() == '[') {
    if (domain.back() != ']') return std::nullopt;
    auto lit = domain.substr(1, domain.size() - 2);
    if (istarts(lit, "IPv6:") ? !valid_ipv6(lit.substr(5)) : !valid_ipv4(lit)) return std::nullopt;
    p.address_literal = true;
    p.domain = std::string(lit);
  } else {
    if (!valid_domain(domain)) return std::nullopt;
    p.domain.reserve(domain.size());
    for (char c : domain) p.domain += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  for (unsigned char c : p.local + p.domain)
    if (c >= 0x80) p.utf8 = true;
  // RFC 6531 addresses are UTF-8: anything else is not an address (501 5.1.3).
  if (p.utf8 && !valid_utf8(p.local + "@" + p.domain)) return std::nullopt;
  return p;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (std::size_t k = 1; k < n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    // No overlong forms, surrogates or values past U+10FFFF.
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n;
  }
  return true;
}

namespace {

// "FROM:<path> KEY=VALUE KEY" after the verb.
std::optional<Error> parse_mail_rcpt(std::string_view rest, std::string_view keyword, bool allow_null, Command& cmd) {
  if (!istarts(rest, keyword)) return syntax(std::string("Syntax: ") + (allow_null ? "MAIL FROM:<address>" : "RCPT TO:<address>"));
  rest.remove_prefix(keyword.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);  // tolerated: "FROM: <a@b>"
  auto close = rest.find('>');
  if (rest.empty() || rest.front() != '<' || close == std::string_view::npos) return syntax("Syntax: the address must be in <>");
  // A quoted local part may contain '>': find the closing bracket after the quotes.
  if (rest.size() > 1 && rest[1] == '"') {
    auto endq = rest.find('"', 2);
    while (endq != std::string_view::npos && rest[endq - 1] == '\\') endq = rest.find('"', endq + 1);
    if (endq == std::string_view::npos) return syntax("Syntax: unterminated quoted local part");
    close = rest.find('>', endq);
    if (close == std::string_view::npos) return syntax("Syntax: the address must be in <>");
  }
  auto path = parse_path(rest.substr(0, close + 1), allow_null);
  if (!path) return Error{501, "5.1.3", "Bad address syntax"};
  cmd.path = std::move(*path);
  auto params = rest.substr(close + 1);
  while (!params.empty()) {
    if (params.front() != ' ') return syntax("Syntax: parameters must follow a space");
    while (!params.empty() && params.front() == ' ') params.remove_prefix(1);
    if (params.empty()) break;
    auto end = params.find(' ');
    auto kv = params.substr(0, end);
    params = end == std::string_view::npos ? std::string_view() : params.substr(end);
    auto eq = kv.find('=');
    std::string key(kv.substr(0, eq));
    if (key.empty()) return syntax("Syntax: empty parameter name");
    for (auto& c : key) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return syntax("Syntax: bad parameter name");
      c = upper(c);
    }
    if (cmd.params.count(key)) return syntax("Syntax: parameter " + key + " given twice");
    cmd.params[key] = eq == std::string_view::npos ? std::string() : std::string(kv.substr(eq + 1));
  }
  return std::nullopt;
}

Event parse_command(std::string_view line) {
  auto sp = line.find(' ');
  auto word = line.substr(0, sp);
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  Command cmd{Verb::noop, {}, {}, {}, {}, 0, false};
  auto no_args = [&](Verb v) -> Event {
    if (!rest.empty()) return syntax("Syntax: " + std::string(word) + " takes no arguments");
    cmd.verb = v;
    return cmd;
  };
  if (iequals(word, "EHLO") || iequals(word, "HELO")) {
    cmd.verb = iequals(word, "EHLO") ? Verb::ehlo : Verb::helo;
    while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
    if (rest.empty() || rest.find(' ') != std::string_view::npos) return syntax("Syntax: " + std::string(word) + " hostname");
    cmd.arg = std::string(rest);
    return cmd;
  }
  if (iequals(word, "MAIL")) {
    cmd.verb = Verb::mail;
    if (auto e = parse_mail_rcpt(rest, "FROM:", true, cmd)) return *e;
    return cmd;
  }
  if (iequals(word, "RCPT")) {
    cmd.verb = Verb::rcpt;
    if (auto e = parse_mail_rcpt(rest, "TO:", false, cmd)) return *e;
    return cmd;
  }
  if (iequals(word, "DATA")) return no_args(Verb::data);
  if (iequals(word, "RSET")) return no_args(Verb::rset);
  if (iequals(word, "QUIT")) return no_args(Verb::quit);
  if (iequals(word, "STARTTLS")) return no_args(Verb::starttls);
  if (iequals(word, "NOOP")) {
    cmd.verb = Verb::noop;
    return cmd;
  }
  if (iequals(word, "HELP")) {
    cmd.verb = Verb::help;
    cmd.arg = std::string(rest);
    return cmd;
  }
  if (iequals(word, "VRFY") || iequals(word, "EXPN")) {
    cmd.verb = iequals(word, "VRFY") ? Verb::vrfy : Verb::expn;
    if (rest.empty()) return syntax("Syntax: " + std::string(word) + " string");
    cmd.arg = std::string(rest);
    return cmd;
  }
  if (iequals(word, "BDAT")) {
    cmd.verb = Verb::bdat;
    auto sp2 = rest.find(' ');
    auto size = rest.substr(0, sp2);
    if (size.empty() || size.size() > 18 || !std::all_of(size.begin(), size.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return syntax("Syntax: BDAT chunk-size [LAST]");
    cmd.chunk_size = std::stoull(std::string(size));
    if (sp2 != std::string_view::npos) {
      if (!iequals(rest.substr(sp2 + 1), "LAST")) return syntax("Syntax: BDAT chunk-size [LAST]");
      cmd.last_chunk = true;
    }
    return cmd;
  }
  if (iequals(word, "AUTH")) {
    cmd.verb = Verb::auth;
    auto sp2 = rest.find(' ');
    cmd.arg = std::string(rest.substr(0, sp2));
    for (auto& c : cmd.arg) c = upper(c);
    if (cmd.arg.empty()) return syntax("Syntax: AUTH mechanism [initial-response]");
    if (sp2 != std::string_view::npos) cmd.initial_response = std::string(rest.substr(sp2 + 1));
    return cmd;
  }
  return Error{500, "5.5.1", "Command unrecognized"};
}

}  // namespace

std::variant<NeedMore, std::string_view, Error> CommandReader::read_line(bool raw) {
  for (;;) {
    if (pos_ > 0 && pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    }
    auto lf = buf_.find('\n', pos_);
    if (lf == std::string::npos) {
      auto pending = std::string_view(buf_).substr(pos_);
      auto cr = pending.find('\r');
      if (cr != std::string_view::npos && cr + 1 < pending.size())
        return Error{521, "5.5.2", "Bare CR received", true};
      if (discarding_) {
        // Keep a trailing CR: it may pair with the next LF.
        bool keep_cr = !pending.empty() && pending.back() == '\r';
        buf_.clear();
        pos_ = 0;
        if (keep_cr) buf_ = "\r";
        return NeedMore{};
      }
      if (pending.size() > kMaxAuthLine) {
        discarding_ = true;
        return Error{500, "5.5.2", "Line too long"};
      }
      return NeedMore{};
    }
    if (lf == pos_ || buf_[lf - 1] != '\r') return Error{521, "5.5.2", "Bare LF received", true};
    std::string_view line(buf_.data() + pos_, lf - 1 - pos_);
    pos_ = lf + 1;
    if (discarding_) {
      discarding_ = false;
      continue;  // the end of the line already reported as too long
    }
    if (line.find('\r') != std::string_view::npos) return Error{521, "5.5.2", "Bare CR received", true};
    if (line.find('\0') != std::string_view::npos) return Error{500, "5.5.2", "NUL byte in command"};
    bool long_ok = raw || istarts(line, "AUTH ");
    if (line.size() + 2 > (long_ok ? kMaxAuthLine : kMaxLine)) return Error{500, "5.5.2", "Line too long"};
    return line;
  }
}

Event CommandReader::next() {
  auto r = read_line(false);
  if (auto* line = std::get_if<std::string_view>(&r)) return parse_command(*line);
  if (auto* e = std::get_if<Error>(&r)) return *e;
  return NeedMore{};
}

std::variant<NeedMore, std::string, Error> CommandReader::next_line() {
  auto r = read_line(true);
  if (auto* line = std::get_if<std::string_view>(&r)) return std::string(*line);
  if (auto* e = std::get_if<Error>(&r)) return *e;
  return NeedMore{};
}

std::string CommandReader::take_buffer() {
  std::string rest = buf_.substr(pos_);
  buf_.clear();
  pos_ = 0;
  return rest;
}

std::variant<NeedMore, Message, Error> DataReader::next() {
  while (pos_ < buf_.size()) {
    if (!after_cr_ && !at_line_start_ && !dot_only_) {
      // Inside a line: copy up to the next CR, LF or NUL in one go.
      std::size_t end = pos_;
      while (end < buf_.size() && buf_[end] != '\r' && buf_[end] != '\n' && buf_[end] != '\0') ++end;
      if (end > pos_) {
        emit_run(std::string_view(buf_).substr(pos_, end - pos_));
        pos_ = end;
        continue;
      }
    }
    char c = buf_[pos_++];
    if (after_cr_) {
      if (c != '\n') return Error{521, "5.5.2", "Bare CR in message data", true};
      after_cr_ = false;
      if (dot_only_) {
        dot_only_ = false;
        at_line_start_ = true;
        if (too_big_) return Error{552, "5.3.4", "Message exceeds the size limit"};
        Message m{std::move(out_)};
        out_.clear();
        return m;
      }
      emit('\r');
      emit('\n');
      at_line_start_ = true;
      continue;
    }
    if (c == '\r') {
      after_cr_ = true;
      continue;
    }
    if (c == '\n') return Error{521, "5.5.2", "Bare LF in message data", true};
    if (c == '\0') return Error{521, "5.5.2", "NUL byte in message data", true};
    if (at_line_start_) {
      at_line_start_ = false;
      if (c == '.') {
        dot_only_ = true;  // either the end (".\r\n") or a stuffed dot, dropped
        continue;
      }
    } else if (dot_only_) {
      dot_only_ = false;
    }
    emit(c);
  }
  if (pos_ > (1u << 16)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return NeedMore{};
}

void DataReader::emit_run(std::string_view run) {
  if (too_big_) return;
  if (out_.size() + run.size() > max_) {
    too_big_ = true;
    out_.clear();
    out_.shrink_to_fit();
    return;
  }
  out_.append(run);
}

void DataReader::emit(char c) {
  if (too_big_) return;
  if (out_.size() >= max_) {
    too_big_ = true;
    out_.clear();
    out_.shrink_to_fit();
    return;
  }
  out_ += c;
}

std::string DataReader::take_rest() {
  std::string rest = buf_.substr(pos_);
  buf_.clear();
  pos_ = 0;
  return rest;
}

}  // namespace congvu::smtp::proto
