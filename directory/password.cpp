#include "directory/password.hpp"

#include <argon2.h>
#include <crypt.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/crypto.hpp"
#include "common/text.hpp"

namespace congvu::directory {
namespace {

constexpr std::string_view kArgon = "{ARGON2}", kSsha = "{SSHA}", kSsha512 = "{SSHA512}",
                           kCrypt = "{CRYPT}";

bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// {SSHA} / {SSHA512}: base64(digest(password + salt) + salt).
bool verify_salted(std::string_view b64, std::string_view password, std::size_t dlen,
                   std::string (*digest)(std::string_view)) {
  auto raw = crypto::base64_decode(b64);
  if (!raw || raw->size() <= dlen) return false;
  std::string salted(password);
  salted.append(raw->substr(dlen));
  return crypto::equal_constant_time(digest(salted), std::string_view(*raw).substr(0, dlen));
}

// The cost parameters of a PHC string "$argon2id$v=19$m=M,t=T,p=P$salt$hash". Imported hashes
// are data from outside: an absurd cost would make every login allocate gigabytes, so the
// parameters are bounded (m <= 1 GiB, t <= 64, p <= 16).
bool argon2_params_sane(std::string_view enc) {
  auto m = enc.find("$m=");
  if (m == std::string_view::npos) return false;
  unsigned long vals[3] = {0, 0, 0};
  const char* keys[3] = {"m=", "t=", "p="};
  std::size_t pos = m + 1;
  for (int i = 0; i < 3; ++i) {
    if (enc.substr(pos, 2) != keys[i]) return false;
    pos += 2;
    std::size_t digits = 0;
    while (pos < enc.size() && enc[pos] >= '0' && enc[pos] <= '9' && digits < 10) {
      vals[i] = vals[i] * 10 + static_cast<unsigned long>(enc[pos++] - '0');
      ++digits;
    }
    if (digits == 0) return false;
    if (i < 2) {
      if (pos >= enc.size() || enc[pos] != ',') return false;
      ++pos;
    }
  }
  return vals[0] >= 8 && vals[0] <= (1UL << 20) && vals[1] >= 1 && vals[1] <= 64 && vals[2] >= 1 && vals[2] <= 16;
}

// Argon2's working memory (19 MiB with the default parameters) comes from a few buffers kept
// between checks. main() fixes glibc's mmap threshold (so that big blocks go back to the system),
// which makes every fresh 19 MiB block a new mapping whose 4 864 pages fault and are zeroed on
// first touch: measured here, a check took 70 ms that way against 42 ms with warm memory.
// At most one buffer per core is kept (38 MiB on this 2-core machine).
class Argon2Memory {
 public:
  static int allocate(std::uint8_t** out, std::size_t n) {
    auto& pool = get();
    {
      std::lock_guard lk(pool.mu_);
      for (auto it = pool.free_.begin(); it != pool.free_.end(); ++it)
        if (it->second == n) {
          *out = it->first;
          pool.free_.erase(it);
          return ARGON2_OK;
        }
    }
    void* p = nullptr;
    if (posix_memalign(&p, 64, n) != 0) return ARGON2_MEMORY_ALLOCATION_ERROR;
    *out = static_cast<std::uint8_t*>(p);
    return ARGON2_OK;
  }
  // Keeps the buffer; past one per core, the oldest kept one goes (so the sizes in use stay).
  static void release(std::uint8_t* p, std::size_t n) {
    auto& pool = get();
    std::uint8_t* evicted = nullptr;
    {
      std::lock_guard lk(pool.mu_);
      if (pool.free_.size() >= std::max(1u, std::thread::hardware_concurrency())) {
        evicted = pool.free_.front().first;
        pool.free_.erase(pool.free_.begin());
      }
      pool.free_.emplace_back(p, n);
    }
    std::free(evicted);
  }
  ~Argon2Memory() {
    for (auto& b : free_) std::free(b.first);
  }

 private:
  static Argon2Memory& get() {
    static Argon2Memory pool;
    return pool;
  }
  std::mutex mu_;
  std::vector<std::pair<std::uint8_t*, std::size_t>> free_;
};

std::optional<std::string> b64_unpadded(std::string_view s) {
  std::string padded(s);
  while (padded.size() % 4) padded += '=';
  return crypto::base64_decode(padded);
}

// Verifies a PHC string "$argon2id$v=19$m=M,t=T,p=P$salt$hash" (v= absent for version 1.0)
// through argon2_ctx, with the pooled memory above.
bool argon2_check(std::string_view enc, argon2_type type, std::string_view password) {
  std::vector<std::string_view> parts;
  std::size_t start = 1;
  while (start <= enc.size()) {
    auto end = enc.find('$', start);
    if (end == std::string_view::npos) end = enc.size();
    parts.push_back(enc.substr(start, end - start));
    start = end + 1;
  }
  if (parts.size() != 4 && parts.size() != 5) return false;
  std::uint32_t version = ARGON2_VERSION_10;
  if (parts.size() == 5) {
    if (parts[1] == "v=19") version = ARGON2_VERSION_13;
    else if (parts[1] != "v=16") return false;
  }
  std::string_view params = parts[parts.size() - 3];
  unsigned long m = 0, t = 0, p = 0;
  if (std::sscanf(std::string(params).c_str(), "m=%lu,t=%lu,p=%lu", &m, &t, &p) != 3) return false;
  auto salt = b64_unpadded(parts[parts.size() - 2]);
  auto hash = b64_unpadded(parts.back());
  if (!salt || !hash || hash->size() < 4 || hash->size() > 64 || salt->size() < 8) return false;
  std::string out(hash->size(), '\0');
  std::string pwd(password), salt_bytes(*salt);
  argon2_context ctx{};
  ctx.out = reinterpret_cast<std::uint8_t*>(out.data());
  ctx.outlen = static_cast<std::uint32_t>(out.size());
  ctx.pwd = reinterpret_cast<std::uint8_t*>(pwd.data());
  ctx.pwdlen = static_cast<std::uint32_t>(pwd.size());
  ctx.salt = reinterpret_cast<std::uint8_t*>(salt_bytes.data());
  ctx.saltlen = static_cast<std::uint32_t>(salt_bytes.size());
  ctx.t_cost = static_cast<std::uint32_t>(t);
  ctx.m_cost = static_cast<std::uint32_t>(m);
  ctx.lanes = ctx.threads = static_cast<std::uint32_t>(p);
  ctx.version = version;
  ctx.allocate_cbk = &Argon2Memory::allocate;
  ctx.free_cbk = &Argon2Memory::release;
  ctx.flags = ARGON2_DEFAULT_FLAGS;
  if (argon2_ctx(&ctx, type) != ARGON2_OK) return false;
  return crypto::equal_constant_time(out, *hash);
}

bool crypt_setting_known(std::string_view s) {
  return starts(s, "$6$") || starts(s, "$5$") || starts(s, "$y$") || starts(s, "$2b$") ||
         starts(s, "$2y$") || starts(s, "$1$") || starts(s, "$7$") || starts(s, "$gy$");
}

}  // namespace

std::string hash_password(std::string_view password, const Argon2Params& p) {
  std::string salt = crypto::random_string(16);
  std::size_t enclen = argon2_encodedlen(p.t_cost, p.m_cost_kib, p.parallelism,
                                         static_cast<uint32_t>(salt.size()), 32, Argon2_id);
  std::string enc(enclen, '\0');
  int rc = argon2id_hash_encoded(p.t_cost, p.m_cost_kib, p.parallelism, password.data(),
                                 password.size(), salt.data(), salt.size(), 32, enc.data(), enclen);
  if (rc != ARGON2_OK) throw std::runtime_error(std::string("argon2: ") + argon2_error_message(rc));
  enc.resize(std::strlen(enc.c_str()));
  return std::string(kArgon) + enc;
}

bool verify_password(std::string_view stored, std::string_view password) {
  if (starts(stored, kArgon)) {
    std::string enc(stored.substr(kArgon.size()));
    argon2_type type;
    if (starts(enc, "$argon2id$")) type = Argon2_id;
    else if (starts(enc, "$argon2i$")) type = Argon2_i;
    else if (starts(enc, "$argon2d$")) type = Argon2_d;
    else return false;
    if (!argon2_params_sane(enc)) return false;
    return argon2_check(enc, type, password);
  }
  if (starts(stored, kSsha512))
    return verify_salted(stored.substr(kSsha512.size()), password, 64, crypto::sha512_raw);
  if (starts(stored, kSsha))
    return verify_salted(stored.substr(kSsha.size()), password, 20, crypto::sha1_raw);
  if (starts(stored, kCrypt)) {
    std::string setting(stored.substr(kCrypt.size()));
    if (!crypt_setting_known(setting)) return false;
    std::string pw(password);
    if (pw.find('\0') != std::string::npos) return false;
    crypt_data data;
    std::memset(&data, 0, sizeof data);
    const char* out = crypt_r(pw.c_str(), setting.c_str(), &data);
    if (!out || out[0] == '*') return false;
    return crypto::equal_constant_time(out, setting);
  }
  return false;
}

bool needs_rehash(std::string_view stored, const Argon2Params& p) {
  std::string want = "{ARGON2}$argon2id$v=19$m=" + std::to_string(p.m_cost_kib) +
                     ",t=" + std::to_string(p.t_cost) + ",p=" + std::to_string(p.parallelism) + "$";
  return !starts(stored, want);
}

Status check_password_hash(std::string_view stored) {
  auto bad = [](std::string why) { return Status(make_error(Errc::invalid_argument, std::move(why))); };
  if (starts(stored, kArgon)) {
    auto enc = stored.substr(kArgon.size());
    if (!starts(enc, "$argon2id$") && !starts(enc, "$argon2i$"))
      return bad("an {ARGON2} value must hold a PHC string starting $argon2id$ or $argon2i$");
    if (std::count(enc.begin(), enc.end(), '$') != 5 || !argon2_params_sane(enc))
      return bad("malformed {ARGON2} PHC string (expected $argon2id$v=19$m=..,t=..,p=..$salt$hash "
                 "with m <= 1048576 KiB, t <= 64, p <= 16)");
    return ok_status();
  }
  for (auto [prefix, dlen] : {std::pair{kSsha512, std::size_t{64}}, std::pair{kSsha, std::size_t{20}}}) {
    if (starts(stored, prefix)) {
      auto raw = crypto::base64_decode(stored.substr(prefix.size()));
      if (!raw) return bad(std::string(prefix) + " value is not valid base64");
      if (raw->size() <= dlen) return bad(std::string(prefix) + " value has no salt after the digest");
      return ok_status();
    }
  }
  if (starts(stored, kCrypt)) {
    if (!crypt_setting_known(stored.substr(kCrypt.size())))
      return bad("{CRYPT} value must be a modular crypt hash ($6$, $5$, $y$, $2b$, $1$)");
    return ok_status();
  }
  return bad("unknown password scheme (use {ARGON2}, {SSHA}, {SSHA512} or {CRYPT})");
}

std::string scram_sha256_verifier(std::string_view password, int iterations) {
  // RFC 5802: SaltedPassword = Hi(password, salt, i); StoredKey = H(HMAC(SP, "Client Key"));
  // ServerKey = HMAC(SP, "Server Key"). SASLprep is the identity for the ASCII and NFC
  // passwords that check_new_password() admits.
  std::string salt = crypto::random_string(16);
  std::string sp = crypto::pbkdf2_sha256(password, salt, iterations, 32);
  std::string stored_key = crypto::sha256_raw(crypto::hmac_sha256(sp, "Client Key"));
  std::string server_key = crypto::hmac_sha256(sp, "Server Key");
  return "SCRAM-SHA-256$" + std::to_string(iterations) + ":" + crypto::base64_encode(salt) + "$" +
         crypto::base64_encode(stored_key) + ":" + crypto::base64_encode(server_key);
}

Status check_new_password(std::string_view pw) {
  if (!text::valid_utf8(pw)) return make_error(Errc::invalid_argument, "the password is not valid UTF-8");
  if (pw.size() < 10) return make_error(Errc::invalid_argument, "the password must have at least 10 characters");
  if (pw.size() > 1024) return make_error(Errc::invalid_argument, "the password is longer than 1024 bytes");
  if (pw.find('\0') != std::string_view::npos || pw.find('\n') != std::string_view::npos)
    return make_error(Errc::invalid_argument, "the password contains a NUL or line break");
  bool all_same = std::all_of(pw.begin(), pw.end(), [&](char c) { return c == pw[0]; });
  if (all_same) return make_error(Errc::invalid_argument, "the password repeats one character");
  return ok_status();
}

}  // namespace congvu::directory
