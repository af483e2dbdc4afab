#include "imap/proto/fetch.hpp"

#include <cctype>

namespace congvu::imap::proto {

// Parses "BODY.PEEK[1.HEADER.FIELDS (From To)]<0.100>" and the plain items.
void parse_section(std::string_view spec, std::string& part, std::string& what, std::vector<std::string>& fields) {
  std::size_t i = 0;
  while (i < spec.size() && (std::isdigit(static_cast<unsigned char>(spec[i])) || spec[i] == '.')) {
    if (spec[i] == '.' && (i + 1 >= spec.size() || !std::isdigit(static_cast<unsigned char>(spec[i + 1])))) break;
    ++i;
  }
  part = std::string(spec.substr(0, i));
  if (!part.empty() && (part.front() == '.' || part.find("..") != std::string::npos)) throw ParseError("bad section");
  std::string_view rest = spec.substr(i);
  if (!rest.empty() && rest[0] == '.') {
    if (part.empty()) throw ParseError("bad section");
    rest.remove_prefix(1);
  }
  std::size_t sp = rest.find(' ');
  what = upper_ascii(std::string(rest.substr(0, sp)));
  if (what == "HEADER.FIELDS" || what == "HEADER.FIELDS.NOT") {
    if (sp == std::string_view::npos) throw ParseError("HEADER.FIELDS needs a list");
    std::string list(rest.substr(sp + 1));
    list += "\r\n";
    Parser lp(list);
    lp.expect('(');
    do {
      fields.push_back(upper_ascii(lp.astring()));
    } while (lp.try_sp());
    lp.expect(')');
    lp.end();
  } else if (sp != std::string_view::npos) {
    throw ParseError("bad section");
  } else if (!(what.empty() || what == "HEADER" || what == "TEXT" || what == "MIME")) {
    throw ParseError("bad section " + what);
  } else if (what == "MIME" && part.empty()) {
    throw ParseError("MIME needs a part number");
  }
}

FetchItem parse_fetch_item(const std::string& raw) {
  using F = FetchItem;
  F f{};
  auto bracket = raw.find('[');
  std::string head = upper_ascii(raw.substr(0, bracket));
  if (bracket == std::string::npos) {
    static const std::pair<const char*, F::Kind> simple[] = {
        {"UID", F::uid},           {"FLAGS", F::flags},       {"INTERNALDATE", F::internaldate},
        {"RFC822.SIZE", F::size},  {"ENVELOPE", F::envelope}, {"BODY", F::body},
        {"BODYSTRUCTURE", F::bodystructure}, {"MODSEQ", F::modseq}, {"RFC822", F::rfc822},
        {"RFC822.HEADER", F::rfc822_header}, {"RFC822.TEXT", F::rfc822_text}};
    for (const auto& [n, k] : simple)
      if (head == n) {
        f.kind = k;
        f.label = n;
        return f;
      }
    throw ParseError("unknown fetch item " + raw.substr(0, 40));
  }
  auto close = raw.find(']', bracket);
  std::string spec = raw.substr(bracket + 1, close - bracket - 1);
  std::string tail = raw.substr(close + 1);
  if (head == "BODY" || head == "BODY.PEEK") {
    f.kind = F::section;
    f.peek = head == "BODY.PEEK";
  } else if (head == "BINARY" || head == "BINARY.PEEK") {
    f.kind = F::binary;
    f.peek = head == "BINARY.PEEK";
  } else if (head == "BINARY.SIZE") {
    f.kind = F::binary_size;
    f.peek = true;
  } else {
    throw ParseError("unknown fetch item " + head);
  }
  parse_section(spec, f.part, f.what, f.fields);
  if (f.kind != F::section && !f.what.empty()) throw ParseError("BINARY takes part numbers only");
  std::string label_spec = f.part;
  if (!f.what.empty()) {
    label_spec += (label_spec.empty() ? "" : ".") + f.what;
    if (!f.fields.empty()) {
      label_spec += " (";
      for (std::size_t i = 0; i < f.fields.size(); ++i) label_spec += (i ? " " : "") + f.fields[i];
      label_spec += ")";
    }
  }
  f.label = std::string(f.kind == F::section ? "BODY" : f.kind == F::binary ? "BINARY" : "BINARY.SIZE") + "[" +
            label_spec + "]";
  if (!tail.empty()) {
    if (f.kind == F::binary_size || tail.front() != '<' || tail.back() != '>') throw ParseError("bad partial");
    std::string inner = tail.substr(1, tail.size() - 2) + "\r\n";
    Parser pp(inner);
    std::uint64_t a = pp.number64();
    pp.expect('.');
    std::uint64_t b = pp.number64();
    pp.end();
    if (b == 0) throw ParseError("partial length must not be 0");
    f.partial = std::make_pair(a, b);
  }
  return f;
}

FetchCommand parse_fetch(Parser& p) {
  FetchCommand c;
  p.sp();
  c.set = p.sequence_set();
  p.sp();
  auto add = [&](const std::string& raw) { c.items.push_back(parse_fetch_item(raw)); };
  if (p.try_char('(')) {
    do {
      add(p.fetch_att());
    } while (p.try_sp());
    p.expect(')');
  } else {
    std::string a = p.fetch_att();
    std::string u = upper_ascii(a);
    if (u == "ALL") {
      for (const char* x : {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"}) add(x);
    } else if (u == "FAST") {
      for (const char* x : {"FLAGS", "INTERNALDATE", "RFC822.SIZE"}) add(x);
    } else if (u == "FULL") {
      for (const char* x : {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"}) add(x);
    } else {
      add(a);
    }
  }
  if (p.try_sp()) {
    p.expect('(');
    while (!p.try_char(')')) {
      p.try_sp();
      std::string k = p.keyword();
      if (k == "CHANGEDSINCE") {
        p.sp();
        c.changed_since = p.number64();
      } else if (k == "VANISHED") {
        c.vanished = true;
      } else if (k == "PARTIAL") {
        p.sp();
        c.partial = parse_partial_range(p);
      } else {
        throw ParseError("unknown FETCH modifier " + k.substr(0, 30));
      }
    }
  }
  p.end();
  return c;
}

}  // namespace congvu::imap::proto
