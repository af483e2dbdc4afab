#include "directory/keys.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "common/files.hpp"
#include "directory/directory.hpp"

namespace congvu::directory {

namespace {
constexpr std::uint8_t kKeyV1 = 1;
constexpr jose::Alg kAlgs[] = {jose::Alg::RS256, jose::Alg::ES256, jose::Alg::EdDSA};
}  // namespace

std::string encode(const KeyRecord& k) {
  codec::Writer w;
  w.u8(kKeyV1).str(k.kid).u8(static_cast<std::uint8_t>(k.alg)).str(k.pem).i64(k.created).i64(k.retired);
  return w.take();
}

KeyRecord decode_key(std::string_view v) {
  codec::Reader r(v);
  if (r.u8() != kKeyV1) throw codec::DecodeError("unknown signing key record version");
  KeyRecord k;
  k.kid = r.str();
  auto alg = r.u8();
  if (alg > 2) throw codec::DecodeError("bad signing key algorithm");
  k.alg = static_cast<jose::Alg>(alg);
  k.pem = r.str();
  k.created = r.i64();
  k.retired = r.i64();
  r.expect_done();
  return k;
}

std::vector<KeyRecord> KeyRing::records(Snapshot& s) {
  std::vector<KeyRecord> out;
  s.scan(schema::signing_key, "", [&](std::string_view, std::string_view v) {
    out.push_back(decode_key(v));
    return true;
  });
  // Newest first.
  std::sort(out.begin(), out.end(), [](const KeyRecord& a, const KeyRecord& b) { return a.created > b.created; });
  return out;
}

std::vector<KeyRecord> KeyRing::rotate(Change& c) {
  for (auto k : records(c)) {
    if (k.retired) continue;
    k.retired = c.now();
    c.put(schema::signing_key, k.kid, encode(k));
  }
  std::string day = vn_date(c.now());
  day.erase(std::remove(day.begin(), day.end(), '-'), day.end());
  std::vector<KeyRecord> made;
  for (auto alg : kAlgs) {
    std::string lower = jose::alg_name(alg);
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    KeyRecord r;
    r.kid = lower + "-" + day + "-" + crypto::hex(crypto::random_string(4));
    r.alg = alg;
    r.pem = jose::SigningKey::generate(alg, r.kid).to_pem(passphrase_);
    r.created = c.now();
    c.put(schema::signing_key, r.kid, encode(r));
    made.push_back(r);
  }
  c.audit("keys.rotate", "signing_key", "", "{\"kids\":\"" + made[0].kid + " " + made[1].kid + " " + made[2].kid + "\"}");
  return made;
}

bool KeyRing::ensure(Change& c) {
  for (const auto& k : records(c))
    if (!k.retired) return false;
  rotate(c);
  return true;
}

KeyRing::KeyPtr KeyRing::load(const KeyRecord& r) {
  {
    std::lock_guard lk(mu_);
    if (auto it = cache_.find(r.kid); it != cache_.end()) return it->second;
  }
  auto key = std::make_shared<const jose::SigningKey>(jose::SigningKey::from_pem(r.alg, r.kid, r.pem, passphrase_));
  std::lock_guard lk(mu_);
  cache_.emplace(r.kid, key);
  return key;
}

KeyRing::KeyPtr KeyRing::active(Snapshot& s, jose::Alg alg) {
  for (const auto& r : records(s))
    if (!r.retired && r.alg == alg) return load(r);
  return nullptr;
}

KeyRing::KeyPtr KeyRing::verifier(Snapshot& s, const std::string& kid, UnixMs now) {
  if (kid.empty()) return nullptr;
  auto raw = s.get_raw(schema::signing_key, kid);
  if (!raw) return nullptr;
  auto r = decode_key(*raw);
  if (r.retired && now > r.retired + kRetiredKeepMs) return nullptr;
  return load(r);
}

std::vector<KeyRing::KeyPtr> KeyRing::published(Snapshot& s, UnixMs now) {
  std::vector<KeyPtr> active_keys, retired_keys;
  for (const auto& r : records(s)) {
    if (!r.retired) active_keys.push_back(load(r));
    else if (now <= r.retired + kRetiredKeepMs) retired_keys.push_back(load(r));
  }
  active_keys.insert(active_keys.end(), retired_keys.begin(), retired_keys.end());
  return active_keys;
}

std::string load_or_make_key_passphrase(const std::string& data_dir) {
  std::string dir = data_dir + "/secrets";
  std::string path = dir + "/signing-keys.pass";
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::string pass((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!pass.empty() && (pass.back() == '\n' || pass.back() == '\r')) pass.pop_back();
    if (pass.size() < 16) throw std::runtime_error(path + ": the passphrase is shorter than 16 characters; "
                                                   "remove the file only if no signing key exists yet");
    return pass;
  }
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0700);
  std::string pass = crypto::hex(crypto::random_string(32));
  write_file_atomic(path, pass + "\n", 0600);
  return pass;
}

}  // namespace congvu::directory
