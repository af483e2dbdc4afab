#include "imap/proto/command.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <strings.h>

namespace congvu::imap::proto {

namespace {

bool is_ctl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// The tag of a command text (its first word), if it looks like one.
std::string tag_of(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && n < 64) {
    unsigned char c = static_cast<unsigned char>(s[n]);
    if (c == ' ' || c == '\r' || c == '\n' || is_ctl(c) || c >= 0x80 || c == '(' || c == ')' || c == '{' ||
        c == '"' || c == '\\' || c == '%' || c == '*' || c == '+')
      break;
    ++n;
  }
  if (n == 0 || n == 64 || n >= s.size() || s[n] != ' ') return {};
  return std::string(s.substr(0, n));
}

// "{123}", "{123+}", "~{123}" at the end of a line: the size and whether it synchronises.
struct LiteralMark {
  std::uint64_t size = 0;
  bool sync = true;
};
std::optional<LiteralMark> literal_at_end(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  std::size_t open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view inner = line.substr(open + 1, line.size() - open - 2);
  LiteralMark m;
  if (!inner.empty() && inner.back() == '+') {
    m.sync = false;
    inner.remove_suffix(1);
  }
  if (inner.empty() || inner.size() > 19) return std::nullopt;
  for (char c : inner) {
    if (c < '0' || c > '9') return std::nullopt;
    m.size = m.size * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return m;
}

}  // namespace

void CommandReader::compact() {
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ > 65536)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
}

CommandReader::Event CommandReader::next() {
  // `line`: the current line when the command has no text yet (its tag is there).
  auto drop = [&](std::string message, bool too_big, std::string_view line) {
    if (dropping_) return;
    dropping_ = true;
    dropped_ = Event{Kind::error, {}, tag_of(cmd_.empty() ? line : std::string_view(cmd_)), std::move(message), too_big};
    cmd_.clear();
  };
  auto finish_drop = [&] {
    Event e = std::move(dropped_);
    dropped_ = Event{};
    dropping_ = false;
    cmd_.clear();
    return e;
  };
  for (;;) {
    if (literal_left_ > 0) {
      std::uint64_t take = std::min<std::uint64_t>(buf_.size() - pos_, literal_left_);
      if (!dropping_) cmd_.append(buf_, pos_, static_cast<std::size_t>(take));
      pos_ += static_cast<std::size_t>(take);
      literal_left_ -= take;
      if (literal_left_ > 0) {
        compact();
        return {};
      }
    }
    std::size_t nl = buf_.find('\n', pos_);
    if (nl == std::string::npos) {
      if (buf_.size() - pos_ > limits_.max_line) {
        if (!dropping_line_) drop("command line too long", true, std::string_view(buf_).substr(pos_));
        dropping_line_ = true;
        pos_ = buf_.size();
      }
      compact();
      return {};
    }
    std::string_view line(buf_.data() + pos_, nl - pos_);
    pos_ = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool long_tail = std::exchange(dropping_line_, false);
    if (!long_tail && line.size() > limits_.max_line) drop("command line too long", true, line);
    auto mark = literal_at_end(line);
    if (!dropping_) {
      cmd_.append(line);
      cmd_.append("\r\n");
      if (cmd_.size() > limits_.max_command) drop("command too long", true, line);
    }
    if (mark) {
      bool over = mark->size > limits_.max_literal || cmd_.size() + mark->size > limits_.max_command;
      if (over) {
        if (mark->sync) {
          // The client waits for our go-ahead: refuse now, nothing more of it will come.
          drop("literal too big", true, line);
          compact();
          return finish_drop();
        }
        drop("literal too big", true, line);  // it comes anyway: read and discard it
      } else if (mark->sync) {
        if (dropping_) {
          compact();
          return finish_drop();
        }
        literal_left_ = mark->size;
        compact();
        return Event{Kind::continuation, {}, {}, {}, false};
      }
      literal_left_ = mark->size;
      continue;
    }
    compact();
    if (dropping_) return finish_drop();
    Event e{Kind::command, std::move(cmd_), {}, {}, false};
    cmd_.clear();
    return e;
  }
}

void CommandReader::shrink() {
  if (pos_ < buf_.size() || !cmd_.empty() || literal_left_ > 0) return;
  std::string().swap(buf_);
  std::string().swap(cmd_);
  pos_ = 0;
}

std::optional<std::string> CommandReader::line(bool* too_long) {
  if (too_long) *too_long = false;
  std::size_t nl = buf_.find('\n', pos_);
  if (nl == std::string::npos) {
    if (buf_.size() - pos_ > limits_.max_line) {
      pos_ = buf_.size();
      compact();
      dropping_line_ = true;
      if (too_long) *too_long = true;
      return std::string();
    }
    return std::nullopt;
  }
  std::string out(buf_, pos_, nl - pos_);
  pos_ = nl + 1;
  compact();
  if (std::exchange(dropping_line_, false)) {
    if (too_long) *too_long = true;
    return std::string();
  }
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return out;
}

// ---- sequence sets

std::vector<std::uint32_t> SeqSet::expand(std::uint32_t max) const {
  std::vector<std::uint32_t> out;
  for (const auto& r : ranges) {
    std::uint32_t a = r.lo ? r.lo : max, b = r.hi ? r.hi : max;
    if (a > b) std::swap(a, b);
    if (a == 0) a = 1;
    b = std::min(b, max);
    for (std::uint32_t n = a; n <= b && n != 0; ++n) {
      out.push_back(n);
      if (n == UINT32_MAX) break;
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool SeqSet::contains(std::uint32_t n, std::uint32_t max) const {
  for (const auto& r : ranges) {
    std::uint32_t a = r.lo ? r.lo : max, b = r.hi ? r.hi : max;
    if (a > b) std::swap(a, b);
    if (n >= a && n <= b) return true;
  }
  return false;
}

// ---- the parser

void Parser::fail(const std::string& what) const {
  throw ParseError(what + (pos_ < s_.size() ? " near column " + std::to_string(pos_ + 1) : " at the end"));
}

bool Parser::at_end() const { return s_.substr(pos_) == "\r\n" || pos_ == s_.size(); }

void Parser::end() {
  if (!at_end()) fail("unexpected text");
}

void Parser::sp() {
  if (!try_char(' ')) fail("expected a space");
}

bool Parser::try_sp() { return try_char(' '); }

bool Parser::try_char(char c) {
  if (peek(c)) {
    ++pos_;
    return true;
  }
  return false;
}

void Parser::expect(char c) {
  if (!try_char(c)) fail(std::string("expected '") + c + "'");
}

std::string Parser::tag() {
  std::size_t start = pos_;
  while (pos_ < s_.size()) {
    unsigned char c = static_cast<unsigned char>(s_[pos_]);
    if (c == ' ' || is_ctl(c) || c >= 0x80 || c == '(' || c == ')' || c == '{' || c == '"' || c == '\\' ||
        c == '%' || c == '*' || c == '+')
      break;
    ++pos_;
  }
  if (pos_ == start) fail("missing tag");
  return std::string(s_.substr(start, pos_ - start));
}

std::string Parser::atom() {
  std::size_t start = pos_;
  while (pos_ < s_.size()) {
    unsigned char c = static_cast<unsigned char>(s_[pos_]);
    if (c == ' ' || is_ctl(c) || c == '(' || c == ')' || c == '{' || c == '"') break;
    ++pos_;
  }
  if (pos_ == start) fail("expected an atom");
  return std::string(s_.substr(start, pos_ - start));
}

bool Parser::at_literal() const {
  return peek('{') || (pos_ + 1 < s_.size() && s_[pos_] == '~' && s_[pos_ + 1] == '{');
}

std::string Parser::literal(bool* binary) {
  bool b = try_char('~');
  if (binary) *binary = b;
  expect('{');
  std::uint64_t n = 0;
  std::size_t digits = 0;
  while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
    n = n * 10 + static_cast<std::uint64_t>(s_[pos_++] - '0');
    if (++digits > 19) fail("literal size too large");
  }
  if (digits == 0) fail("expected a literal size");
  try_char('+');
  expect('}');
  if (s_.substr(pos_, 2) != "\r\n") fail("expected CRLF after the literal size");
  pos_ += 2;
  if (n > s_.size() - pos_) fail("literal shorter than announced");
  std::string out(s_.substr(pos_, static_cast<std::size_t>(n)));
  pos_ += static_cast<std::size_t>(n);
  if (!b && out.find('\0') != std::string::npos) fail("NUL in a literal (use literal8)");
  return out;
}

std::string Parser::string() {
  if (at_literal()) return literal();
  expect('"');
  std::string out;
  while (pos_ < s_.size()) {
    char c = s_[pos_++];
    if (c == '"') return out;
    if (c == '\\') {
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\\')) fail("bad escape in a quoted string");
      out.push_back(s_[pos_++]);
    } else if (c == '\r' || c == '\n' || c == '\0') {
      --pos_;
      fail("line end in a quoted string");
    } else {
      out.push_back(c);
    }
  }
  fail("unterminated quoted string");
}

std::string Parser::astring() {
  if (peek('"') || at_literal()) return string();
  std::size_t start = pos_;
  while (pos_ < s_.size()) {
    unsigned char c = static_cast<unsigned char>(s_[pos_]);
    if (c == ' ' || is_ctl(c) || c == '(' || c == ')' || c == '{' || c == '"') break;
    ++pos_;
  }
  if (pos_ == start) fail("expected a string");
  return std::string(s_.substr(start, pos_ - start));
}

std::optional<std::string> Parser::nstring() {
  if (!peek('"') && !at_literal()) {
    std::size_t save = pos_;
    std::string a = atom();
    if (a.size() == 3 && (a[0] | 0x20) == 'n' && (a[1] | 0x20) == 'i' && (a[2] | 0x20) == 'l') return std::nullopt;
    pos_ = save;
    fail("expected a string or NIL");
  }
  return string();
}

std::uint64_t Parser::number64() {
  std::uint64_t n = 0;
  std::size_t digits = 0;
  while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
    n = n * 10 + static_cast<std::uint64_t>(s_[pos_++] - '0');
    if (++digits > 19) fail("number too large");
  }
  if (digits == 0) fail("expected a number");
  return n;
}

std::uint32_t Parser::number() {
  std::uint64_t n = number64();
  if (n > UINT32_MAX) fail("number too large");
  return static_cast<std::uint32_t>(n);
}

SeqSet Parser::sequence_set() {
  SeqSet set;
  if (try_char('$')) {
    set.saved = true;
    return set;
  }
  auto one = [&]() -> std::uint32_t {
    if (try_char('*')) return 0;
    std::uint32_t n = number();
    if (n == 0) fail("sequence numbers start at 1");
    return n;
  };
  do {
    SeqRange r;
    r.lo = r.hi = one();
    if (try_char(':')) r.hi = one();
    set.ranges.push_back(r);
  } while (try_char(','));
  return set;
}

std::vector<std::string> Parser::flag_list() {
  std::vector<std::string> out;
  if (!try_char('(')) {
    out.push_back(atom());
    return out;
  }
  if (try_char(')')) return out;
  do {
    out.push_back(atom());
  } while (try_sp());
  expect(')');
  return out;
}

std::string Parser::fetch_att() {
  std::size_t start = pos_;
  while (pos_ < s_.size()) {
    char c = s_[pos_];
    if (c == '[') {
      std::size_t close = s_.find(']', pos_);
      if (close == std::string_view::npos) fail("unterminated section");
      pos_ = close + 1;
      if (peek('<')) {
        std::size_t gt = s_.find('>', pos_);
        if (gt == std::string_view::npos) fail("unterminated partial");
        pos_ = gt + 1;
      }
      break;
    }
    if (c == ' ' || c == ')' || c == '(' || is_ctl(static_cast<unsigned char>(c))) break;
    ++pos_;
  }
  if (pos_ == start) fail("expected a fetch attribute");
  return std::string(s_.substr(start, pos_ - start));
}

std::string Parser::keyword() {
  std::string a = atom();
  for (auto& c : a)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return a;
}

// ---- output

std::string upper_ascii(std::string s) {
  for (auto& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return s;
}

std::string quoted_or_literal(std::string_view s, bool utf8) {
  bool literal = s.size() > 4096;
  for (unsigned char c : s) {
    if (c == '\r' || c == '\n' || c == 0 || (c >= 0x80 && !utf8)) {
      literal = true;
      break;
    }
  }
  if (literal) return "{" + std::to_string(s.size()) + "}\r\n" + std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string nstring(const std::optional<std::string>& s, bool utf8) {
  return s ? quoted_or_literal(*s, utf8) : std::string("NIL");
}

std::string astring(std::string_view s, bool utf8) {
  bool atom = !s.empty() && !(s.size() == 3 && (s[0] | 0x20) == 'n' && (s[1] | 0x20) == 'i' && (s[2] | 0x20) == 'l');
  for (unsigned char c : s)
    if (c <= ' ' || c >= 0x7f || c == '(' || c == ')' || c == '{' || c == '"' || c == '\\' || c == '%' ||
        c == '*' || c == ']')
      atom = false;
  return atom ? std::string(s) : quoted_or_literal(s, utf8);
}

// ---- modified UTF-7

namespace {
const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

// Decodes one UTF-8 code point; -1 when invalid.
long next_cp(std::string_view s, std::size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
  if (n < 0 || i + static_cast<std::size_t>(n) >= s.size()) return -1;
  long cp = n == 0 ? c : c & (0x3f >> n);
  for (int k = 1; k <= n; ++k) {
    unsigned char d = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((d & 0xc0) != 0x80) return -1;
    cp = (cp << 6) | (d & 0x3f);
  }
  i += static_cast<std::size_t>(n) + 1;
  return cp;
}

void put_utf8(std::string& out, long cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}
}  // namespace

std::string mutf7_encode(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += c == '&' ? std::string("&-") : std::string(1, static_cast<char>(c));
      ++i;
      continue;
    }
    std::vector<std::uint16_t> units;
    while (i < s.size()) {
      unsigned char d = static_cast<unsigned char>(s[i]);
      if (d >= 0x20 && d < 0x7f) break;
      long cp = next_cp(s, i);
      if (cp < 0) {
        cp = 0xfffd;
        ++i;
      }
      if (cp >= 0x10000) {
        cp -= 0x10000;
        units.push_back(static_cast<std::uint16_t>(0xd800 + (cp >> 10)));
        units.push_back(static_cast<std::uint16_t>(0xdc00 + (cp & 0x3ff)));
      } else {
        units.push_back(static_cast<std::uint16_t>(cp));
      }
    }
    out.push_back('&');
    std::uint32_t acc = 0;
    int bits = 0;
    for (auto u : units) {
      for (int b : {8, 0}) {
        acc = (acc << 8) | ((u >> b) & 0xff);
        bits += 8;
        while (bits >= 6) {
          bits -= 6;
          out.push_back(kB64[(acc >> bits) & 0x3f]);
        }
      }
    }
    if (bits > 0) out.push_back(kB64[(acc << (6 - bits)) & 0x3f]);
    out.push_back('-');
  }
  return out;
}

std::optional<std::string> mutf7_decode(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80 || c < 0x20) return std::nullopt;
    if (c != '&') {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    std::size_t dash = s.find('-', i + 1);
    if (dash == std::string_view::npos) return std::nullopt;
    if (dash == i + 1) {
      out.push_back('&');
      i = dash + 1;
      continue;
    }
    std::uint32_t acc = 0;
    int bits = 0;
    std::vector<std::uint16_t> units;
    for (std::size_t k = i + 1; k < dash; ++k) {
      const char* p = std::strchr(kB64, s[k]);
      if (!p || s[k] == '\0') return std::nullopt;
      acc = (acc << 6) | static_cast<std::uint32_t>(p - kB64);
      bits += 6;
      if (bits >= 16) {
        bits -= 16;
        units.push_back(static_cast<std::uint16_t>((acc >> bits) & 0xffff));
      }
    }
    if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0 || units.empty()) return std::nullopt;
    for (std::size_t k = 0; k < units.size(); ++k) {
      long cp = units[k];
      if (cp >= 0xd800 && cp < 0xdc00) {
        if (k + 1 >= units.size() || units[k + 1] < 0xdc00 || units[k + 1] >= 0xe000) return std::nullopt;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (units[++k] - 0xdc00);
      } else if (cp >= 0xdc00 && cp < 0xe000) {
        return std::nullopt;
      }
      if (cp >= 0x20 && cp < 0x7f) return std::nullopt;  // must have been written directly
      put_utf8(out, cp);
    }
    i = dash + 1;
  }
  return out;
}

// ---- dates

namespace {
const std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int month_of(std::string_view m) {
  for (int i = 0; i < 12; ++i)
    if (m.size() == 3 && strncasecmp(m.data(), kMonths[static_cast<std::size_t>(i)], 3) == 0) return i;
  return -1;
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, int& out) {
  if (s.empty() || s.size() > 4) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

std::optional<std::int64_t> parse_day(std::string_view s, std::size_t& used) {
  // d[d]-Mon-yyyy, the day may be space padded
  std::size_t i = 0;
  if (!s.empty() && s[0] == ' ') i = 1;
  std::size_t dash = s.find('-', i);
  if (dash == std::string_view::npos) return std::nullopt;
  int day = 0, year = 0;
  if (!digits(s.substr(i, dash - i), day) || day < 1 || day > 31) return std::nullopt;
  if (s.size() < dash + 9 || s[dash + 4] != '-') return std::nullopt;
  int mon = month_of(s.substr(dash + 1, 3));
  if (mon < 0 || !digits(s.substr(dash + 5, 4), year)) return std::nullopt;
  used = dash + 9;
  return days_from_civil(year, static_cast<unsigned>(mon + 1), static_cast<unsigned>(day)) * 86400000LL;
}
}  // namespace

std::optional<std::int64_t> parse_date(std::string_view s) {
  std::size_t used = 0;
  auto d = parse_day(s, used);
  if (!d || used != s.size()) return std::nullopt;
  return d;
}

std::optional<std::int64_t> parse_date_time(std::string_view s) {
  std::size_t used = 0;
  auto day = parse_day(s, used);
  if (!day) return std::nullopt;
  std::string_view rest = s.substr(used);
  // " hh:mm:ss +zzzz"
  if (rest.size() != 15 || rest[0] != ' ' || rest[3] != ':' || rest[6] != ':' || rest[9] != ' ') return std::nullopt;
  int h, m, sec, zone;
  if (!digits(rest.substr(1, 2), h) || !digits(rest.substr(4, 2), m) || !digits(rest.substr(7, 2), sec) ||
      (rest[10] != '+' && rest[10] != '-') || !digits(rest.substr(11, 4), zone) || h > 23 || m > 59 || sec > 60)
    return std::nullopt;
  std::int64_t offset = ((zone / 100) * 60 + zone % 100) * 60000LL * (rest[10] == '-' ? -1 : 1);
  return *day + ((h * 60 + m) * 60 + sec) * 1000LL - offset;
}

std::string format_date_time(std::int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%02d-%s-%04d %02d:%02d:%02d +0000", tm.tm_mday, kMonths[static_cast<std::size_t>(tm.tm_mon)],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace congvu::imap::proto
