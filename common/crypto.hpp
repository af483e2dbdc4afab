// Small crypto and encoding primitives over OpenSSL: SHA digests, HMAC, PBKDF2, secure random
// bytes, base64 and hex, constant-time comparison. Thread-safe (OpenSSL 3 needs no locking).
// Failures of OpenSSL itself (out of memory) throw std::runtime_error.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace congvu::crypto {

using Sha256 = std::array<unsigned char, 32>;

Sha256 sha256(std::string_view data);
std::string sha1_raw(std::string_view data);
std::string sha512_raw(std::string_view data);
std::string sha256_raw(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string pbkdf2_sha256(std::string_view password, std::string_view salt, int iterations,
                          std::size_t length);

void random_bytes(void* out, std::size_t n);
std::string random_string(std::size_t n);

std::string base64_encode(std::string_view raw);
// Strict decoding (RFC 4648 alphabet, padding required): nullopt on any invalid character.
std::optional<std::string> base64_decode(std::string_view text);
std::string hex(std::string_view raw);
std::string hex(const Sha256& d);

// Compares in time that depends only on the lengths.
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace congvu::crypto
