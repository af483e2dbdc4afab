#include "common/text.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <stdexcept>

namespace congvu::text {
namespace {

const icu::Normalizer2& normalizer(bool decompose) {
  UErrorCode ec = U_ZERO_ERROR;
  const icu::Normalizer2* n = decompose ? icu::Normalizer2::getNFDInstance(ec)
                                        : icu::Normalizer2::getNFCInstance(ec);
  if (U_FAILURE(ec)) throw std::runtime_error("ICU normalizer unavailable");
  return *n;
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

}  // namespace

bool valid_utf8(std::string_view s) {
  std::int32_t i = 0, n = static_cast<std::int32_t>(s.size());
  while (i < n) {
    UChar32 c;
    U8_NEXT(reinterpret_cast<const uint8_t*>(s.data()), i, n, c);
    if (c < 0) return false;
  }
  return true;
}

std::string nfc(std::string_view s) {
  if (is_ascii(s)) return std::string(s);
  UErrorCode ec = U_ZERO_ERROR;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  icu::UnicodeString out = normalizer(false).normalize(u, ec);
  if (U_FAILURE(ec)) throw std::runtime_error("NFC normalisation failed");
  std::string r;
  out.toUTF8String(r);
  return r;
}

std::string fold(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = true;  // suppress leading spaces
  auto emit_sep = [&] {
    if (!space) {
      out += ' ';
      space = true;
    }
  };
  if (is_ascii(s)) {
    for (char c : s) {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        out += c;
        space = false;
      } else if (c >= 'A' && c <= 'Z') {
        out += static_cast<char>(c - 'A' + 'a');
        space = false;
      } else {
        emit_sep();
      }
    }
  } else {
    UErrorCode ec = U_ZERO_ERROR;
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
    icu::UnicodeString d = normalizer(true).normalize(u, ec);
    if (U_FAILURE(ec)) throw std::runtime_error("NFD normalisation failed");
    for (int32_t i = 0; i < d.length();) {
      UChar32 c = d.char32At(i);
      i += U16_LENGTH(c);
      if (c == 0x0111 || c == 0x0110) c = 'd';  // đ Đ
      int8_t cat = u_charType(c);
      if (cat == U_NON_SPACING_MARK || cat == U_ENCLOSING_MARK || cat == U_COMBINING_SPACING_MARK)
        continue;
      if (u_isalnum(c)) {
        c = u_tolower(c);
        char buf[4];
        int32_t n = 0;
        UBool err = false;
        U8_APPEND(reinterpret_cast<uint8_t*>(buf), n, 4, c, err);
        if (!err) out.append(buf, static_cast<std::size_t>(n));
        space = false;
      } else {
        emit_sep();
      }
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::vector<std::string> fold_tokens(std::string_view s) {
  std::vector<std::string> tokens;
  std::string f = fold(s);
  std::size_t start = 0;
  while (start < f.size()) {
    std::size_t end = f.find(' ', start);
    if (end == std::string::npos) end = f.size();
    tokens.push_back(f.substr(start, end - start));
    start = end + 1;
  }
  return tokens;
}

std::string squeeze(std::string_view s) {
  std::string out;
  bool ws = true;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ws = true;
    } else {
      if (ws && !out.empty()) out += ' ';
      ws = false;
      out += c;
    }
  }
  return out;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

}  // namespace congvu::text
