#include "idp/store.hpp"

#include <algorithm>

#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "directory/directory.hpp"
#include "directory/jose.hpp"
#include "directory/tokens.hpp"
#include "idp/saml/saml.hpp"

namespace congvu::idp {

namespace {
constexpr std::uint8_t kSsoV1 = 1, kSsoV2 = 2, kCodeV1 = 1, kRefreshV1 = 1;

PersonId read_person(codec::Reader& r) {
  auto id = PersonId::from_bytes(r.str_view());
  if (!id) throw codec::DecodeError("bad person id");
  return *id;
}
bool read_flag(codec::Reader& r) {
  auto b = r.u8();
  if (b > 1) throw codec::DecodeError("flag is not 0 or 1");
  return b == 1;
}
void expect(codec::Reader& r, std::uint8_t v, const char* what) {
  if (r.u8() != v) throw codec::DecodeError(std::string("unknown ") + what + " record version");
}
}  // namespace

std::string encode(const SsoSession& s) {
  codec::Writer w;
  w.u8(kSsoV2).str(s.sid).str(s.person.bytes()).i64(s.created).i64(s.auth_time).i64(s.last_seen).i64(s.expires)
      .str(s.amr).strs(s.clients).u8(s.otp_pending ? 1 : 0);
  w.varint(s.saml.size());
  for (const auto& p : s.saml) w.str(p.sp).str(p.name_id).str(p.format).str(p.session_index);
  return w.take();
}

SsoSession decode_sso(std::string_view v) {
  codec::Reader r(v);
  auto version = r.u8();
  if (version != kSsoV1 && version != kSsoV2) throw codec::DecodeError("unknown SSO session record version");
  SsoSession s;
  s.sid = r.str();
  s.person = read_person(r);
  s.created = r.i64();
  s.auth_time = r.i64();
  s.last_seen = r.i64();
  s.expires = r.i64();
  s.amr = r.str();
  s.clients = r.strs();
  s.otp_pending = read_flag(r);
  if (version == kSsoV2) {
    auto n = r.varint();
    if (n > 1000) throw codec::DecodeError("too many SAML participants");
    s.saml.resize(static_cast<std::size_t>(n));
    for (auto& p : s.saml) {
      p.sp = r.str();
      p.name_id = r.str();
      p.format = r.str();
      p.session_index = r.str();
    }
  }
  r.expect_done();
  return s;
}

std::string encode(const CodeRecord& c) {
  codec::Writer w;
  w.u8(kCodeV1).str(c.client_id).str(c.redirect_uri).str(c.scope).str(c.nonce).str(c.code_challenge).str(c.sid)
      .str(c.amr).str(c.family).str(c.person.bytes()).i64(c.auth_time).i64(c.expires).u8(c.used ? 1 : 0);
  return w.take();
}

CodeRecord decode_code(std::string_view v) {
  codec::Reader r(v);
  expect(r, kCodeV1, "authorization code");
  CodeRecord c;
  c.client_id = r.str();
  c.redirect_uri = r.str();
  c.scope = r.str();
  c.nonce = r.str();
  c.code_challenge = r.str();
  c.sid = r.str();
  c.amr = r.str();
  c.family = r.str();
  c.person = read_person(r);
  c.auth_time = r.i64();
  c.expires = r.i64();
  c.used = read_flag(r);
  r.expect_done();
  return c;
}

std::string encode(const RefreshRecord& t) {
  codec::Writer w;
  w.u8(kRefreshV1).str(t.client_id).str(t.scope).str(t.sid).str(t.family).str(t.amr).str(t.person.bytes())
      .i64(t.auth_time).i64(t.expires).i64(t.family_expires).u8(t.used ? 1 : 0);
  return w.take();
}

RefreshRecord decode_refresh(std::string_view v) {
  codec::Reader r(v);
  expect(r, kRefreshV1, "refresh token");
  RefreshRecord t;
  t.client_id = r.str();
  t.scope = r.str();
  t.sid = r.str();
  t.family = r.str();
  t.amr = r.str();
  t.person = read_person(r);
  t.auth_time = r.i64();
  t.expires = r.i64();
  t.family_expires = r.i64();
  t.used = read_flag(r);
  r.expect_done();
  return t;
}

std::string new_secret() { return directory::jose::b64url(crypto::random_string(32)); }
std::string secret_key(std::string_view secret) { return crypto::sha256_raw(secret); }

std::optional<SsoSession> find_session(directory::Snapshot& s, std::string_view cookie, UnixMs now) {
  if (cookie.empty()) return std::nullopt;
  auto raw = s.get_raw(directory::schema::sso, secret_key(cookie));
  if (!raw) return std::nullopt;
  auto sess = decode_sso(*raw);
  if (now >= sess.expires) return std::nullopt;
  // A password change or reset, a suspension or retirement since the sign-in ends it.
  if (sess.auth_time < directory::grants_not_before(s, sess.person)) return std::nullopt;
  return sess;
}

namespace {
namespace schema = directory::schema;

std::string by_person(const PersonId& id) { return "p" + std::string(id.bytes()); }
std::string by_name(std::string_view sp, std::string_view name_id) {
  return "n" + crypto::sha256_raw(schema::join0(sp, name_id));
}
std::vector<std::string> index_keys(std::string_view key, const SsoSession& s) {
  std::vector<std::string> out{by_person(s.person) + std::string(key)};
  for (const auto& part : s.saml) out.push_back(by_name(part.sp, part.name_id) + std::string(key));
  return out;
}
void unindex(directory::Change& c, std::string_view key) {
  auto raw = c.get_raw(schema::sso, key);
  if (!raw) return;
  SsoSession old;
  try {
    old = decode_sso(*raw);
  } catch (const codec::DecodeError&) {
    return;  // an unreadable record has no index entries we could name; the sweep drops it
  }
  for (const auto& k : index_keys(key, old)) c.del(schema::sso_index, k);
}
// The sessions whose index entries start with `prefix` (a person or a NameID).
std::vector<std::pair<std::string, SsoSession>> indexed(directory::Snapshot& s, const std::string& prefix) {
  std::vector<std::string> keys;
  s.scan(schema::sso_index, prefix, [&](std::string_view k, std::string_view) {
    keys.emplace_back(k.substr(prefix.size()));
    return true;
  });
  std::vector<std::pair<std::string, SsoSession>> out;
  for (auto& k : keys) {
    auto raw = s.get_raw(schema::sso, k);
    if (!raw) continue;
    try {
      out.emplace_back(std::move(k), decode_sso(*raw));
    } catch (const codec::DecodeError&) {
    }
  }
  return out;
}
}  // namespace

void store_session(directory::Change& c, std::string_view key, const SsoSession& s) {
  unindex(c, key);
  c.put(schema::sso, key, encode(s));
  for (const auto& k : index_keys(key, s)) c.put(schema::sso_index, k, "");
}

void erase_session(directory::Change& c, std::string_view key) {
  unindex(c, key);
  c.del(schema::sso, key);
}

void put_session(directory::Change& c, std::string_view cookie, const SsoSession& s) {
  store_session(c, secret_key(cookie), s);
}

void drop_session(directory::Change& c, std::string_view cookie) { erase_session(c, secret_key(cookie)); }

std::vector<std::pair<std::string, SsoSession>> sessions_of(directory::Snapshot& s, const PersonId& person) {
  return indexed(s, by_person(person));
}

std::vector<std::pair<std::string, SsoSession>> sessions_named(directory::Snapshot& s, std::string_view sp,
                                                               std::string_view name_id) {
  auto found = indexed(s, by_name(sp, name_id));
  // The index is by hash: keep only sessions that really name the participant.
  std::erase_if(found, [&](const auto& e) {
    return std::none_of(e.second.saml.begin(), e.second.saml.end(),
                        [&](const SamlParticipant& p) { return p.sp == sp && p.name_id == name_id; });
  });
  return found;
}

void index_sessions(directory::Directory& dir, UnixMs now) {
  if (dir.read([](directory::Snapshot& s) { return s.get_raw(schema::meta, "sso_index").has_value(); })) return;
  auto r = dir.write(directory::Actor{"system:sweep"}, now, [&](directory::Change& c) -> Status {
    std::vector<std::pair<std::string, std::string>> all;
    c.scan(schema::sso, "", [&](std::string_view k, std::string_view v) {
      all.emplace_back(k, v);
      return true;
    });
    for (const auto& [k, v] : all) {
      try {
        for (const auto& ik : index_keys(k, decode_sso(v))) c.put(schema::sso_index, ik, "");
      } catch (const codec::DecodeError&) {
      }
    }
    c.put(schema::meta, "sso_index", "1");
    return ok_status();
  });
  (void)r;  // tried again at the next start
}

std::size_t sweep_expired(directory::Directory& dir, UnixMs now, std::size_t limit) {
  namespace schema = directory::schema;
  std::size_t total = 0;
  auto sweep = [&](auto&& fn) {
    auto r = dir.write(directory::Actor{"system:sweep"}, now, [&](directory::Change& c) -> Status {
      total += fn(c);
      return ok_status();
    });
    (void)r;  // a failed sweep is retried at the next one
  };
  // `erase` deletes one expired key (c.del, or erase_session for sso, which keeps its index).
  auto expired_in = [&](schema::Table table, auto&& over, auto&& erase) {
    return [&, table, over, erase](directory::Change& c) {
      std::vector<std::string> gone;
      c.scan(table, "", [&](std::string_view k, std::string_view v) {
        bool drop = true;
        try {
          drop = over(k, v);
        } catch (const codec::DecodeError&) {
        }
        if (drop) gone.emplace_back(k);
        return gone.size() < limit;
      });
      for (const auto& k : gone) erase(c, k);
      return gone.size();
    };
  };
  auto del = [](schema::Table table) { return [table](directory::Change& c, const std::string& k) { c.del(table, k); }; };
  index_sessions(dir, now);
  sweep(expired_in(schema::sso, [&](std::string_view, std::string_view v) { return decode_sso(v).expires <= now; },
                   [](directory::Change& c, const std::string& k) { erase_session(c, k); }));
  sweep(expired_in(schema::code, [&](std::string_view, std::string_view v) { return decode_code(v).expires <= now; },
                   del(schema::code)));
  sweep(expired_in(schema::refresh, [&](std::string_view, std::string_view v) {
    auto t = decode_refresh(v);
    return t.used ? t.family_expires <= now : t.expires <= now;
  }, del(schema::refresh)));
  // Revocations: 'j' jti, 'f' family, 's' session, each with an expiry; 'p' (a person's
  // grants-not-before instant) is kept.
  sweep(expired_in(schema::revoked, [&](std::string_view k, std::string_view v) {
    return !k.empty() && k[0] != 'p' && v.size() == 8 && static_cast<UnixMs>(codec::get_be64(v)) <= now;
  }, del(schema::revoked)));
  sweep([&](directory::Change& c) { return saml::sweep_saml(c, now, limit); });
  return total;
}

}  // namespace congvu::idp
