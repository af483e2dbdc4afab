// The structure of a message (RFC 5322 headers, RFC 2045/2046 MIME, RFC 2231 parameters) as
// IMAP describes it: ENVELOPE and BODYSTRUCTURE (RFC 9051 7.5.2), computed once when a message
// is stored and kept in the index (table `summary`, keyed by the blob's SHA-256), so that FETCH
// of ENVELOPE, BODYSTRUCTURE and the sort keys never opens the blob.
// One linear pass over the bytes; nesting deeper than kMaxDepth is treated as an opaque leaf,
// and the number of parts is bounded, so hostile input costs time linear in its size.
// The strings kept are the header values as written (unfolded), the way IMAP sends them;
// decoding of RFC 2047 words happens in search and sort (decode_words).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace congvu::mailstore::mime {

inline constexpr int kMaxDepth = 40;
inline constexpr std::size_t kMaxParts = 5000;

struct Param {
  std::string name, value;
};

struct Part {
  std::size_t begin = 0;  // the part's header
  std::size_t body = 0;   // its body
  std::size_t end = 0;    // the end of its body
  std::string type = "text", subtype = "plain";
  bool typed = false;     // a Content-Type header was present
  std::vector<Param> params;
  std::optional<std::string> id, description, md5, location, language;
  std::optional<std::string> encoding;
  std::optional<std::string> disposition;
  std::vector<Param> disposition_params;
  std::size_t lines = 0;
  std::vector<Part> parts;  // children of a multipart, or the message inside message/rfc822
  // Where the close-delimiter line of the last multipart inside ends (npos if none).
  std::size_t close_end = std::string::npos;
  bool is_multipart() const;
  bool is_message() const;  // message/rfc822 or message/global with a parsed message inside
};

Part parse(std::string_view msg);
// Where the top-level header ends (its blank line included): parse(msg).body, without parsing.
std::size_t header_length(std::string_view msg);

// One header field's unfolded value (the first such field), or nullopt.
std::optional<std::string> header(std::string_view head, std::string_view name);
// Every field of a header section as (name, raw value incl. folding).
std::vector<std::pair<std::string_view, std::string_view>> fields(std::string_view head);

std::string envelope(std::string_view msg, const Part& p);
std::string bodystructure(std::string_view msg, const Part& p, bool extended);

// The part a section path ("1.2", "" for the whole message) names, or null.
const Part* find(const Part& root, std::string_view path);

// RFC 2047 encoded words decoded to UTF-8 (unknown charsets left as written).
std::string decode_words(std::string_view s);
// Bytes decoded from a Content-Transfer-Encoding (7bit, 8bit, binary, base64,
// quoted-printable); nullopt for an encoding it does not know (IMAP BINARY: UNKNOWN-CTE).
std::optional<std::string> transfer_decode(std::string_view raw, std::string_view encoding);
// A body decoded from its transfer encoding and charset to UTF-8 (for SEARCH).
std::string decode_body(std::string_view msg, const Part& p);
// Bytes in a charset (any ICU knows: utf-8, windows-1258, iso-8859-1 ...) to UTF-8.
std::string to_utf8(std::string_view bytes, std::string_view charset);

// What the index keeps for each stored blob.
struct Summary {
  std::string envelope, bodystructure, body;  // IMAP forms (BODY is BODYSTRUCTURE without extensions)
  std::int64_t date = 0;                      // the Date: header, Unix ms (0 if missing or bad)
  std::string subject;   // RFC 5256 base subject, decoded and folded
  std::string from, to, cc;  // the first address's mailbox (local part), lower case (SORT)
  std::string display_from, display_to;  // RFC 5957 display names (or address)
  std::string message_id, in_reply_to, references;  // THREAD
  std::uint32_t parts = 0;
};
Summary summarize(std::string_view msg);
std::string encode(const Summary& s);
Summary decode_summary(std::string_view v);  // throws codec::DecodeError

// RFC 5256 base subject: encoded words decoded, "Re:", "Fwd:", "[tag]" and "(fwd)" removed.
// `reply` (optional): whether a reply or forward marker was removed (RFC 5256 REFERENCES step 5).
std::string base_subject(std::string_view raw, bool* reply = nullptr);
// RFC 5322 date with the offset it was written in (minutes east of UTC): SEARCH SENTON and
// friends compare the date as written, ignoring time and zone (RFC 3501 6.4.4).
struct ZonedDate {
  std::int64_t unix_ms = 0;
  int zone_minutes = 0;
};
std::optional<ZonedDate> parse_rfc5322_date_zone(std::string_view s);
// RFC 5322 date to Unix ms; nullopt if unparseable.
std::optional<std::int64_t> parse_rfc5322_date(std::string_view s);

}  // namespace congvu::mailstore::mime
