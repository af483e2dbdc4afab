#include "directory/scim/filter.hpp"

#include <optional>

#include "common/text.hpp"

namespace congvu::directory::scim {
namespace {

constexpr std::size_t kMaxText = 4096;
constexpr int kMaxDepth = 64;
constexpr int kMaxCompares = 256;

Error bad(std::string m) { return make_error(Errc::invalid_argument, std::move(m)); }

bool ieq(std::string_view a, std::string_view b) { return text::ascii_lower(a) == text::ascii_lower(b); }

// Strips a known schema URN prefix ("urn:...:User:") from a path; returns the rest and
// which schema it named ("" when none).
std::pair<std::string, std::string> split_urn(std::string_view path) {
  for (const char* urn : {kUserSchema, kEnterpriseSchema, kCongvuUserSchema, kGroupSchema, kCongvuGroupSchema}) {
    std::string_view u(urn);
    if (path.size() > u.size() + 1 && ieq(path.substr(0, u.size()), u) && path[u.size()] == ':')
      return {std::string(path.substr(u.size() + 1)), std::string(urn)};
  }
  return {std::string(path), ""};
}

class Parser {
 public:
  Parser(std::string_view s, Resource r) : s_(s), r_(r) {}

  Result<std::unique_ptr<Filter>> run() {
    auto f = parse_or(0);
    if (!f) return f;
    skip_ws();
    if (pos_ != s_.size()) return bad("unexpected '" + std::string(s_.substr(pos_, 20)) + "' in the filter");
    return f;
  }

 private:
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }

  // A keyword ("and", "or", "not") followed by a space or '('.
  bool keyword(std::string_view kw) {
    skip_ws();
    if (s_.size() - pos_ < kw.size() || !ieq(s_.substr(pos_, kw.size()), kw)) return false;
    std::size_t after = pos_ + kw.size();
    if (after < s_.size() && s_[after] != ' ' && s_[after] != '(') return false;
    pos_ = after;
    return true;
  }

  Result<std::unique_ptr<Filter>> parse_or(int depth) {
    auto left = parse_and(depth);
    if (!left) return left;
    std::unique_ptr<Filter> acc = std::move(left.value());
    while (keyword("or")) {
      auto right = parse_and(depth);
      if (!right) return right;
      auto f = std::make_unique<Filter>();
      f->kind = Filter::or_;
      f->left = std::move(acc);
      f->right = std::move(right.value());
      acc = std::move(f);
    }
    return acc;
  }

  Result<std::unique_ptr<Filter>> parse_and(int depth) {
    auto left = parse_unary(depth);
    if (!left) return left;
    std::unique_ptr<Filter> acc = std::move(left.value());
    while (keyword("and")) {
      auto right = parse_unary(depth);
      if (!right) return right;
      auto f = std::make_unique<Filter>();
      f->kind = Filter::and_;
      f->left = std::move(acc);
      f->right = std::move(right.value());
      acc = std::move(f);
    }
    return acc;
  }

  Result<std::unique_ptr<Filter>> parse_unary(int depth) {
    if (depth >= kMaxDepth) return bad("the filter nests deeper than 64 levels");
    skip_ws();
    std::size_t save = pos_;
    if (keyword("not")) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '(') {
        pos_ = save;  // an attribute named "not..."
      } else {
        ++pos_;
        auto inner = parse_or(depth + 1);
        if (!inner) return inner;
        skip_ws();
        if (pos_ >= s_.size() || s_[pos_] != ')') return bad("missing ')' after not(...");
        ++pos_;
        auto f = std::make_unique<Filter>();
        f->kind = Filter::not_;
        f->left = std::move(inner.value());
        return f;
      }
    }
    if (pos_ < s_.size() && s_[pos_] == '(') {
      ++pos_;
      auto inner = parse_or(depth + 1);
      if (!inner) return inner;
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ')') return bad("missing ')' in the filter");
      ++pos_;
      return inner;
    }
    return parse_attr_exp(depth);
  }

  Result<std::unique_ptr<Filter>> parse_attr_exp(int depth) {
    skip_ws();
    std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ' ' && s_[pos_] != '[' && s_[pos_] != '(' && s_[pos_] != ')') ++pos_;
    std::string path(s_.substr(start, pos_ - start));
    if (path.empty()) return bad("an attribute name is missing in the filter");
    if (pos_ < s_.size() && s_[pos_] == '[') {
      // attrPath "[" valFilter "]": the inner filter applies to each value of emails/members.
      auto [rest, urn] = split_urn(path);
      std::string lower = text::ascii_lower(rest);
      std::string prefix;
      Attr multi;
      if (r_ == Resource::user && lower == "emails") {
        multi = Attr::emails;
      } else if (r_ == Resource::group && lower == "members") {
        multi = Attr::group_members;
      } else {
        return bad("'" + path + "[...]' is not supported: value filters work on emails (Users) and members (Groups)");
      }
      ++pos_;
      prefix_ = lower + ".";
      auto inner = parse_or(depth + 1);
      prefix_.clear();
      if (!inner) return inner;
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ']') return bad("missing ']' in the filter");
      ++pos_;
      auto f = std::make_unique<Filter>();
      f->kind = Filter::value_path;
      f->attr = multi;
      f->left = std::move(inner.value());
      return f;
    }
    auto attr = resolve_attr(prefix_ + path, r_);
    if (!attr) return bad("cannot filter on '" + path + "'" + supported());
    skip_ws();
    std::size_t op_start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ' ') ++pos_;
    std::string op = text::ascii_lower(s_.substr(op_start, pos_ - op_start));
    auto f = std::make_unique<Filter>();
    f->attr = *attr;
    static const std::pair<const char*, Op> kOps[] = {{"eq", Op::eq}, {"ne", Op::ne}, {"co", Op::co}, {"sw", Op::sw},
                                                      {"ew", Op::ew}, {"gt", Op::gt}, {"ge", Op::ge}, {"lt", Op::lt},
                                                      {"le", Op::le}, {"pr", Op::pr}};
    bool known = false;
    for (const auto& [name, o] : kOps)
      if (op == name) {
        f->op = o;
        known = true;
      }
    if (!known) return bad("unknown operator '" + op + "' after " + path + " (use eq, ne, co, sw, ew, gt, ge, lt, le, pr)");
    if (++compares_ > kMaxCompares) return bad("the filter has more than 256 comparisons");
    if (f->op == Op::pr) return f;
    skip_ws();
    auto v = parse_value();
    if (!v) return v.error();
    f->value = std::move(v.value());
    return f;
  }

  Result<Value> parse_value() {
    Value v;
    if (pos_ >= s_.size()) return bad("a comparison value is missing at the end of the filter");
    if (s_[pos_] == '"') {
      ++pos_;
      std::string out;
      while (pos_ < s_.size() && s_[pos_] != '"') {
        char ch = s_[pos_++];
        if (ch != '\\') {
          out += ch;
          continue;
        }
        if (pos_ >= s_.size()) break;
        char e = s_[pos_++];
        switch (e) {
          case '"': case '\\': case '/': out += e; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            if (s_.size() - pos_ < 4) return bad("a \\u escape needs four hex digits");
            unsigned cp = 0;
            for (int i = 0; i < 4; ++i) {
              char h = s_[pos_++];
              int d = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
              if (d < 0) return bad("a \\u escape needs four hex digits");
              cp = cp * 16 + static_cast<unsigned>(d);
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) return bad("surrogate \\u escapes are not supported in filters");
            if (cp < 0x80) {
              out += static_cast<char>(cp);
            } else if (cp < 0x800) {
              out += static_cast<char>(0xC0 | (cp >> 6));
              out += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
              out += static_cast<char>(0xE0 | (cp >> 12));
              out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
              out += static_cast<char>(0x80 | (cp & 0x3F));
            }
            break;
          }
          default: return bad(std::string("unknown escape \\") + e + " in a filter string");
        }
      }
      if (pos_ >= s_.size()) return bad("a string in the filter is not closed with '\"'");
      ++pos_;
      if (!text::valid_utf8(out)) return bad("a string in the filter is not valid UTF-8");
      v.folded = text::fold(out);
      v.text = std::move(out);
      return v;
    }
    std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ' ' && s_[pos_] != ')' && s_[pos_] != ']') ++pos_;
    std::string word(s_.substr(start, pos_ - start));
    if (word == "true" || word == "false") {
      v.type = Value::boolean;
    } else if (word == "null") {
      v.type = Value::null;
    } else if (!word.empty() && word.find_first_not_of("0123456789.-+eE") == std::string::npos &&
               word.find_first_of("0123456789") != std::string::npos) {
      v.type = Value::number;
    } else {
      return bad("'" + word + "' is not a comparison value (strings are quoted: \"...\")");
    }
    v.text = word;
    return v;
  }

  std::string supported() const {
    return r_ == Resource::user
               ? " (filterable: id, externalId, userName, displayName, name.formatted, name.familyName, "
                 "name.givenName, name.middleName, emails, emails.value, emails.type, title, active, "
                 "employeeNumber, unitCode, position, status, meta.created, meta.lastModified)"
               : " (filterable: id, externalId, displayName, members, members.value, meta.created)";
  }

  std::string_view s_;
  Resource r_;
  std::size_t pos_ = 0;
  int compares_ = 0;
  std::string prefix_;
};

}  // namespace

std::optional<Attr> resolve_attr(std::string_view path, Resource r) {
  auto [rest, urn] = split_urn(path);
  std::string p = text::ascii_lower(rest);
  if (p == "id") return Attr::id;
  if (p == "externalid") return Attr::external_id;
  if (p == "meta.created") return Attr::created;
  if (p == "meta.lastmodified") return Attr::last_modified;
  if (r == Resource::group) {
    if (!urn.empty() && urn != kGroupSchema) return std::nullopt;
    if (p == "displayname") return Attr::display_name;
    if (p == "members" || p == "members.value") return Attr::group_members;
    return std::nullopt;
  }
  if (urn.empty() || urn == kUserSchema) {
    if (p == "username") return Attr::user_name;
    if (p == "displayname") return Attr::display_name;
    if (p == "name.formatted") return Attr::name_formatted;
    if (p == "name.familyname") return Attr::family_name;
    if (p == "name.givenname") return Attr::given_name;
    if (p == "name.middlename") return Attr::middle_name;
    if (p == "emails" || p == "emails.value") return Attr::emails;
    if (p == "emails.type") return Attr::email_type;
    if (p == "emails.primary") return Attr::email_primary;
    if (p == "title") return Attr::title;
    if (p == "active") return Attr::active;
  }
  if (urn.empty() || urn == kEnterpriseSchema)
    if (p == "employeenumber") return Attr::employee_number;
  if (urn.empty() || urn == kCongvuUserSchema) {
    if (p == "unitcode") return Attr::unit_code;
    if (p == "position") return Attr::position;
    if (p == "status") return Attr::status;
  }
  return std::nullopt;
}

bool compare_text(std::string_view have, Op op, std::string_view want) {
  switch (op) {
    case Op::eq: return have == want;
    case Op::ne: return have != want;
    case Op::co: return have.find(want) != std::string_view::npos;
    case Op::sw: return have.substr(0, want.size()) == want;
    case Op::ew: return have.size() >= want.size() && have.substr(have.size() - want.size()) == want;
    case Op::gt: return have > want;
    case Op::ge: return have >= want;
    case Op::lt: return have < want;
    case Op::le: return have <= want;
    case Op::pr: return !have.empty();
  }
  return false;
}

Result<std::unique_ptr<Filter>> parse_filter(std::string_view text, Resource r) {
  if (text.size() > kMaxText) return bad("the filter is longer than 4096 bytes");
  if (!text::valid_utf8(text)) return bad("the filter is not valid UTF-8");
  return Parser(text, r).run();
}

}  // namespace congvu::directory::scim
