// The binary record encoding used for every value stored in LMDB: a version byte chosen by the
// record type, then fields in a fixed order: unsigned LEB128 varints (minimal length only, so
// that every record has exactly one encoding), and strings as a varint
// length followed by the bytes. Readers check every bound and throw DecodeError on truncated or
// malformed input (a corrupt record must never read out of bounds). Keys are not encoded here:
// see the key helpers in each store, which use fixed-width big-endian integers so that keys sort.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace congvu::codec {

// The value of a hexadecimal digit (either case), or -1.
inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Writer {
 public:
  Writer& u8(std::uint8_t v) { out_ += static_cast<char>(v); return *this; }
  Writer& varint(std::uint64_t v);
  Writer& i64(std::int64_t v) { return varint(static_cast<std::uint64_t>(v)); }
  Writer& str(std::string_view s) { varint(s.size()); out_.append(s); return *this; }
  Writer& strs(const std::vector<std::string>& v);
  Writer& raw(std::string_view s) { out_.append(s); return *this; }
  const std::string& data() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::uint8_t u8();
  std::uint64_t varint();
  std::int64_t i64() { return static_cast<std::int64_t>(varint()); }
  std::string_view str_view();
  std::string str() { return std::string(str_view()); }
  std::vector<std::string> strs();
  std::string_view raw(std::size_t n);
  bool done() const { return pos_ == in_.size(); }
  std::size_t pos() const { return pos_; }
  // Throws unless every byte was consumed: trailing garbage means a corrupt record.
  void expect_done() const;

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

// Fixed-width big-endian integers for keys.
void put_be32(std::string& out, std::uint32_t v);
void put_be64(std::string& out, std::uint64_t v);
std::uint32_t get_be32(std::string_view in);  // throws DecodeError if in.size() < 4
std::uint64_t get_be64(std::string_view in);  // throws DecodeError if in.size() < 8

}  // namespace congvu::codec
