// Text for Vietnamese names and addresses, on ICU.
// - nfc(): Unicode NFC, the form names are stored in (input may come decomposed, NFD, from
//   macOS or older Vietnamese keyboards).
// - fold(): the search and address form: strip diacritics, đ/Đ -> d, lowercase, every
//   non-alphanumeric run becomes one space, trimmed. "Nguyễn Văn  Đức" -> "nguyen van duc".
//   Letters outside Latin keep their lowercase form.
// - valid_utf8(): input must be UTF-8; CSV rows and CLI arguments are checked with it.
// Thread-safe: ICU normalizer instances are immutable singletons.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace congvu::text {

bool valid_utf8(std::string_view s);
std::string nfc(std::string_view s);
std::string fold(std::string_view s);
// fold(s) split on spaces.
std::vector<std::string> fold_tokens(std::string_view s);
// Trims ASCII whitespace and collapses inner runs of whitespace to one space.
std::string squeeze(std::string_view s);
std::string ascii_lower(std::string_view s);
std::string ascii_upper(std::string_view s);

}  // namespace congvu::text
