// PersonId: the immutable identity of a person for life (the OIDC `sub`, the SAML persistent
// NameID). A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits, so ids sort in
// creation order (within one process even in the same millisecond: a 12-bit counter follows
// the timestamp) and their 16 raw bytes make big-endian LMDB keys that range-scan in order.
// Thread-safe value type; make() reads the random generator of OpenSSL.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace congvu {

class PersonId {
 public:
  static constexpr std::size_t kSize = 16;
  PersonId() = default;

  // A new v7 id for the given Unix time in milliseconds.
  static PersonId make(std::int64_t unix_ms);
  // From the canonical 8-4-4-4-12 lowercase or uppercase hex form; nullopt otherwise.
  static std::optional<PersonId> parse(std::string_view text);
  // From the 16 raw bytes of a key; nullopt if the size is wrong.
  static std::optional<PersonId> from_bytes(std::string_view raw);

  std::string str() const;  // canonical lowercase form
  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(b_.data()), b_.size()};
  }
  bool is_nil() const;
  auto operator<=>(const PersonId&) const = default;

 private:
  std::array<unsigned char, kSize> b_{};
};

}  // namespace congvu
