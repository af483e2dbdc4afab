#include "mailstore/mime.hpp"

#include <unicode/ucnv.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "common/codec.hpp"
#include "common/text.hpp"

namespace congvu::mailstore::mime {

namespace {

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

bool wsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (wsp(s.front()) || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (wsp(s.back()) || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Removes the CR and LF of folded lines (the whitespace after them stays, RFC 5322 2.2.3).
std::string unfold(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v)
    if (c != '\r' && c != '\n') out.push_back(c);
  return std::string(trim(out));
}

// Where the header of a part starting at `begin` ends: the body offset (after the empty line).
std::size_t header_end(std::string_view msg, std::size_t begin, std::size_t end) {
  if (begin < end && msg[begin] == '\n') return begin + 1;
  if (begin + 1 < end && msg[begin] == '\r' && msg[begin + 1] == '\n') return begin + 2;
  std::size_t i = begin;
  while (i < end) {
    const void* p = std::memchr(msg.data() + i, '\n', end - i);
    if (!p) return end;
    std::size_t nl = static_cast<std::size_t>(static_cast<const char*>(p) - msg.data());
    if (nl + 1 < end && msg[nl + 1] == '\n') return nl + 2;
    if (nl + 2 < end && msg[nl + 1] == '\r' && msg[nl + 2] == '\n') return nl + 3;
    i = nl + 1;
  }
  return end;
}

std::size_t count_lines(std::string_view s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

// ---- RFC 2045 structured values: token/quoted-string with comments

struct Lexer {
  std::string_view s;
  std::size_t i = 0;
  void skip_cfws() {
    for (;;) {
      while (i < s.size() && (wsp(s[i]) || s[i] == '\r' || s[i] == '\n')) ++i;
      if (i < s.size() && s[i] == '(') {
        int depth = 0;
        while (i < s.size()) {
          char c = s[i++];
          if (c == '\\' && i < s.size()) ++i;
          else if (c == '(') ++depth;
          else if (c == ')' && --depth == 0) break;
        }
        continue;
      }
      return;
    }
  }
  bool done() {
    skip_cfws();
    return i >= s.size();
  }
  bool take(char c) {
    skip_cfws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  static bool tspecial(char c) { return std::strchr("()<>@,;:\\\"/[]?=", c) != nullptr; }
  std::optional<std::string> token() {
    skip_cfws();
    std::size_t st = i;
    while (i < s.size() && !tspecial(s[i]) && static_cast<unsigned char>(s[i]) > ' ' && s[i] != 0x7f) ++i;
    if (i == st) return std::nullopt;
    return std::string(s.substr(st, i - st));
  }
  std::optional<std::string> quoted() {
    skip_cfws();
    if (i >= s.size() || s[i] != '"') return std::nullopt;
    ++i;
    std::string out;
    while (i < s.size() && s[i] != '"') {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      if (s[i] != '\r' && s[i] != '\n') out.push_back(s[i]);
      ++i;
    }
    if (i < s.size()) ++i;
    return out;
  }
  std::optional<std::string> value() {
    skip_cfws();
    if (i < s.size() && s[i] == '"') return quoted();
    // Lenient: a token that may hold specials such as '/' or '@' (common unquoted).
    std::size_t st = i;
    while (i < s.size() && s[i] != ';' && s[i] != '(' && s[i] != '"' && !wsp(s[i]) && s[i] != '\r' && s[i] != '\n') ++i;
    std::string_view v = s.substr(st, i - st);
    if (v.empty()) return std::nullopt;
    return std::string(v);
  }
};

// "; name=value" pairs after the leading value, with RFC 2231 continuations joined.
std::vector<Param> parse_params(Lexer& lx) {
  struct Piece {
    std::string base;
    int index;
    bool extended;
    std::string value;
  };
  std::vector<Piece> pieces;
  while (lx.take(';')) {
    auto name = lx.token();
    if (!name) continue;
    if (!lx.take('=')) continue;
    auto value = lx.value();
    if (!value) value = "";
    std::string n = *name;  // names keep their case, as other servers report them
    Piece p{n, -1, false, *value};
    if (!n.empty() && n.back() == '*') {
      p.extended = true;
      n.pop_back();
    }
    auto star = n.rfind('*');
    if (star != std::string::npos && star + 1 < n.size() &&
        std::all_of(n.begin() + static_cast<long>(star) + 1, n.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        n.size() - star - 1 <= 3) {
      p.index = std::stoi(n.substr(star + 1));
      n.resize(star);
    }
    p.base = n;
    pieces.push_back(std::move(p));
    if (pieces.size() > 200) break;
  }
  std::vector<Param> out;
  std::vector<bool> used(pieces.size(), false);
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    if (used[k]) continue;
    if (pieces[k].index < 0) {
      used[k] = true;
      if (std::any_of(out.begin(), out.end(), [&](const Param& p) { return ieq(p.name, pieces[k].base) || ieq(p.name, pieces[k].base + "*"); }))
        continue;
      out.push_back(Param{pieces[k].base + (pieces[k].extended ? "*" : ""), pieces[k].value});
      continue;
    }
    // RFC 2231 3: name*0, name*1 ... in order; extended if any piece is.
    std::string value;
    bool extended = false;
    for (int idx = 0;; ++idx) {
      bool found = false;
      for (std::size_t j = 0; j < pieces.size(); ++j) {
        if (!used[j] && ieq(pieces[j].base, pieces[k].base) && pieces[j].index == idx) {
          used[j] = true;
          found = true;
          std::string v = pieces[j].value;
          if (extended && !pieces[j].extended) {
            // A plain piece inside an extended value: percent-encode what needs it.
            std::string enc;
            for (unsigned char c : v) {
              if (c <= ' ' || c >= 0x7f || std::strchr("*'%()<>@,;:\\\"/[]?=", c)) {
                char b[4];
                std::snprintf(b, sizeof b, "%%%02X", c);
                enc += b;
              } else {
                enc.push_back(static_cast<char>(c));
              }
            }
            v = enc;
          }
          if (idx == 0) extended = pieces[j].extended;
          value += v;
          break;
        }
      }
      if (!found) break;
    }
    for (std::size_t j = 0; j < pieces.size(); ++j)
      if (ieq(pieces[j].base, pieces[k].base)) used[j] = true;
    out.push_back(Param{pieces[k].base + (extended ? "*" : ""), value});
  }
  return out;
}

std::optional<std::string> param(const std::vector<Param>& ps, std::string_view name) {
  for (const auto& p : ps)
    if (ieq(p.name, name)) return p.value;
  return std::nullopt;
}

// ---- structure

void parse_part(std::string_view msg, Part& p, std::size_t begin, std::size_t end, int depth, bool digest,
                std::size_t& budget);

// Moves the end of a part (and of the message inside it) to `end`.
void extend(std::string_view msg, Part& p, std::size_t end) {
  p.end = end;
  p.lines = count_lines(msg.substr(p.body, end - p.body));
  if (p.is_message()) extend(msg, p.parts.front(), end);
}

void parse_multipart(std::string_view msg, Part& p, int depth, std::size_t& budget) {
  auto boundary = param(p.params, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 200) return;
  std::string delim = "--" + *boundary;
  bool digest = ieq(p.subtype, "digest");
  std::string_view body = msg.substr(0, p.end);
  // Delimiter lines: "--boundary" at a line start, then "--" (the close) or white space.
  std::size_t pos = p.body;
  std::optional<std::size_t> part_start;
  const std::string nl_delim = "\n" + delim;
  auto line_start_delim = [&](std::size_t from) -> std::size_t {
    if (from == p.body && body.substr(from, delim.size()) == delim) return from;
    std::size_t nl = body.find(nl_delim, from == p.body ? from : from - 1);
    return nl == std::string_view::npos ? nl : nl + 1;
  };
  for (;;) {
    std::size_t at = line_start_delim(pos);
    if (at == std::string_view::npos) break;
    std::size_t after = at + delim.size();
    bool close = body.substr(after, 2) == "--";
    std::size_t k = close ? after + 2 : after;
    while (k < body.size() && wsp(body[k])) ++k;
    bool valid_line = k >= body.size() || body[k] == '\r' || body[k] == '\n';
    if (!valid_line && !close) {
      pos = after;  // "--boundaryX": a longer string, not our delimiter
      continue;
    }
    std::size_t line_end = body.find('\n', after);
    line_end = line_end == std::string_view::npos ? body.size() : line_end + 1;
    if (part_start) {
      // The line end before the delimiter belongs to it (RFC 2046 5.1.1) ...
      std::size_t pe = at;
      if (pe > *part_start && body[pe - 1] == '\n') --pe;
      if (pe > *part_start && body[pe - 1] == '\r') --pe;
      if (p.parts.size() < kMaxParts && budget > 0) {
        Part child;
        parse_part(msg, child, *part_start, std::max(pe, *part_start), depth + 1, digest, budget);
        // ... unless it ends the close-delimiter line of a multipart inside the part: then it
        // is that multipart's epilogue (Dovecot and Cyrus count it so).
        if (child.close_end == child.end && child.end < at) extend(msg, child, at);
        p.parts.push_back(std::move(child));
      }
    }
    if (close) {
      p.close_end = line_end;
      part_start.reset();
      break;
    }
    part_start = line_end;
    pos = line_end;
    if (pos >= body.size()) break;
  }
  if (part_start && *part_start <= p.end && p.parts.size() < kMaxParts && budget > 0) {
    // No close delimiter: the last part runs to the end.
    Part child;
    parse_part(msg, child, *part_start, p.end, depth + 1, digest, budget);
    p.parts.push_back(std::move(child));
  }
}

void parse_part(std::string_view msg, Part& p, std::size_t begin, std::size_t end, int depth, bool digest,
                std::size_t& budget) {
  if (budget > 0) --budget;
  p.begin = begin;
  p.end = end;
  p.body = header_end(msg, begin, end);
  if (digest) {
    p.type = "message";
    p.subtype = "rfc822";
  }
  std::string_view head = msg.substr(begin, p.body - begin);
  for (auto [name, raw] : fields(head)) {
    if (ieq(name, "Content-Type")) {
      if (p.typed) continue;
      Lexer lx{raw};
      auto t = lx.token();
      if (t && lx.take('/')) {
        auto st = lx.token();
        if (st) {
          p.type = *t;
          p.subtype = *st;
          p.typed = true;
          p.params = parse_params(lx);
        }
      }
      if (!p.typed) {
        // Unparseable: text/plain (RFC 2045 5.2), keeping any parameters found.
        p.typed = true;
        p.type = "text";
        p.subtype = "plain";
      }
    } else if (ieq(name, "Content-Transfer-Encoding")) {
      Lexer lx{raw};
      if (auto t = lx.token()) p.encoding = *t;
    } else if (ieq(name, "Content-ID")) {
      p.id = unfold(raw);
    } else if (ieq(name, "Content-Description")) {
      p.description = unfold(raw);
    } else if (ieq(name, "Content-MD5")) {
      p.md5 = unfold(raw);
    } else if (ieq(name, "Content-Location")) {
      p.location = unfold(raw);
    } else if (ieq(name, "Content-Language")) {
      p.language = unfold(raw);
    } else if (ieq(name, "Content-Disposition")) {
      Lexer lx{raw};
      if (auto t = lx.token()) {
        p.disposition = *t;
        p.disposition_params = parse_params(lx);
      }
    }
  }
  p.lines = count_lines(msg.substr(p.body, end - p.body));
  if (depth >= kMaxDepth) return;
  if (p.is_multipart()) {
    parse_multipart(msg, p, depth, budget);
  } else if (ieq(p.type, "message") && (ieq(p.subtype, "rfc822") || ieq(p.subtype, "global"))) {
    std::string enc = text::ascii_lower(p.encoding.value_or("7bit"));
    if (enc != "base64" && enc != "quoted-printable") {
      Part inner;
      parse_part(msg, inner, p.body, end, depth + 1, false, budget);
      p.close_end = inner.close_end;
      p.parts.push_back(std::move(inner));
    }
  }
}

// ---- addresses (RFC 5322 3.4, leniently)

struct Address {
  std::optional<std::string> name, route, mailbox, host;
};

std::vector<Address> parse_addresses(std::string_view s) {
  std::vector<Address> out;
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < s.size() && (wsp(s[i]) || s[i] == '\r' || s[i] == '\n')) ++i;
  };
  auto comment = [&]() -> std::string {
    std::string c;
    int depth = 0;
    while (i < s.size()) {
      char ch = s[i++];
      if (ch == '\\' && i < s.size()) {
        c.push_back(s[i++]);
        continue;
      }
      if (ch == '(') {
        if (depth++ > 0) c.push_back(ch);
      } else if (ch == ')') {
        if (--depth == 0) break;
        c.push_back(ch);
      } else if (ch != '\r' && ch != '\n') {
        c.push_back(ch);
      }
    }
    return c;
  };
  bool in_group = false;
  std::size_t guard = 0;
  while (i < s.size() && ++guard < 10000) {
    // Collect a phrase (words and quoted strings) until a special.
    std::vector<std::string> words;
    std::string last_comment;
    std::string spec;  // local-part@domain written without <>
    bool had_at = false;
    skip_ws();
    while (i < s.size()) {
      char c = s[i];
      if (c == '(') {
        last_comment = comment();
      } else if (c == '"') {
        ++i;
        std::string q;
        while (i < s.size() && s[i] != '"') {
          if (s[i] == '\\' && i + 1 < s.size()) ++i;
          if (s[i] != '\r' && s[i] != '\n') q.push_back(s[i]);
          ++i;
        }
        if (i < s.size()) ++i;
        words.push_back(q);
        spec += "\"" + q + "\"";
      } else if (c == '<' || c == ',' || c == ';' || c == ':') {
        break;
      } else if (wsp(c) || c == '\r' || c == '\n') {
        ++i;
        if (!spec.empty() && spec.back() != ' ' && !had_at) spec.push_back(' ');
      } else {
        std::size_t st = i;
        while (i < s.size() && !wsp(s[i]) && s[i] != '\r' && s[i] != '\n' && !std::strchr("()<>,;:\"", s[i])) ++i;
        if (i == st) ++i;  // a stray ')' or '>': part of the word, never a loop without progress
        std::string w(s.substr(st, i - st));
        if (w.find('@') != std::string::npos) had_at = true;
        words.push_back(w);
        if (!spec.empty() && spec.back() == ' ' && (had_at || w.front() == '.' || w.front() == '@')) spec.pop_back();
        spec += w;
      }
      skip_ws();
    }
    if (i < s.size() && s[i] == ':' && !in_group) {
      ++i;
      Address g;
      std::string name;
      for (const auto& w : words) name += (name.empty() ? "" : " ") + w;
      g.mailbox = name;
      out.push_back(g);
      in_group = true;
      continue;
    }
    if (i < s.size() && s[i] == '<') {
      ++i;
      std::size_t close = s.find('>', i);
      std::string_view inner = s.substr(i, close == std::string_view::npos ? s.size() - i : close - i);
      i = close == std::string_view::npos ? s.size() : close + 1;
      Address a;
      std::string name;
      for (const auto& w : words) name += (name.empty() ? "" : " ") + w;
      if (!name.empty()) a.name = name;
      std::string addr;
      for (char c : inner)
        if (!wsp(c) && c != '\r' && c != '\n') addr.push_back(c);
      if (!addr.empty() && addr[0] == '@') {
        auto colon = addr.find(':');
        if (colon != std::string::npos) {
          a.route = addr.substr(0, colon);
          addr = addr.substr(colon + 1);
        }
      }
      auto at = addr.rfind('@');
      if (at == std::string::npos) {
        a.mailbox = addr;
        a.host = "";
      } else {
        a.mailbox = addr.substr(0, at);
        a.host = addr.substr(at + 1);
      }
      if (a.mailbox->size() >= 2 && a.mailbox->front() == '"' && a.mailbox->back() == '"')
        a.mailbox = a.mailbox->substr(1, a.mailbox->size() - 2);
      out.push_back(a);
      // Anything up to the next separator (comments) is ignored.
      while (i < s.size() && s[i] != ',' && s[i] != ';') {
        if (s[i] == '(') comment();
        else ++i;
      }
    } else if (!spec.empty()) {
      Address a;
      while (!spec.empty() && spec.back() == ' ') spec.pop_back();
      auto at = spec.rfind('@');
      if (at == std::string::npos) {
        a.mailbox = spec;
        a.host = "";
      } else {
        a.mailbox = spec.substr(0, at);
        a.host = spec.substr(at + 1);
      }
      if (a.mailbox->size() >= 2 && a.mailbox->front() == '"' && a.mailbox->back() == '"')
        a.mailbox = a.mailbox->substr(1, a.mailbox->size() - 2);
      if (!last_comment.empty()) a.name = last_comment;
      out.push_back(a);
    }
    if (i < s.size() && s[i] == ';') {
      ++i;
      if (in_group) {
        out.push_back(Address{});  // the group's end
        in_group = false;
      }
    }
    if (i < s.size() && s[i] == ',') ++i;
  }
  if (in_group) out.push_back(Address{});
  return out;
}

std::string nstr(const std::optional<std::string>& s) {
  if (!s) return "NIL";
  std::string_view v = *s;
  bool literal = false;
  for (unsigned char c : v)
    if (c == '\r' || c == '\n' || c == 0 || c >= 0x80) literal = true;
  if (literal) return "{" + std::to_string(v.size()) + "}\r\n" + std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string address_list(std::string_view head, std::string_view name) {
  auto v = header(head, name);
  if (!v) return "NIL";
  auto list = parse_addresses(*v);
  if (list.empty()) return "NIL";
  std::string out = "(";
  for (const auto& a : list)
    out += "(" + nstr(a.name) + " " + nstr(a.route) + " " + nstr(a.mailbox) + " " + nstr(a.host) + ")";
  return out + ")";
}

std::string params_list(const std::vector<Param>& ps) {
  if (ps.empty()) return "NIL";
  std::string out = "(";
  for (std::size_t k = 0; k < ps.size(); ++k) out += (k ? " " : "") + nstr(ps[k].name) + " " + nstr(ps[k].value);
  return out + ")";
}

std::string ext_common(const Part& p) {
  std::string out;
  if (p.disposition)
    out += "(" + nstr(p.disposition) + " " + params_list(p.disposition_params) + ")";
  else
    out += "NIL";
  out += " ";
  if (!p.language) {
    out += "NIL";
  } else {
    std::vector<std::string> langs;
    Lexer lx{*p.language};
    while (auto t = lx.token()) {
      langs.push_back(*t);
      if (!lx.take(',')) break;
    }
    if (langs.empty()) out += "NIL";
    else if (langs.size() == 1) out += nstr(langs[0]);
    else {
      out += "(";
      for (std::size_t k = 0; k < langs.size(); ++k) out += (k ? " " : "") + nstr(langs[k]);
      out += ")";
    }
  }
  out += " " + nstr(p.location);
  return out;
}

}  // namespace

bool Part::is_multipart() const { return ieq(type, "multipart"); }
bool Part::is_message() const { return ieq(type, "message") && !parts.empty(); }

std::vector<std::pair<std::string_view, std::string_view>> fields(std::string_view head) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  std::size_t i = 0;
  while (i < head.size()) {
    std::size_t nl = head.find('\n', i);
    std::size_t line_end = nl == std::string_view::npos ? head.size() : nl + 1;
    std::string_view line = head.substr(i, line_end - i);
    std::size_t colon = line.find(':');
    if (wsp(line[0]) || colon == std::string_view::npos || colon == 0) {
      i = line_end;
      continue;
    }
    std::string_view name = trim(line.substr(0, colon));
    std::size_t vstart = i + colon + 1;
    // Continuation lines start with white space.
    std::size_t j = line_end;
    while (j < head.size() && wsp(head[j])) {
      std::size_t n2 = head.find('\n', j);
      j = n2 == std::string_view::npos ? head.size() : n2 + 1;
    }
    out.emplace_back(name, head.substr(vstart, j - vstart));
    i = j;
  }
  return out;
}

std::optional<std::string> header(std::string_view head, std::string_view name) {
  for (auto [n, v] : fields(head))
    if (ieq(n, name)) return unfold(v);
  return std::nullopt;
}

std::size_t header_length(std::string_view msg) { return header_end(msg, 0, msg.size()); }

Part parse(std::string_view msg) {
  Part root;
  std::size_t budget = kMaxParts * 2;
  parse_part(msg, root, 0, msg.size(), 0, false, budget);
  return root;
}

std::string envelope(std::string_view msg, const Part& p) {
  std::string_view head = msg.substr(p.begin, p.body - p.begin);
  auto from = address_list(head, "From");
  auto sender = address_list(head, "Sender");
  auto reply_to = address_list(head, "Reply-To");
  if (sender == "NIL") sender = from;
  if (reply_to == "NIL") reply_to = from;
  return "(" + nstr(header(head, "Date")) + " " + nstr(header(head, "Subject")) + " " + from + " " + sender + " " +
         reply_to + " " + address_list(head, "To") + " " + address_list(head, "Cc") + " " +
         address_list(head, "Bcc") + " " + nstr(header(head, "In-Reply-To")) + " " +
         nstr(header(head, "Message-ID")) + ")";
}

std::string bodystructure(std::string_view msg, const Part& p, bool extended) {
  if (p.is_multipart()) {
    std::string out = "(";
    if (p.parts.empty()) {
      // A multipart without parts: one empty text part, as other servers describe it.
      out += std::string("(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0") +
             (extended ? " NIL NIL NIL NIL)" : ")");
    }
    for (const auto& c : p.parts) out += bodystructure(msg, c, extended);
    out += " " + nstr(p.subtype);
    if (extended) out += " " + params_list(p.params) + " " + ext_common(p);
    return out + ")";
  }
  std::string out = "(" + nstr(p.type) + " " + nstr(p.subtype) + " ";
  if (p.params.empty() && ieq(p.type, "text"))
    out += "(\"charset\" \"us-ascii\")";
  else
    out += params_list(p.params);
  out += " " + nstr(p.id) + " " + nstr(p.description) + " " + nstr(p.encoding.value_or("7bit")) + " " +
         std::to_string(p.end - p.body);
  if (p.is_message()) {
    const Part& inner = p.parts.front();
    out += " " + envelope(msg, inner) + " " + bodystructure(msg, inner, extended) + " " + std::to_string(p.lines);
  } else if (ieq(p.type, "text")) {
    out += " " + std::to_string(p.lines);
  }
  if (extended) out += " " + nstr(p.md5) + " " + ext_common(p);
  return out + ")";
}

const Part* find(const Part& root, std::string_view path) {
  const Part* p = &root;
  while (!path.empty()) {
    std::size_t dot = path.find('.');
    std::string_view n = path.substr(0, dot);
    if (n.empty() || n.size() > 6 || !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return nullptr;
    std::size_t k = static_cast<std::size_t>(std::stoul(std::string(n)));
    if (k == 0) return nullptr;
    // A message/rfc822 part: its numbers name the parts of the message inside.
    if (p->is_message()) p = &p->parts.front();
    if (p->is_multipart()) {
      if (k > p->parts.size()) return nullptr;
      p = &p->parts[k - 1];
    } else if (k != 1) {
      return nullptr;  // a single part has only part 1: itself
    }
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return p;
}

// ---- decoding

std::string to_utf8(std::string_view bytes, std::string_view charset) {
  std::string cs = text::ascii_lower(trim(charset));
  if (cs.empty() || cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii") return std::string(bytes);
  UErrorCode err = U_ZERO_ERROR;
  std::string out(bytes.size() * 4 + 16, '\0');
  std::int32_t n = ucnv_convert("UTF-8", cs.c_str(), out.data(), static_cast<std::int32_t>(out.size()), bytes.data(),
                                static_cast<std::int32_t>(bytes.size()), &err);
  if (U_FAILURE(err)) return std::string(bytes);
  out.resize(static_cast<std::size_t>(n));
  return text::nfc(out);  // windows-1258 and others write tones as combining marks
}

namespace {

std::string b64_lenient(std::string_view s) {
  static const std::string_view abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(s.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    auto k = abc.find(c);
    if (k == std::string_view::npos) continue;
    acc = (acc << 6) | static_cast<std::uint32_t>(k);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string qp_decode(std::string_view s, bool header_q) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (header_q && c == '_') {
      out.push_back(' ');
    } else if (!header_q && wsp(c)) {
      // Trailing white space on a line was added in transport: deleted (RFC 2045 6.7 rule 3).
      std::size_t j = i;
      while (j < s.size() && wsp(s[j])) ++j;
      bool at_line_end = j == s.size() || s[j] == '\n' || (s[j] == '\r' && (j + 1 == s.size() || s[j + 1] == '\n'));
      if (!at_line_end) out.append(s.substr(i, j - i));
      i = j - 1;
    } else if (c == '=') {
      if (i + 2 < s.size() && codec::hex_digit(s[i + 1]) >= 0 && codec::hex_digit(s[i + 2]) >= 0) {
        out.push_back(static_cast<char>(codec::hex_digit(s[i + 1]) * 16 + codec::hex_digit(s[i + 2])));
        i += 2;
      } else {
        // A soft line break "=\r\n" (or "=" + spaces + line end) disappears.
        std::size_t j = i + 1;
        while (j < s.size() && wsp(s[j])) ++j;
        if (j < s.size() && s[j] == '\r') ++j;
        if (j >= s.size() || s[j] == '\n') i = j;
        else out.push_back(c);
      }
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string decode_words(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  bool last_encoded = false;
  std::string pending_ws;
  while (i < s.size()) {
    if (s.substr(i, 2) == "=?") {
      std::size_t q1 = s.find('?', i + 2);
      std::size_t q2 = q1 == std::string_view::npos ? q1 : s.find('?', q1 + 1);
      std::size_t end = q2 == std::string_view::npos ? q2 : s.find("?=", q2 + 1);
      if (end != std::string_view::npos && q2 == q1 + 2) {
        std::string charset(s.substr(i + 2, q1 - i - 2));
        if (auto star = charset.find('*'); star != std::string::npos) charset.resize(star);  // RFC 2231 language
        char enc = static_cast<char>(s[q1 + 1] | 0x20);
        std::string_view text = s.substr(q2 + 1, end - q2 - 1);
        if (enc == 'b' || enc == 'q') {
          std::string raw = enc == 'b' ? b64_lenient(text) : qp_decode(text, true);
          if (!last_encoded) out += pending_ws;
          pending_ws.clear();
          out += to_utf8(raw, charset);
          last_encoded = true;
          i = end + 2;
          continue;
        }
      }
    }
    char c = s[i++];
    if (wsp(c) || c == '\r' || c == '\n') {
      if (c != '\r' && c != '\n') pending_ws.push_back(c);
      continue;
    }
    out += pending_ws;
    pending_ws.clear();
    out.push_back(c);
    last_encoded = false;
  }
  out += pending_ws;
  return out;
}

std::optional<std::string> transfer_decode(std::string_view raw, std::string_view encoding) {
  std::string enc = text::ascii_lower(trim(encoding));
  if (enc.empty() || enc == "7bit" || enc == "8bit" || enc == "binary") return std::string(raw);
  if (enc == "base64") return b64_lenient(raw);
  if (enc == "quoted-printable") return qp_decode(raw, false);
  return std::nullopt;
}

std::string decode_body(std::string_view msg, const Part& p) {
  std::string_view raw = msg.substr(p.body, p.end - p.body);
  auto bytes = transfer_decode(raw, p.encoding.value_or("7bit"));
  return to_utf8(bytes ? *bytes : std::string(raw), param(p.params, "charset").value_or(""));
}

// ---- sort and thread keys

std::string base_subject(std::string_view raw, bool* reply) {
  // RFC 5256 2.1, steps 1-6 (WSP already squeezed to single spaces).
  std::string s = text::squeeze(decode_words(raw));
  bool is_reply = false;
  auto trim_left = [](std::string_view v) {
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    return v;
  };
  // subj-blob = "[" *BLOBCHAR "]" *WSP, BLOBCHAR excluding "[" and "]".
  auto blob = [](std::string_view v) -> std::size_t {
    if (v.empty() || v[0] != '[') return 0;
    auto close = v.find_first_of("[]", 1);
    if (close == std::string_view::npos || v[close] != ']') return 0;
    std::size_t k = close + 1;
    while (k < v.size() && v[k] == ' ') ++k;
    return k;
  };
  // subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
  auto refwd = [&](std::string_view v) -> std::size_t {
    std::size_t k = 0;
    if (v.size() >= 3 && ieq(v.substr(0, 3), "fwd")) k = 3;
    else if (v.size() >= 2 && (ieq(v.substr(0, 2), "re") || ieq(v.substr(0, 2), "fw"))) k = 2;
    else return 0;
    while (k < v.size() && v[k] == ' ') ++k;
    k += blob(v.substr(k));
    return k < v.size() && v[k] == ':' ? k + 1 : 0;
  };
  for (;;) {
    // (2) trailers: "(fwd)" and white space, repeatedly.
    for (bool more = true; more;) {
      more = false;
      while (!s.empty() && s.back() == ' ') s.pop_back();
      if (s.size() >= 5 && ieq(std::string_view(s).substr(s.size() - 5), "(fwd)")) {
        s.resize(s.size() - 5);
        is_reply = more = true;
      }
    }
    // (3)-(4) leaders: *subj-blob subj-refwd, or one subj-blob that leaves something.
    for (bool more = true; more;) {
      more = false;
      std::string_view v = trim_left(s);
      std::size_t k = 0;
      for (std::size_t b; (b = blob(v.substr(k))) != 0;) k += b;
      if (std::size_t r = refwd(v.substr(k)); r != 0) {
        s = std::string(v.substr(k + r));
        is_reply = more = true;
        continue;
      }
      if (std::size_t b = blob(v); b != 0 && !trim_left(v.substr(b)).empty()) {
        s = std::string(v.substr(b));
        more = true;
        continue;
      }
      s = std::string(v);
    }
    // (6) "[fwd:" ... "]" around the whole subject: unwrap and start again.
    if (s.size() >= 6 && ieq(std::string_view(s).substr(0, 5), "[fwd:") && s.back() == ']') {
      s = s.substr(5, s.size() - 6);
      is_reply = true;
      continue;
    }
    break;
  }
  if (reply) *reply = is_reply;
  return text::ascii_lower(std::string(trim_left(s)));
}

std::optional<std::int64_t> parse_rfc5322_date(std::string_view v) {
  auto d = parse_rfc5322_date_zone(v);
  if (!d) return std::nullopt;
  return d->unix_ms;
}

std::optional<ZonedDate> parse_rfc5322_date_zone(std::string_view v) {
  // [day-of-week ","] d month yyyy hh:mm[:ss] zone
  static const char* months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  std::string s;
  for (char c : v) s.push_back(c == ',' ? ' ' : c);
  std::vector<std::string> w;
  Lexer lx{s};
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (wsp(s[i]) || s[i] == '\r' || s[i] == '\n')) ++i;
    if (i < s.size() && s[i] == '(') {
      lx.i = i;
      lx.skip_cfws();
      i = lx.i;
      continue;
    }
    std::size_t st = i;
    while (i < s.size() && !wsp(s[i]) && s[i] != '(') ++i;
    if (i > st) w.emplace_back(s.substr(st, i - st));
  }
  std::size_t k = 0;
  if (!w.empty() && !w[0].empty() && !(w[0][0] >= '0' && w[0][0] <= '9')) k = 1;
  if (w.size() < k + 4) return std::nullopt;
  try {
    int day = std::stoi(w[k]);
    int mon = -1;
    for (int m = 0; m < 12; ++m)
      if (text::ascii_lower(w[k + 1]).substr(0, 3) == months[m]) mon = m;
    int year = std::stoi(w[k + 2]);
    if (year < 50) year += 2000;
    else if (year < 1000) year += 1900;
    int hh = 0, mm = 0, ss = 0;
    if (std::sscanf(w[k + 3].c_str(), "%d:%d:%d", &hh, &mm, &ss) < 2) return std::nullopt;
    if (mon < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
    long zone = 0;
    if (w.size() > k + 4) {
      const std::string& z = w[k + 4];
      if ((z[0] == '+' || z[0] == '-') && z.size() == 5) {
        int n = std::stoi(z.substr(1));
        zone = ((n / 100) * 60 + n % 100) * (z[0] == '-' ? -1 : 1);
      }
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    std::int64_t t = timegm(&tm);
    return ZonedDate{(t - zone * 60) * 1000, static_cast<int>(zone)};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Summary summarize(std::string_view msg) {
  Summary s;
  Part root = parse(msg);
  s.envelope = envelope(msg, root);
  s.bodystructure = bodystructure(msg, root, true);
  s.body = bodystructure(msg, root, false);
  std::string_view head = msg.substr(0, root.body);
  if (auto d = header(head, "Date"))
    if (auto t = parse_rfc5322_date(*d)) s.date = *t;
  if (auto sub = header(head, "Subject")) s.subject = base_subject(*sub);
  auto first = [&](std::string_view name, std::string* display) {
    auto v = header(head, name);
    if (!v) return std::string();
    for (const auto& a : parse_addresses(*v)) {
      if (!a.host) {
        // A group's start marker carries its name, which is the first "address" for SORT, as
        // Dovecot sorts "undisclosed-recipients:;"; the end marker carries nothing.
        if (!a.mailbox) continue;
        if (display) *display = decode_words(*a.mailbox);
        return text::ascii_lower(*a.mailbox);
      }
      if (display) *display = a.name ? decode_words(*a.name) : a.mailbox.value_or("") + "@" + a.host.value_or("");
      return text::ascii_lower(a.mailbox.value_or(""));
    }
    return std::string();
  };
  s.from = first("From", &s.display_from);
  s.to = first("To", &s.display_to);
  s.cc = first("Cc", nullptr);
  s.message_id = header(head, "Message-ID").value_or("");
  s.in_reply_to = header(head, "In-Reply-To").value_or("");
  s.references = header(head, "References").value_or("");
  std::size_t n = 0;
  std::vector<const Part*> stack{&root};
  while (!stack.empty()) {
    const Part* p = stack.back();
    stack.pop_back();
    ++n;
    for (const auto& c : p->parts) stack.push_back(&c);
  }
  s.parts = static_cast<std::uint32_t>(n);
  return s;
}

std::string encode(const Summary& s) {
  codec::Writer w;
  w.u8(1)
      .str(s.envelope)
      .str(s.bodystructure)
      .str(s.body)
      .i64(s.date)
      .str(s.subject)
      .str(s.from)
      .str(s.to)
      .str(s.cc)
      .str(s.display_from)
      .str(s.display_to)
      .str(s.message_id)
      .str(s.in_reply_to)
      .str(s.references)
      .varint(s.parts);
  return w.take();
}

Summary decode_summary(std::string_view v) {
  codec::Reader r(v);
  if (r.u8() != 1) throw codec::DecodeError("summary: unknown version");
  Summary s;
  s.envelope = r.str();
  s.bodystructure = r.str();
  s.body = r.str();
  s.date = r.i64();
  s.subject = r.str();
  s.from = r.str();
  s.to = r.str();
  s.cc = r.str();
  s.display_from = r.str();
  s.display_to = r.str();
  s.message_id = r.str();
  s.in_reply_to = r.str();
  s.references = r.str();
  std::uint64_t parts = r.varint();
  if (parts > UINT32_MAX) throw codec::DecodeError("summary: part count out of range");
  s.parts = static_cast<std::uint32_t>(parts);
  r.expect_done();
  return s;
}

}  // namespace congvu::mailstore::mime
