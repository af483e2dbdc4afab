// IMAP wire parsing without I/O (RFC 9051, RFC 3501, RFC 7888 LITERAL+/LITERAL-, RFC 3516
// literal8): a CommandReader cuts the byte stream into whole commands (lines plus the literals
// they announce), and a Parser reads the grammar of one command. No sockets, clocks, Asio,
// LMDB or OpenSSL: the imap_proto target links none.
//
// SECURITY: a line longer than max_line, or a literal larger than max_literal, never grows a
// buffer: a synchronising literal that is too big is refused before the client sends it (no
// continuation), a non-synchronising one is read and thrown away, and the command is answered
// with a tagged error (too_big: [TOOBIG]). Before login the session lowers max_literal.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace congvu::imap::proto {

struct Limits {
  std::size_t max_line = 65536;        // octets of one line outside literals
  std::uint64_t max_literal = 64 << 20;  // one literal
  std::uint64_t max_command = 128 << 20; // a whole command, literals included (MULTIAPPEND)
};

class CommandReader {
 public:
  enum class Kind {
    need_more,     // feed more bytes
    continuation,  // send "+ ..." for a synchronising literal, then feed more
    command,       // `text` holds the whole command (CRLF ending its last line)
    error,         // `tag` (may be empty) and `message`: answer BAD/NO; the command is dropped
  };
  struct Event {
    Kind kind = Kind::need_more;
    std::string text, tag, message;
    bool too_big = false;  // a limit was exceeded (response code TOOBIG)
  };

  explicit CommandReader(Limits l = {}) : limits_(l) {}
  void set_limits(Limits l) { limits_ = l; }
  const Limits& limits() const { return limits_; }

  void feed(std::string_view bytes) { buf_.append(bytes); }
  Event next();
  // A line outside the command grammar (an AUTHENTICATE response, IDLE's DONE), without its
  // line end; nullopt until a whole line is buffered. A line over max_line gives "" + error.
  std::optional<std::string> line(bool* too_long = nullptr);
  bool buffered() const { return pos_ < buf_.size(); }
  // Gives back buffer memory when nothing is buffered (a connection going idle).
  void shrink();

 private:
  void compact();
  Limits limits_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::string cmd_;                // the command so far
  std::uint64_t literal_left_ = 0; // octets of a literal still to copy (or drop)
  bool dropping_ = false;          // the command is refused: read its rest and throw it away
  bool dropping_line_ = false;     // inside an over-long line: skip to its end
  Event dropped_;                  // the error to report once the dropped command ends
};

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A sequence set (RFC 9051 9: "1:3,7,9:*"); `star` stands for the largest number in use.
struct SeqRange {
  std::uint32_t lo = 0, hi = 0;  // 0 means "*"
};
struct SeqSet {
  std::vector<SeqRange> ranges;
  bool saved = false;  // "$": the result saved by SEARCH RETURN (SAVE) (RFC 5182)
  // Expands against the largest number (max) in use; "*" is max. Sorted, unique.
  std::vector<std::uint32_t> expand(std::uint32_t max) const;
  bool contains(std::uint32_t n, std::uint32_t max) const;
};

// A cursor over one command (what CommandReader returned). Every method throws ParseError on
// a syntax error with a message fit for "BAD".
class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  bool at_end() const;           // only the line end remains
  void end();                    // expects the line end
  void sp();                     // one space
  bool try_sp();
  bool peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool try_char(char c);
  void expect(char c);

  std::string tag();
  std::string atom();            // ATOM-CHAR+ (also accepts '\' flags and ']' where allowed)
  std::string astring();         // atom | quoted | literal
  std::string string();          // quoted | literal
  std::optional<std::string> nstring();  // NIL | string
  // A literal or literal8 ("~{n}"): binary set when it was literal8.
  std::string literal(bool* binary = nullptr);
  bool at_literal() const;
  std::uint32_t number();
  std::uint64_t number64();
  SeqSet sequence_set();
  // "(" flag *(SP flag) ")" or a single flag; flags as written ("\\Seen", "$Forwarded").
  std::vector<std::string> flag_list();
  // A fetch attribute atom with its [section]<partial>: "BODY.PEEK[HEADER.FIELDS (A B)]<0.10>".
  std::string fetch_att();
  // The next token ("word") in upper case, for keywords: FETCH, UID, RETURN ...
  std::string keyword();
  std::string_view rest() const { return s_.substr(pos_); }
  std::size_t pos() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& what) const;
  std::string_view s_;
  std::size_t pos_ = 0;
};

// ASCII letters in upper case (keywords, header names).
std::string upper_ascii(std::string s);

// Output helpers. A string goes out quoted when it can, else as a literal.
std::string quoted_or_literal(std::string_view s, bool utf8 = false);
std::string nstring(const std::optional<std::string>& s, bool utf8 = false);
std::string astring(std::string_view s, bool utf8 = false);

// Modified UTF-7 for mailbox names (RFC 3501 5.1.3) for clients without UTF8=ACCEPT.
std::string mutf7_encode(std::string_view utf8);
// nullopt when `s` is not valid modified UTF-7.
std::optional<std::string> mutf7_decode(std::string_view s);

// RFC 9051 date-time: "17-Jul-1996 02:44:25 -0700" <-> Unix milliseconds.
std::optional<std::int64_t> parse_date_time(std::string_view s);
std::string format_date_time(std::int64_t unix_ms);
// RFC 9051 date ("1-Feb-1994"): the day's start in UTC, in milliseconds.
std::optional<std::int64_t> parse_date(std::string_view s);

}  // namespace congvu::imap::proto
