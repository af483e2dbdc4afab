// SMTP replies as a client reads them (RFC 5321 4.2): "250-first", "250 last". Bytes in any
// split; NeedMore until the last line of a reply has arrived. A line that is not a reply, a
// multiline reply whose codes differ, or a line over 4 096 octets is an Error (the client then
// gives up on the connection). Pure; links nothing.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "smtp/proto/command.hpp"

namespace congvu::smtp::proto {

struct Reply {
  int code = 0;
  std::vector<std::string> lines;  // text after "NNN-" / "NNN "
  std::string text() const;        // the lines joined with "; "
  bool has(std::string_view keyword) const;  // an EHLO keyword (case-insensitive, first word)
};

class ReplyReader {
 public:
  void feed(std::string_view bytes) { buf_.append(bytes); }
  std::variant<NeedMore, Reply, Error> next();

 private:
  std::string buf_;
  std::size_t pos_ = 0;
  Reply partial_;
};

// Dot-stuffs a message for DATA and appends the final ".\r\n" (RFC 5321 4.5.2).
std::string dot_stuff(std::string_view message);

}  // namespace congvu::smtp::proto
