// SMTP wire parsing without I/O (RFC 5321, with RFC 1870 SIZE, 3030 BDAT, 4954 AUTH, 6531
// SMTPUTF8): a CommandReader turns bytes into commands, and a DataReader turns the bytes after
// DATA into a message. Both take bytes in any split (feed) and return NeedMore until they can
// answer. No sockets, clocks, Asio, LMDB or OpenSSL: the smtp_proto target links none.
//
// SECURITY: end of data is recognised only as CRLF "." CRLF. A bare LF or bare CR anywhere in
// a command or in message data is an error that ends the session (SMTP smuggling:
// "\n.\r\n", "\r.\r" and "\n.\n" never end a message early and are never passed on). Lines
// are limited (commands 512 octets as RFC 5321 4.5.3.1.4, AUTH lines 12 288 as RFC 4954 4),
// NUL bytes are refused. Paths are parsed, not trusted: source routes, quoted local parts and
// address literals are reported so that the relay policy above can refuse them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace congvu::smtp::proto {

enum class Verb { helo, ehlo, mail, rcpt, data, bdat, rset, noop, quit, vrfy, expn, help, starttls, auth };

struct Path {
  bool null = false;            // "<>", the null reverse-path
  std::string local;            // as written, quotes removed from a quoted-string
  std::string domain;           // lowercase ASCII, or UTF-8; for a literal, the text in brackets
  bool quoted_local = false;    // "a@b"@example
  bool source_route = false;    // <@relay:user@example> (RFC 5321 C: accepted, ignored)
  bool address_literal = false; // user@[192.0.2.1]
  bool utf8 = false;            // non-ASCII in local part or domain (needs SMTPUTF8)
  std::string address() const { return null ? std::string() : local + "@" + domain; }
};

struct Command {
  Verb verb;
  std::string arg;                            // HELO/EHLO domain; AUTH mechanism; VRFY text
  std::string initial_response;               // AUTH initial response ("=" for empty)
  std::optional<Path> path;                   // MAIL FROM / RCPT TO
  std::map<std::string, std::string> params;  // ESMTP parameters, keys uppercase
  std::uint64_t chunk_size = 0;               // BDAT
  bool last_chunk = false;                    // BDAT ... LAST
};

// A reply the session should send for input it cannot accept, and whether it must then close.
struct Error {
  int code;              // 500, 501, 521, 552 ...
  std::string enhanced;  // "5.5.2"
  std::string text;
  bool close = false;
};

struct NeedMore {};

using Event = std::variant<NeedMore, Command, Error>;

class CommandReader {
 public:
  static constexpr std::size_t kMaxLine = 512;
  static constexpr std::size_t kMaxAuthLine = 12288;

  void feed(std::string_view bytes) { buf_.append(bytes); }
  // The next command, an error for the next bad line, or NeedMore. Call until NeedMore.
  Event next();
  // The next line as it is, for AUTH continuation lines (RFC 4954 4: up to 12 288 octets).
  std::variant<NeedMore, std::string, Error> next_line();
  // Bytes fed but not consumed (after STARTTLS they must be discarded: RFC 3207 5).
  std::size_t buffered() const { return buf_.size() - pos_; }
  // Hands unconsumed bytes to the DataReader after DATA (pipelined clients may send the
  // message right behind the command) and forgets them.
  std::string take_buffer();

 private:
  std::variant<NeedMore, std::string_view, Error> read_line(bool raw);
  std::string buf_;
  std::size_t pos_ = 0;
  bool discarding_ = false;  // skipping the rest of an overlong line
};

// The message after DATA/354: dot-unstuffed, CRLF line ends kept, up to max_size octets.
struct Message {
  std::string data;
};

class DataReader {
 public:
  explicit DataReader(std::uint64_t max_size) : max_(max_size) { out_.reserve(8192); }
  void feed(std::string_view bytes) { buf_.append(bytes); }
  // NeedMore, the Message once CRLF.CRLF arrives, or an Error: 552 when the message exceeded
  // max_size (reported only at the end of data, so the session stays in step), 521 with
  // close for a bare CR/LF or NUL.
  std::variant<NeedMore, Message, Error> next();
  // Bytes after the end of data (pipelined next commands).
  std::string take_rest();

 private:
  std::string buf_;
  std::size_t pos_ = 0;
  std::string out_;
  std::uint64_t max_;
  bool too_big_ = false;
  bool at_line_start_ = true;  // the DATA command's CRLF precedes the first line
  bool after_cr_ = false;
  bool dot_only_ = false;      // the current line so far is a single "."

  void emit(char c);
  void emit_run(std::string_view run);
};

// Parsers for the pieces, exposed for tests and for the fuzz target.
std::optional<Path> parse_path(std::string_view s, bool allow_null);
bool valid_domain(std::string_view d);
// Well-formed UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool valid_utf8(std::string_view s);

}  // namespace congvu::smtp::proto
