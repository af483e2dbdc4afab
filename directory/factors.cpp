#include "directory/factors.hpp"

#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "common/json.hpp"
#include "directory/directory.hpp"

namespace congvu::directory {

namespace {
constexpr std::uint8_t kFactorV1 = 1, kAppV1 = 1;
constexpr std::int64_t kStepMs = 30000;

std::string random_word(std::size_t n, std::string_view alphabet) {
  std::string raw = crypto::random_string(n), out;
  // 256 is a multiple of neither alphabet size; reject the bytes past the last whole multiple.
  std::size_t limit = 256 - 256 % alphabet.size();
  while (out.size() < n) {
    for (unsigned char c : raw)
      if (c < limit && out.size() < n) out += alphabet[c % alphabet.size()];
    raw = crypto::random_string(n);
  }
  return out;
}
}  // namespace

std::string encode(const SecondFactor& f) {
  codec::Writer w;
  w.u8(kFactorV1).str(f.totp_sealed).u8(f.confirmed ? 1 : 0).i64(f.last_step).strs(f.recovery).i64(f.created);
  return w.take();
}

SecondFactor decode_factor(std::string_view v) {
  codec::Reader r(v);
  if (r.u8() != kFactorV1) throw codec::DecodeError("unknown second factor record version");
  SecondFactor f;
  f.totp_sealed = r.str();
  auto c = r.u8();
  if (c > 1) throw codec::DecodeError("second factor confirmed flag is not 0 or 1");
  f.confirmed = c == 1;
  f.last_step = r.i64();
  f.recovery = r.strs();
  f.created = r.i64();
  r.expect_done();
  return f;
}

std::optional<SecondFactor> find_factor(Snapshot& s, const PersonId& id) {
  auto raw = s.get_raw(schema::factor, id.bytes());
  if (!raw) return std::nullopt;
  return decode_factor(*raw);
}

void put_factor(Change& c, const PersonId& id, const SecondFactor& f) { c.put(schema::factor, id.bytes(), encode(f)); }
void remove_factor(Change& c, const PersonId& id) { c.del(schema::factor, id.bytes()); }

std::string base32(std::string_view raw) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : raw) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::string totp_code(std::string_view secret, std::int64_t step) {
  std::string counter;
  codec::put_be64(counter, static_cast<std::uint64_t>(step));
  std::string h = crypto::hmac_sha1(secret, counter);
  // RFC 4226 5.3: dynamic truncation.
  int offset = h[19] & 0x0f;
  std::uint32_t bin = (static_cast<std::uint32_t>(static_cast<unsigned char>(h[offset]) & 0x7f) << 24) |
                      (static_cast<std::uint32_t>(static_cast<unsigned char>(h[offset + 1])) << 16) |
                      (static_cast<std::uint32_t>(static_cast<unsigned char>(h[offset + 2])) << 8) |
                      static_cast<std::uint32_t>(static_cast<unsigned char>(h[offset + 3]));
  std::string code = std::to_string(bin % 1000000);
  return std::string(6 - code.size(), '0') + code;
}

std::optional<std::int64_t> totp_match(std::string_view secret, std::string_view code, UnixMs now, std::int64_t last_step) {
  std::string digits;
  for (char c : code)
    if (c != ' ') digits += c;
  if (digits.size() != 6 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::int64_t step = now / kStepMs;
  std::optional<std::int64_t> found;
  for (std::int64_t s = step - 1; s <= step + 1; ++s)  // every candidate compared: constant work
    if (crypto::equal_constant_time(totp_code(secret, s), digits) && s > last_step) found = s;
  return found;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret) {
  auto enc = [](std::string_view s) {
    std::string out;
    static const char* kHex = "0123456789ABCDEF";
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '@') out += static_cast<char>(c);
      else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  };
  return "otpauth://totp/" + enc(issuer) + ":" + enc(account) + "?secret=" + base32(secret) + "&issuer=" + enc(issuer) +
         "&algorithm=SHA1&digits=6&period=30";
}

std::vector<std::string> make_recovery_codes(std::vector<std::string>& digests) {
  std::vector<std::string> codes;
  digests.clear();
  for (int i = 0; i < 10; ++i) {
    std::string w = random_word(8, "abcdefghjkmnpqrstuvwxyz23456789");
    std::string code = w.substr(0, 4) + "-" + w.substr(4);
    digests.push_back(crypto::sha256_raw(code));
    codes.push_back(code);
  }
  return codes;
}

bool use_recovery_code(SecondFactor& f, std::string_view code) {
  std::string normal;
  for (char c : code)
    if (c != ' ') normal += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string d = crypto::sha256_raw(normal);
  for (auto it = f.recovery.begin(); it != f.recovery.end(); ++it) {
    if (crypto::equal_constant_time(*it, d)) {
      f.recovery.erase(it);
      return true;
    }
  }
  return false;
}

std::string encode(const AppPassword& a) {
  codec::Writer w;
  w.u8(kAppV1).str(a.id).str(a.name).str(a.digest).i64(a.created);
  return w.take();
}

AppPassword decode_app_password(std::string_view v) {
  codec::Reader r(v);
  if (r.u8() != kAppV1) throw codec::DecodeError("unknown app password record version");
  AppPassword a;
  a.id = r.str();
  a.name = r.str();
  a.digest = r.str();
  a.created = r.i64();
  r.expect_done();
  return a;
}

std::vector<AppPassword> app_passwords(Snapshot& s, const PersonId& id) {
  std::vector<AppPassword> out;
  s.scan(schema::app_password, id.bytes(), [&](std::string_view, std::string_view v) {
    out.push_back(decode_app_password(v));
    return true;
  });
  return out;
}

Result<std::string> add_app_password(Change& c, const PersonId& id, std::string name, AppPassword* out) {
  if (name.empty() || name.size() > 100) return make_error(Errc::invalid_argument, "an app password needs a name of 1-100 characters");
  if (app_passwords(c, id).size() >= 20)
    return make_error(Errc::conflict, "20 app passwords exist already; revoke one first");
  std::string w = random_word(16, "abcdefghijklmnopqrstuvwxyz");
  std::string password = w.substr(0, 4) + "-" + w.substr(4, 4) + "-" + w.substr(8, 4) + "-" + w.substr(12);
  AppPassword a;
  a.id = crypto::hex(crypto::random_string(4));
  a.name = std::move(name);
  a.digest = crypto::sha256_raw(password);
  a.created = c.now();
  c.put(schema::app_password, std::string(id.bytes()) + a.id, encode(a));
  c.audit("person.app_password_add", id.str(), "", json_object({{"id", a.id}, {"name", a.name}}));
  if (out) *out = a;
  return password;
}

Status remove_app_password(Change& c, const PersonId& id, std::string_view app_id) {
  std::string key = std::string(id.bytes()) + std::string(app_id);
  if (!c.get_raw(schema::app_password, key)) return make_error(Errc::not_found, "no app password " + std::string(app_id));
  c.del(schema::app_password, key);
  c.audit("person.app_password_remove", id.str(), "", json_object({{"id", std::string(app_id)}}));
  return ok_status();
}

bool app_password_matches(Snapshot& s, const PersonId& id, std::string_view password) {
  std::string d = crypto::sha256_raw(password);
  bool found = false;
  for (const auto& a : app_passwords(s, id)) found = crypto::equal_constant_time(a.digest, d) || found;
  return found;
}

Result<std::string> issue_reset_code(Change& c, const PersonId& id, UnixMs ttl) {
  auto p = c.person(id);
  if (!p) return make_error(Errc::not_found, "no such person");
  if (p->status != PersonStatus::active) return make_error(Errc::conflict, p->staff_no + " is not active");
  std::string w = random_word(12, "abcdefghjkmnpqrstuvwxyz23456789");
  std::string code = w.substr(0, 4) + "-" + w.substr(4, 4) + "-" + w.substr(8);
  std::string v;
  codec::put_be64(v, static_cast<std::uint64_t>(c.now() + ttl));
  v += crypto::sha256_raw(code);
  c.put(schema::reset, id.bytes(), v);
  c.audit("person.reset_code", id.str(), "", json_object({{"valid_until", rfc3339(c.now() + ttl)}}));
  return code;
}

bool consume_reset_code(Change& c, const PersonId& id, std::string_view code) {
  auto v = c.get_raw(schema::reset, id.bytes());
  if (!v || v->size() != 40) return false;
  std::string normal;
  for (char ch : code)
    if (ch != ' ') normal += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  bool fresh = static_cast<UnixMs>(codec::get_be64(*v)) > c.now();
  bool match = crypto::equal_constant_time(v->substr(8), crypto::sha256_raw(normal));
  if (!fresh || !match) return false;
  c.del(schema::reset, id.bytes());
  return true;
}

}  // namespace congvu::directory
