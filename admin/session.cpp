#include "admin/session.hpp"

#include <vector>

#include "common/codec.hpp"
#include "directory/directory.hpp"
#include "idp/store.hpp"

namespace congvu::admin {

namespace {
constexpr std::uint8_t kSessionV1 = 1;
}  // namespace

std::string encode(const ConsoleSession& s) {
  codec::Writer w;
  w.u8(kSessionV1).str(s.person.bytes()).str(s.sso_key).str(s.sid).str(s.amr).i64(s.created).i64(s.last_seen)
      .i64(s.expires);
  return w.take();
}

ConsoleSession decode_session(std::string_view v) {
  codec::Reader r(v);
  if (r.u8() != kSessionV1) throw codec::DecodeError("unknown admin session record version");
  ConsoleSession s;
  auto id = PersonId::from_bytes(r.str_view());
  if (!id) throw codec::DecodeError("admin session: bad person id");
  s.person = *id;
  s.sso_key = r.str();
  s.sid = r.str();
  s.amr = r.str();
  s.created = r.i64();
  s.last_seen = r.i64();
  s.expires = r.i64();
  r.expect_done();
  return s;
}

std::string session_key(std::string_view secret) { return idp::secret_key(secret); }

std::optional<ConsoleSession> find_console_session(directory::Snapshot& s, std::string_view secret, UnixMs now,
                                                   UnixMs idle_ms) {
  if (secret.empty()) return std::nullopt;
  auto raw = s.get_raw(directory::schema::admin_session, session_key(secret));
  if (!raw) return std::nullopt;
  auto sess = decode_session(*raw);
  if (now >= sess.expires || now - sess.last_seen >= idle_ms) return std::nullopt;
  auto sso = s.get_raw(directory::schema::sso, sess.sso_key);
  if (!sso) return std::nullopt;
  auto open = idp::decode_sso(*sso);
  if (open.sid != sess.sid || open.person != sess.person || now >= open.expires) return std::nullopt;
  return sess;
}

void sweep(directory::Change& c, UnixMs now, UnixMs idle_ms) {
  std::vector<std::string> stale;
  c.scan(directory::schema::admin_session, "", [&](std::string_view k, std::string_view v) {
    bool gone = true;
    try {
      auto sess = decode_session(v);
      gone = now >= sess.expires || now - sess.last_seen >= idle_ms;
    } catch (const codec::DecodeError&) {
    }
    if (gone) stale.emplace_back(k);
    return true;
  });
  for (const auto& k : stale) c.del(directory::schema::admin_session, k);
}

}  // namespace congvu::admin
