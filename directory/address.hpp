// The address rule (DESIGN.md): given name + initials of the family and middle names, folded
// to ASCII: Nguyễn Văn An -> annv, Nguyễn Thị Thu Hà -> hantt, Đặng Văn Đức -> ducdv.
// Only the letters a-z survive, so a base never ends in a digit and the suffixes of the
// collision rule (annv, annv2, annv3 ... in order of creation) can never be mistaken for another
// base. The unit is never part of an address: it survives every transfer.
// Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace congvu::directory {

struct NameParts {
  std::string family, middle, given;
};

// Splits a full name written family name first, given name last ("Nguyễn Hữu Ngọc Phúc" ->
// Nguyễn / Hữu Ngọc / Phúc). A one-word name is a given name alone.
NameParts split_full_name(std::string_view full_name);

// The base local part; empty if the name has no Latin letters.
std::string address_base(const NameParts& n);

// The n-th address for a base: n == 1 is the base itself, then base2, base3, ...
std::string address_candidate(std::string_view base, unsigned n);

// A login or local part an admin may type: [a-z0-9._-], starting with a letter, 1..64 bytes.
bool valid_local_part(std::string_view s);
// A unit slug or group name: [a-z0-9-], starting with a letter or digit, 1..64 bytes.
bool valid_slug(std::string_view s);
// A unit code: letters, digits, '.', '-', '_', 1..64 bytes (e.g. 000.00.01.H99).
bool valid_unit_code(std::string_view c);
// A name or position: 1..max bytes of UTF-8 without control characters.
bool valid_text(std::string_view s, std::size_t max = 512);

}  // namespace congvu::directory
