// The typed form of FETCH (RFC 9051 6.4.5, BINARY RFC 3516, CONDSTORE/QRESYNC modifiers RFC
// 7162, the PARTIAL modifier RFC 9394): the parser reads the items and modifiers, the session
// answers them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "imap/proto/command.hpp"
#include "imap/proto/search.hpp"

namespace congvu::imap::proto {

// One FETCH item.
struct FetchItem {
  enum Kind { uid, flags, internaldate, size, envelope, body, bodystructure, modseq, section, binary, binary_size,
              rfc822, rfc822_header, rfc822_text };
  Kind kind = uid;
  bool peek = false;
  std::string label;  // the name the response uses ("BODY[HEADER]", "BINARY[1]")
  std::string part;   // "1.2"
  std::string what;   // "", HEADER, TEXT, MIME, HEADER.FIELDS, HEADER.FIELDS.NOT
  std::vector<std::string> fields;  // upper case
  std::optional<std::pair<std::uint64_t, std::uint64_t>> partial;  // <origin.length>
};

struct FetchCommand {
  SeqSet set;
  std::vector<FetchItem> items;  // ALL, FAST and FULL expanded
  std::optional<std::uint64_t> changed_since;
  bool vanished = false;
  std::optional<PartialRange> partial;  // RFC 9394: only the messages of this range of the set
};

// "BODY.PEEK[1.HEADER.FIELDS (From To)]<0.100>", "RFC822.SIZE", ... (one fetch-att).
FetchItem parse_fetch_item(const std::string& raw);
// From the sequence set to the end of the command.
FetchCommand parse_fetch(Parser& p);

// A section spec ("1.2.HEADER.FIELDS (A B)") into its part number, its text part and fields.
void parse_section(std::string_view spec, std::string& part, std::string& what, std::vector<std::string>& fields);

}  // namespace congvu::imap::proto
