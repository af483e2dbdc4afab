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

// AES-256-GCM with a random 96-bit nonce: seal() returns nonce || ciphertext || tag; open()
// returns nullopt when the key is wrong or the data was altered. `key` must be 32 bytes;
// `context` is authenticated with it (what the secret is for), so a sealed value cannot be
// moved to another purpose.
std::string seal(std::string_view key, std::string_view plaintext, std::string_view context);
std::optional<std::string> open_sealed(std::string_view key, std::string_view sealed, std::string_view context);
std::string hmac_sha1(std::string_view key, std::string_view data);

// Compares in time that depends only on the lengths.
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace congvu::crypto
