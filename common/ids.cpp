#include "common/ids.hpp"

#include "common/codec.hpp"
#include "common/crypto.hpp"

#include <mutex>

namespace congvu {

PersonId PersonId::make(std::int64_t unix_ms) {
  // RFC 9562 section 6.2, method 1: the 12 bits after the version are a counter, so that ids
  // made by one process in the same millisecond (an import makes thousands) still sort in
  // creation order. The counter starts at a random value below 2048 each millisecond; on
  // overflow the timestamp advances by one.
  static std::mutex mu;
  static std::uint64_t last_ms = 0;
  static std::uint32_t counter = 0;
  PersonId id;
  crypto::random_bytes(id.b_.data(), kSize);
  auto ms = static_cast<std::uint64_t>(unix_ms);
  std::uint32_t seq;
  {
    std::lock_guard lk(mu);
    if (ms > last_ms) {
      last_ms = ms;
      counter = (static_cast<std::uint32_t>(id.b_[6]) << 8 | id.b_[7]) & 0x7ff;
    } else if (++counter > 0xfff) {
      ++last_ms;
      counter = 0;
    }
    ms = last_ms;
    seq = counter;
  }
  for (int i = 0; i < 6; ++i) id.b_[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  id.b_[6] = static_cast<unsigned char>(0x70 | (seq >> 8));  // version 7 + counter high bits
  id.b_[7] = static_cast<unsigned char>(seq & 0xff);
  id.b_[8] = static_cast<unsigned char>(0x80 | (id.b_[8] & 0x3f));  // variant 10
  return id;
}

std::optional<PersonId> PersonId::from_bytes(std::string_view raw) {
  if (raw.size() != kSize) return std::nullopt;
  PersonId id;
  for (std::size_t i = 0; i < kSize; ++i) id.b_[i] = static_cast<unsigned char>(raw[i]);
  return id;
}

std::optional<PersonId> PersonId::parse(std::string_view t) {
  if (t.size() != 36) return std::nullopt;
  PersonId id;
  std::size_t k = 0;
  for (std::size_t i = 0; i < t.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (t[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    int hi = codec::hex_digit(t[i]), lo = codec::hex_digit(t[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id.b_[k++] = static_cast<unsigned char>(hi << 4 | lo);
    i += 2;
  }
  return id;
}

std::string PersonId::str() const {
  std::string h = crypto::hex(bytes());
  return h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' + h.substr(16, 4) +
         '-' + h.substr(20);
}

bool PersonId::is_nil() const {
  for (auto c : b_)
    if (c) return false;
  return true;
}

}  // namespace congvu
