// The header section of an Internet message (RFC 5322 2.2, 3.6), parsed without copying: the
// fields in order, each with its name and its raw bytes, and where the body starts. Used by
// submission (Message-ID, From checks) and DKIM (which signs the raw field bytes).
// Pure; links nothing. Input that is not a header section (a line without a colon, a
// continuation line first, a field name with spaces) is reported with the line number, so
// the caller can refuse it with 554 5.6.0 or store it as it is.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace congvu::smtp::proto {

struct HeaderField {
  std::string_view name;   // as written
  std::string_view value;  // after the colon, folded lines included, without the final CRLF
  std::string_view raw;    // the whole field with its final CRLF
};

struct HeaderSection {
  std::vector<HeaderField> fields;
  std::size_t body_offset = 0;  // first byte after the empty line (or the end)
  // The first field with this name (any case), if any.
  const HeaderField* find(std::string_view name) const;
  std::size_t count(std::string_view name) const;
};

struct HeaderError {
  std::size_t line = 0;
  std::string reason;
};

// Lines end in CRLF (the SMTP readers guarantee it). At most max_fields fields.
std::optional<HeaderSection> parse_header_section(std::string_view message, HeaderError* error = nullptr,
                                                  std::size_t max_fields = 1000);

// Removes CRLF before folding whitespace and trims the ends.
std::string unfold(std::string_view value);

// The addr-specs of an address list ("Nguyễn Văn An" <annv@x>, b@y, group: c@z;), lowercased
// domain; quoted display names, comments and groups are understood. Empty entries skipped.
std::vector<std::string> parse_address_list(std::string_view value);

bool iequal(std::string_view a, std::string_view b);

}  // namespace congvu::smtp::proto
