// Html: markup built so that text cannot turn into markup by mistake (issue 20: one forgotten
// escape call is an XSS). Markup comes only from string literals written in the source — the
// array-reference overloads below, which a runtime string never matches; every std::string or
// std::string_view put in is text and is escaped (& < > " '); a const char* variable does not
// compile (it would convert to bool): say std::string_view(p) to mean text. Html values join
// without escaping. Beware the one trap: a conditional `c ? "<b>" : ""` decays to const char*
// and is escaped, so write `c ? Html("<b>") : Html()` when a branch is markup (an escaped tag
// shows up in the page and in the tests, it does not open a hole).
// There is no way around the rule: a constant piece of markup is a literal (or a constexpr
// char array, which matches the same overload), everything else is text.
// Thread-safety: a plain value type.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace congvu {

class Html {
 public:
  Html() = default;
  template <std::size_t N>
  Html(const char (&markup)[N]) : s_(markup, N - 1) {}  // NOLINT(google-explicit-constructor): literals are markup

  template <std::size_t N>
  Html(char (&buffer)[N]) = delete;  // NOLINT(google-explicit-constructor)

  template <std::size_t N>
  Html& operator<<(const char (&markup)[N]) {
    s_.append(markup, N - 1);
    return *this;
  }
  template <std::size_t N>
  Html& operator<<(char (&buffer)[N]) = delete;  // a writable array is a runtime buffer, not markup
  Html& operator<<(std::string_view text);  // escaped
  Html& operator<<(const Html& h) {
    s_ += h.s_;
    return *this;
  }
  Html& operator<<(long long n) {
    s_ += std::to_string(n);
    return *this;
  }
  Html& operator<<(int n) { return *this << static_cast<long long>(n); }
  Html& operator<<(std::size_t n) { return *this << static_cast<long long>(n); }
  Html& operator<<(char) = delete;  // a character is neither markup nor text by itself here
  Html& operator<<(bool) = delete;  // also catches a const char* variable: wrap it in std::string_view

  // Text as HTML: the same escaping, as a value to join.
  static Html text(std::string_view t) { return std::move(Html() << t); }
  bool empty() const { return s_.empty(); }
  const std::string& str() const& { return s_; }
  std::string str() && { return std::move(s_); }

 private:
  std::string s_;
};

}  // namespace congvu
