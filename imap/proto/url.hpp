// IMAP URLs (RFC 5092) as CATENATE (RFC 4469) uses them: the message, section and range an
// APPEND copies from this server. Absolute ("imap://user@host/INBOX;UIDVALIDITY=7/;UID=20/;
// SECTION=1.MIME") and relative ("/INBOX/;UID=20", ";UID=20" in the selected mailbox) forms.
// Sans-I/O like the rest of imap/proto; fuzzed (tests/fuzz).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace congvu::imap::proto {

struct ImapUrl {
  std::optional<std::string> user;  // absolute form: the user part, percent-decoded
  std::optional<std::string> host;  // absolute form
  bool relative_mailbox = false;    // ";UID=..." alone: the selected mailbox
  std::string mailbox;              // UTF-8, percent-decoded
  std::optional<std::uint32_t> uidvalidity;
  std::uint32_t uid = 0;
  std::string section;              // after ;SECTION= (decoded), "" for the whole message
  std::optional<std::pair<std::uint64_t, std::optional<std::uint64_t>>> partial;  // ;PARTIAL=o[.l]
  bool urlauth = false;             // carries ;URLAUTH= (RFC 4467, not offered here)
};

// nullopt when `s` is not an IMAP URL naming one message (a mailbox list, a search, garbage).
std::optional<ImapUrl> parse_imap_url(std::string_view s);

}  // namespace congvu::imap::proto
