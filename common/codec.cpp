#include "common/codec.hpp"

namespace congvu::codec {

Writer& Writer::varint(std::uint64_t v) {
  while (v >= 0x80) {
    out_ += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out_ += static_cast<char>(v);
  return *this;
}

Writer& Writer::strs(const std::vector<std::string>& v) {
  varint(v.size());
  for (const auto& s : v) str(s);
  return *this;
}

std::uint8_t Reader::u8() {
  if (pos_ >= in_.size()) throw DecodeError("record truncated");
  return static_cast<std::uint8_t>(in_[pos_++]);
}

std::uint64_t Reader::varint() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    std::uint8_t b = u8();
    if (shift == 63 && b > 1) throw DecodeError("varint overflows 64 bits");
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      // Canonical form only: a final zero byte after others is a longer spelling of a smaller
      // number, and would let two byte strings decode to the same record.
      if (b == 0 && shift > 0) throw DecodeError("non-minimal varint");
      return v;
    }
  }
  throw DecodeError("varint too long");
}

std::string_view Reader::raw(std::size_t n) {
  if (n > in_.size() - pos_) throw DecodeError("record truncated");
  auto s = in_.substr(pos_, n);
  pos_ += n;
  return s;
}

std::string_view Reader::str_view() {
  std::uint64_t n = varint();
  if (n > in_.size() - pos_) throw DecodeError("string length past end of record");
  return raw(static_cast<std::size_t>(n));
}

std::vector<std::string> Reader::strs() {
  std::uint64_t n = varint();
  if (n > in_.size() - pos_) throw DecodeError("list length past end of record");
  std::vector<std::string> v;
  v.reserve(static_cast<std::size_t>(n));
  for (std::uint64_t i = 0; i < n; ++i) v.push_back(str());
  return v;
}

void Reader::expect_done() const {
  if (!done()) throw DecodeError("trailing bytes after record");
}

void put_be32(std::string& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

void put_be64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint32_t get_be32(std::string_view in) {
  if (in.size() < 4) throw DecodeError("key too short");
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(in[i]);
  return v;
}

std::uint64_t get_be64(std::string_view in) {
  if (in.size() < 8) throw DecodeError("key too short");
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(in[i]);
  return v;
}

}  // namespace congvu::codec
