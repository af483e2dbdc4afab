// The address rule, name splitting, record encodings and password schemes.
#include <gtest/gtest.h>

#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "directory/address.hpp"
#include "directory/model.hpp"
#include "directory/password.hpp"

namespace congvu::directory {
namespace {

std::string base_of(std::string_view full) { return address_base(split_full_name(full)); }

TEST(AddressRule, GivenNamePlusInitials) {
  EXPECT_EQ(base_of("Nguyễn Văn An"), "annv");
  EXPECT_EQ(base_of("Nguyễn Thị Thu Hà"), "hantt");
  EXPECT_EQ(base_of("Đặng Văn Đức"), "ducdv");
  EXPECT_EQ(base_of("Nguyễn Hữu Ngọc Phúc"), "phucnhn");
  EXPECT_EQ(base_of("Lê An"), "anl");
  EXPECT_EQ(base_of("Mai"), "mai");
  EXPECT_EQ(base_of("123"), "") << "no letters, no address";
}

TEST(AddressRule, SplitsFamilyFirstGivenLast) {
  auto n = split_full_name("  Nguyễn  Hữu Ngọc   Phúc ");
  EXPECT_EQ(n.family, "Nguyễn");
  EXPECT_EQ(n.middle, "Hữu Ngọc");
  EXPECT_EQ(n.given, "Phúc");
  auto two = split_full_name("Lê An");
  EXPECT_EQ(two.family, "Lê");
  EXPECT_EQ(two.middle, "");
  EXPECT_EQ(two.given, "An");
}

TEST(AddressRule, SuffixesAreNumbersAfterTheFirst) {
  EXPECT_EQ(address_candidate("annv", 1), "annv");
  EXPECT_EQ(address_candidate("annv", 2), "annv2");
  EXPECT_EQ(address_candidate("annv", 13), "annv13");
}

TEST(AddressRule, LocalPartsAndSlugs) {
  EXPECT_TRUE(valid_local_part("annv2"));
  EXPECT_FALSE(valid_local_part("2annv"));
  EXPECT_FALSE(valid_local_part("an..nv"));
  EXPECT_FALSE(valid_local_part("Annv"));
  EXPECT_TRUE(valid_slug("sonv-tccb"));
  EXPECT_FALSE(valid_slug("-x"));
  EXPECT_FALSE(valid_slug("a b"));
}

TEST(Records, PersonRoundTripAndCorruption) {
  Person p;
  p.id = PersonId::make(1);
  p.staff_no = "CB1";
  p.full_name = "Nguyễn Văn An";
  p.aliases = {"an.nguyen@tinhmau.test"};
  p.status = PersonStatus::suspended;
  p.unit = "000.00.01.H99";
  p.assignments = 3;
  p.created = 5;
  std::string v = encode(p);
  Person q = decode_person(p.id.bytes(), v);
  EXPECT_EQ(q.full_name, p.full_name);
  EXPECT_EQ(q.aliases, p.aliases);
  EXPECT_EQ(q.status, PersonStatus::suspended);
  EXPECT_EQ(q.assignments, 3u);
  EXPECT_THROW(decode_person("short", v), codec::DecodeError);
  EXPECT_THROW(decode_person(p.id.bytes(), v.substr(0, v.size() - 1)), codec::DecodeError);
  EXPECT_THROW(decode_person(p.id.bytes(), v + "x"), codec::DecodeError);
  std::string bad_version = v;
  bad_version[0] = 9;
  EXPECT_THROW(decode_person(p.id.bytes(), bad_version), codec::DecodeError);
}

TEST(Passwords, Argon2idRoundTripAndRehash) {
  Argon2Params cheap{1, 64, 1};
  std::string h = hash_password("đúng mật khẩu", cheap);
  EXPECT_EQ(h.rfind("{ARGON2}$argon2id$v=19$m=64,t=1,p=1$", 0), 0u) << h;
  EXPECT_TRUE(verify_password(h, "đúng mật khẩu"));
  EXPECT_FALSE(verify_password(h, "sai mật khẩu"));
  EXPECT_NE(hash_password("x", cheap), hash_password("x", cheap)) << "salted";
  EXPECT_FALSE(needs_rehash(h, cheap));
  EXPECT_TRUE(needs_rehash(h, Argon2Params{2, 64, 1}));
  EXPECT_TRUE(check_password_hash(h));
  // A hostile import must not make logins allocate gigabytes.
  std::string huge = h;
  huge.replace(huge.find("m=64"), 4, "m=4194304");
  EXPECT_FALSE(check_password_hash(huge));
  EXPECT_FALSE(verify_password(huge, "đúng mật khẩu"));
  EXPECT_FALSE(check_password_hash("{ARGON2}$argon2id$v=19$m=64,t=1$c2FsdA$aGFzaA"));
}

TEST(Passwords, ImportedArgon2FromOtherSystems) {
  // Made by libargon2's argon2id_hash_encoded (as slapd's argon2 module stores them), and an
  // argon2i one: verified with Congvu's own parsing and pooled memory.
  const std::string id = "{ARGON2}$argon2id$v=19$m=19456,t=2,p=1$Y29uZ3Z1LWJlbmNoLXNhbHQ$6LHclNLs14JfT22CTbtqezuQGEWgpWiummjb26qHtdI";
  EXPECT_TRUE(verify_password(id, "x"));
  EXPECT_FALSE(verify_password(id, "y"));
  std::string tampered = id;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'd' ? 'e' : 'd';
  EXPECT_FALSE(verify_password(tampered, "x"));
  EXPECT_FALSE(verify_password("{ARGON2}$argon2id$v=19$m=19456,t=2,p=1$Y29uZ3Z1$", "x"));
  EXPECT_FALSE(verify_password("{ARGON2}$argon2id$v=19$m=19456,t=2,p=1$!!!$6LHclNLs14JfT22CTbtqezuQGEWgpWiummjb26qHtdI", "x"));
  const std::string i = "{ARGON2}$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$m+x4L7hN2ZRjBBfcMx29Bo5JdJxIE52dqtM6I/wGjDY";
  EXPECT_TRUE(verify_password(i, "password"));
  EXPECT_FALSE(verify_password(i, "Password"));
}

TEST(Passwords, ImportedSshaAndSsha512) {
  // As slappasswd writes them: base64(digest(password + salt) + salt).
  std::string salt = "s4lt";
  std::string ssha = "{SSHA}" + crypto::base64_encode(crypto::sha1_raw("secret" + salt) + salt);
  std::string ssha512 = "{SSHA512}" + crypto::base64_encode(crypto::sha512_raw("secret" + salt) + salt);
  EXPECT_TRUE(verify_password(ssha, "secret"));
  EXPECT_FALSE(verify_password(ssha, "Secret"));
  EXPECT_TRUE(verify_password(ssha512, "secret"));
  EXPECT_FALSE(verify_password(ssha512, "secret2"));
  EXPECT_TRUE(needs_rehash(ssha, Argon2Params{}));
  EXPECT_TRUE(check_password_hash(ssha));
  EXPECT_FALSE(check_password_hash("{SSHA}not*base64"));
  EXPECT_FALSE(check_password_hash("{SSHA}" + crypto::base64_encode(std::string(20, 'x'))));  // no salt
}

TEST(Passwords, ImportedCrypt) {
  // openssl passwd -6 -salt abcdefgh secret
  std::string sha512crypt =
      "{CRYPT}$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.";
  EXPECT_TRUE(check_password_hash(sha512crypt));
  EXPECT_TRUE(verify_password(sha512crypt, "secret"));
  EXPECT_FALSE(verify_password(sha512crypt, "secreT"));
  EXPECT_FALSE(verify_password("{CRYPT}abc", "abc")) << "DES crypt is refused";
  EXPECT_FALSE(check_password_hash("{MD5}xyz"));
  EXPECT_FALSE(verify_password("{PLAIN}secret", "secret"));
}

TEST(Passwords, ScramVerifierMatchesRfc5802) {
  std::string v = scram_sha256_verifier("pencil");
  // SCRAM-SHA-256$4096:salt$StoredKey:ServerKey
  ASSERT_EQ(v.rfind("SCRAM-SHA-256$4096:", 0), 0u);
  auto d1 = v.find('$', 14), colon = v.find(':', d1);
  std::string salt = *crypto::base64_decode(v.substr(19, d1 - 19));
  std::string stored = *crypto::base64_decode(v.substr(d1 + 1, colon - d1 - 1));
  std::string server = *crypto::base64_decode(v.substr(colon + 1));
  std::string sp = crypto::pbkdf2_sha256("pencil", salt, 4096, 32);
  EXPECT_EQ(stored, crypto::sha256_raw(crypto::hmac_sha256(sp, "Client Key")));
  EXPECT_EQ(server, crypto::hmac_sha256(sp, "Server Key"));
}

TEST(Passwords, PolicyForNewPasswords) {
  EXPECT_FALSE(check_new_password("short"));
  EXPECT_FALSE(check_new_password("aaaaaaaaaaaa"));
  EXPECT_FALSE(check_new_password("bad\xc3utf8xxxxx"));
  EXPECT_TRUE(check_new_password("mật-khẩu-dài-2026"));
}

}  // namespace
}  // namespace congvu::directory
