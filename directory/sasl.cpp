#include "directory/sasl.hpp"

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

#include "common/text.hpp"
#include "directory/directory.hpp"
#include "directory/throttle.hpp"

namespace congvu::directory {

namespace {

// What a Cyrus connection answers for (the callbacks only see the conn).
struct ConnState {
  Directory* dir = nullptr;
  UnixMs now = 0;
  LoginThrottle* throttle = nullptr;
  std::string service, peer;
  LoginThrottle::Checked::Kind checked = LoginThrottle::Checked::ok;  // the last checkpass
  bool checkpass_ran = false;
  UnixMs wait = 0;
};

std::mutex g_conns_mu;
std::map<const sasl_conn_t*, ConnState*> g_conns;

ConnState* owner_of(const sasl_conn_t* conn) {
  std::lock_guard lk(g_conns_mu);
  auto it = g_conns.find(conn);
  return it == g_conns.end() ? nullptr : it->second;
}

std::optional<Person> active_person(Directory& dir, std::string_view who) {
  auto p = dir.read([&](Snapshot& s) { return s.resolve(who); });
  if (!p || p->status != PersonStatus::active) return std::nullopt;
  return p;
}

// The auxprop plugin: serves "*authPassword" (the SCRAM verifier) for the authentication id.
int auxprop_lookup(void*, sasl_server_params_t* sparams, unsigned flags, const char* user, unsigned ulen) {
  if (flags & SASL_AUXPROP_AUTHZID) return SASL_OK;  // we serve authentication ids only
  ConnState* st = owner_of(sparams->utils->conn);
  if (!st) return SASL_NOUSER;
  Directory* dir = st->dir;
  auto p = active_person(*dir, std::string_view(user, ulen));
  if (!p) return SASL_NOUSER;
  // A person who must use a second factor has no SCRAM login with the account password.
  auto cred = dir->read([&](Snapshot& s) {
    return s.second_factor_required(*p) ? std::optional<Credential>() : s.credential(p->id);
  });
  if (!cred || cred->scram_sha256.empty()) return SASL_NOUSER;  // legacy hash: PLAIN first
  const propval* list = sparams->utils->prop_get(sparams->propctx);
  for (const propval* cur = list; cur && cur->name; ++cur) {
    if (cur->name[0] != '*' || strcasecmp(cur->name + 1, "authPassword") != 0) continue;
    if (cur->values) {
      if (!(flags & SASL_AUXPROP_OVERRIDE)) continue;
      sparams->utils->prop_erase(sparams->propctx, cur->name);
    }
    sparams->utils->prop_set(sparams->propctx, cur->name, cred->scram_sha256.c_str(),
                             static_cast<int>(cred->scram_sha256.size()));
  }
  return SASL_OK;
}

sasl_auxprop_plug_t g_plugin = {
    0, 0, nullptr, nullptr, &auxprop_lookup, const_cast<char*>("congvu"), nullptr};

int auxprop_init(const sasl_utils_t*, int max_version, int* out_version, sasl_auxprop_plug_t** plug, const char*) {
  if (max_version < SASL_AUXPROP_PLUG_VERSION) return SASL_BADVERS;
  *out_version = SASL_AUXPROP_PLUG_VERSION;
  *plug = &g_plugin;
  return SASL_OK;
}

int getopt_cb(void*, const char*, const char* option, const char** result, unsigned* len) {
  static const std::map<std::string, std::string> kOptions = {
      {"mech_list", "PLAIN LOGIN SCRAM-SHA-256 EXTERNAL"},
      {"auxprop_plugin", "congvu"},
      {"pwcheck_method", "auxprop"},
      {"scram_iteration_counter", "4096"},
      {"log_level", "0"},
  };
  auto it = kOptions.find(option);
  if (it == kOptions.end()) return SASL_FAIL;
  *result = it->second.c_str();
  if (len) *len = static_cast<unsigned>(it->second.size());
  return SASL_OK;
}

int confpath_cb(void*, const char** path) {
  *path = "/nonexistent/congvu-reads-no-sasl-config";
  return SASL_OK;
}

int log_cb(void*, int, const char*) { return SASL_OK; }

int checkpass_cb(sasl_conn_t* conn, void*, const char* user, const char* pass, unsigned passlen, propctx*) {
  ConnState* st = owner_of(conn);
  if (!st) return SASL_FAIL;
  std::string_view password(pass, passlen);
  st->checkpass_ran = true;
  if (st->throttle) {
    auto c = st->throttle->password(*st->dir, st->service, user, password, st->peer, st->now);
    st->checked = c.kind;
    st->wait = c.wait;
    return c ? SASL_OK : SASL_BADAUTH;
  }
  auto r = st->dir->authenticate(user, password, st->now);
  st->checked = r.ok() && r->status == PersonStatus::active ? LoginThrottle::Checked::ok : LoginThrottle::Checked::wrong;
  return st->checked == LoginThrottle::Checked::ok ? SASL_OK : SASL_BADAUTH;
}

void* mutex_alloc() { return new std::mutex; }
int mutex_lock(void* m) {
  static_cast<std::mutex*>(m)->lock();
  return SASL_OK;
}
int mutex_unlock(void* m) {
  static_cast<std::mutex*>(m)->unlock();
  return SASL_OK;
}
void mutex_free(void* m) { delete static_cast<std::mutex*>(m); }

using Cb = int (*)();
// The C API stores every callback as int(*)(); void(*)() is the sanctioned intermediate.
template <class F>
Cb callback(F* f) {
  return reinterpret_cast<Cb>(reinterpret_cast<void (*)()>(f));
}
sasl_callback_t g_global_callbacks[] = {
    {SASL_CB_GETOPT, callback(&getopt_cb), nullptr},
    {SASL_CB_GETCONFPATH, callback(&confpath_cb), nullptr},
    {SASL_CB_LOG, callback(&log_cb), nullptr},
    {SASL_CB_LIST_END, nullptr, nullptr},
};

sasl_callback_t g_conn_callbacks[] = {
    {SASL_CB_GETOPT, callback(&getopt_cb), nullptr},
    {SASL_CB_SERVER_USERDB_CHECKPASS, callback(&checkpass_cb), nullptr},
    {SASL_CB_LOG, callback(&log_cb), nullptr},
    {SASL_CB_LIST_END, nullptr, nullptr},
};

}  // namespace

struct SaslConn::Impl {
  sasl_conn_t* conn = nullptr;
  ConnState state;  // the directory, the time of the step, the throttle and the peer
  std::string mechanism;
  std::string scram_login;  // SCRAM: the login named in client-first, once seen
  std::string bearer;          // "OAUTHBEARER" or "XOAUTH2" while one of them runs
  std::string bearer_failure;  // the error sent as a challenge; the next step fails
};

namespace {
// A saslname (RFC 5801 / RFC 5802): "=2C" is ',' and "=3D" is '='; nullopt for another '='.
std::optional<std::string> decode_saslname(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '=') {
      out += raw[i];
    } else if (raw.substr(i, 3) == "=2C") {
      out += ',';
      i += 2;
    } else if (raw.substr(i, 3) == "=3D") {
      out += '=';
      i += 2;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace

std::optional<BearerMessage> parse_bearer_message(std::string_view mechanism, std::string_view m) {
  BearerMessage out;
  std::string_view pairs;
  if (mechanism == "OAUTHBEARER") {
    // gs2-header = gs2-cbind-flag "," [ "a=" saslname ] "," ; channel binding is not offered.
    if (m.size() < 3 || (m[0] != 'n' && m[0] != 'y') || m[1] != ',') return std::nullopt;
    auto comma = m.find(',', 2);
    if (comma == std::string_view::npos) return std::nullopt;
    std::string_view authzid = m.substr(2, comma - 2);
    if (!authzid.empty()) {
      if (authzid.substr(0, 2) != "a=") return std::nullopt;
      auto user = decode_saslname(authzid.substr(2));
      if (!user) return std::nullopt;
      out.user = std::move(*user);
    }
    pairs = m.substr(comma + 1);
    if (pairs.empty() || pairs.front() != '\x01') return std::nullopt;
    pairs.remove_prefix(1);
  } else if (mechanism == "XOAUTH2") {
    pairs = m;
  } else {
    return std::nullopt;
  }
  // kvpair *( kvpair ) kvsep: each pair ends with ^A, and an empty pair ends the message.
  if (pairs.size() < 2 || pairs.substr(pairs.size() - 2) != "\x01\x01") return std::nullopt;
  pairs.remove_suffix(1);
  while (!pairs.empty()) {
    auto end = pairs.find('\x01');
    std::string_view kv = pairs.substr(0, end);
    pairs.remove_prefix(end + 1);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (key == "auth") {
      if (value.size() < 8 || !(value.substr(0, 7) == "Bearer " || value.substr(0, 7) == "bearer ")) return std::nullopt;
      out.token = std::string(value.substr(7));
    } else if (key == "user" && mechanism == "XOAUTH2") {
      out.user = std::string(value);
    }
  }
  if (out.token.empty()) return std::nullopt;
  return out;
}

std::string scram_user(std::string_view m) {
  // gs2-header = gs2-cbind-flag "," [ authzid ] "," ; then "n=" saslname "," ...
  auto c1 = m.find(',');
  if (c1 == std::string_view::npos) return "";
  auto c2 = m.find(',', c1 + 1);
  if (c2 == std::string_view::npos || m.substr(c2 + 1, 2) != "n=") return "";
  std::string_view raw = m.substr(c2 + 3);
  auto user = decode_saslname(raw.substr(0, raw.find(',')));
  return user && user->size() <= 256 ? *user : std::string();
}

SaslConn::SaslConn(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SaslConn::~SaslConn() {
  if (!impl_ || !impl_->conn) return;
  {
    std::lock_guard lk(g_conns_mu);
    g_conns.erase(impl_->conn);
  }
  sasl_dispose(&impl_->conn);
}

SaslResult SaslConn::finish(int rc, const char* out, unsigned outlen) {
  SaslResult r;
  if (rc == SASL_CONTINUE) {
    r.kind = SaslResult::challenge;
    r.data.assign(out ? out : "", out ? outlen : 0);
    return r;
  }
  ConnState& st = impl_->state;
  LoginThrottle* throttle = st.throttle;
  const bool scram = impl_->mechanism == "SCRAM-SHA-256";
  if (rc != SASL_OK) {
    r.kind = SaslResult::failure;
    const char* detail = sasl_errdetail(impl_->conn);
    r.reason = detail ? detail : sasl_errstring(rc, nullptr, nullptr);
    if (st.checkpass_ran) {
      // PLAIN or LOGIN: the checkpass callback went through the throttle.
      r.temporary = st.checked == LoginThrottle::Checked::throttled || st.checked == LoginThrottle::Checked::busy;
      r.wait = st.wait;
      r.counted = st.checked == LoginThrottle::Checked::wrong;
    } else if (scram && !impl_->scram_login.empty()) {
      r.counted = true;
      if (throttle) throttle->failure(impl_->scram_login, st.peer, impl_->state.now, st.service, false, "scram-proof");
    }
    return r;
  }
  if (scram && throttle && !impl_->scram_login.empty()) throttle->success(impl_->scram_login, st.peer, impl_->state.now);
  const void* name = nullptr;
  if (sasl_getprop(impl_->conn, SASL_USERNAME, &name) != SASL_OK || !name) {
    r.kind = SaslResult::failure;
    r.reason = "no user name after authentication";
    return r;
  }
  auto p = active_person(*impl_->state.dir, static_cast<const char*>(name));
  if (!p) {
    r.kind = SaslResult::failure;
    r.reason = "the person is not active";
    return r;
  }
  r.kind = SaslResult::success;
  r.user = p->login;
  r.data.assign(out ? out : "", out ? outlen : 0);
  return r;
}

SaslResult SaslConn::bearer_step(const std::string& message) {
  SaslResult r;
  if (!impl_->bearer_failure.empty()) {
    // The client acknowledged the error challenge (RFC 7628 3.2.3): the exchange fails.
    r.kind = SaslResult::failure;
    r.reason = impl_->bearer_failure;
    return r;
  }
  auto msg = parse_bearer_message(impl_->bearer, message);
  std::string why;
  std::optional<Person> person;
  if (!msg) {
    why = "malformed " + impl_->bearer + " message";
  } else {
    auto t = impl_->state.dir->verify_token(msg->token, kAudMail, "mail", impl_->state.now);
    if (!t) why = t.error().message;
    else if (!t->person) why = "the token has no person";
    else {
      person = impl_->state.dir->read([&](Snapshot& s) { return s.person(*t->person); });
      // The user named in the message, when there is one, must be the token's person.
      if (person && !msg->user.empty()) {
        auto named = impl_->state.dir->read([&](Snapshot& s) { return s.resolve(msg->user); });
        if (!named || named->id != person->id) {
          why = "the token belongs to someone else than " + msg->user;
          person.reset();
        }
      }
    }
  }
  if (person) {
    r.kind = SaslResult::success;
    r.user = person->login;
    return r;
  }
  impl_->bearer_failure = why.empty() ? "invalid token" : why;
  r.kind = SaslResult::challenge;
  r.data = impl_->bearer == "XOAUTH2"
               ? std::string(R"({"status":"401","schemes":"bearer","scope":"mail"})")
               : R"({"status":"invalid_token","scope":"mail","openid-configuration":")" +
                     impl_->state.dir->token_issuer() + R"(/.well-known/openid-configuration"})";
  return r;
}

SaslResult SaslConn::start(const std::string& mechanism, const std::optional<std::string>& initial, UnixMs now) {
  impl_->state.now = now;
  if ((mechanism == "OAUTHBEARER" || mechanism == "XOAUTH2") && impl_->state.dir->tokens_enabled()) {
    impl_->bearer = mechanism;
    if (!initial) return SaslResult{SaslResult::challenge, "", "", ""};
    return bearer_step(*initial);
  }
  impl_->mechanism = mechanism;
  impl_->state.checkpass_ran = false;
  if (mechanism == "SCRAM-SHA-256" && initial) {
    if (auto refused = scram_first(*initial)) return *refused;
  }
  const char* out = nullptr;
  unsigned outlen = 0;
  int rc = sasl_server_start(impl_->conn, mechanism.c_str(), initial ? initial->data() : nullptr,
                             initial ? static_cast<unsigned>(initial->size()) : 0, &out, &outlen);
  return finish(rc, out, outlen);
}

SaslResult SaslConn::step(const std::string& response, UnixMs now) {
  impl_->state.now = now;
  if (!impl_->bearer.empty()) return bearer_step(response);
  impl_->state.checkpass_ran = false;
  if (impl_->mechanism == "SCRAM-SHA-256" && impl_->scram_login.empty()) {
    if (auto refused = scram_first(response)) return *refused;
  }
  const char* out = nullptr;
  unsigned outlen = 0;
  int rc = sasl_server_step(impl_->conn, response.data(), static_cast<unsigned>(response.size()), &out, &outlen);
  return finish(rc, out, outlen);
}

std::optional<SaslResult> SaslConn::scram_first(const std::string& client_first) {
  std::string user = scram_user(client_first);
  if (user.empty()) return std::nullopt;  // Cyrus refuses it
  impl_->scram_login = impl_->state.dir->read([&](Snapshot& s) {
    auto p = s.resolve(user);
    return p ? p->login : text::ascii_lower(user);
  });
  ConnState& st = impl_->state;
  if (!st.throttle) return std::nullopt;
  if (UnixMs wait = st.throttle->wait_ms(impl_->scram_login, st.peer, impl_->state.now, st.service); wait > 0) {
    SaslResult r;
    r.kind = SaslResult::failure;
    r.reason = "throttled";
    r.temporary = true;
    r.wait = wait;
    return r;
  }
  return std::nullopt;
}

void SaslConn::set_external(const std::string& authid, unsigned ssf) {
  sasl_ssf_t s = ssf;
  sasl_setprop(impl_->conn, SASL_SSF_EXTERNAL, &s);
  sasl_setprop(impl_->conn, SASL_AUTH_EXTERNAL, authid.c_str());
}

SaslEngine::SaslEngine() {
  sasl_set_mutex(&mutex_alloc, &mutex_lock, &mutex_unlock, &mutex_free);
  if (sasl_auxprop_add_plugin("congvu", &auxprop_init) != SASL_OK)
    throw std::runtime_error("Cyrus SASL: cannot register the congvu auxprop plugin");
  int rc = sasl_server_init(g_global_callbacks, "congvu");
  if (rc != SASL_OK)
    throw std::runtime_error(std::string("Cyrus SASL: cannot initialise: ") + sasl_errstring(rc, nullptr, nullptr));
}

std::vector<std::string> SaslEngine::mechanisms(const Directory& dir) {
  std::vector<std::string> m = {"PLAIN", "LOGIN", "SCRAM-SHA-256"};
  if (dir.tokens_enabled()) {
    m.emplace_back("OAUTHBEARER");
    m.emplace_back("XOAUTH2");
  }
  return m;
}

SaslEngine& SaslEngine::get() {
  static SaslEngine engine;
  return engine;
}

std::unique_ptr<SaslConn> SaslEngine::connect(Directory& dir, const std::string& service, const std::string& hostname,
                                              LoginThrottle* throttle, const std::string& peer) {
  auto impl = std::make_unique<SaslConn::Impl>();
  impl->state.dir = &dir;
  impl->state.throttle = throttle;
  impl->state.service = service;
  impl->state.peer = peer;
  int rc = sasl_server_new(service.c_str(), hostname.c_str(), nullptr, nullptr, nullptr, g_conn_callbacks, 0, &impl->conn);
  if (rc != SASL_OK) throw std::runtime_error(std::string("Cyrus SASL: cannot start a connection: ") + sasl_errstring(rc, nullptr, nullptr));
  sasl_security_properties_t props{};
  props.max_ssf = 0;  // TLS protects the session; no SASL security layer
  props.maxbufsize = 0;
  props.security_flags = 0;  // plaintext mechanisms are offered only over TLS by the protocol layer
  sasl_setprop(impl->conn, SASL_SEC_PROPS, &props);
  {
    std::lock_guard lk(g_conns_mu);
    g_conns[impl->conn] = &impl->state;
  }
  return std::unique_ptr<SaslConn>(new SaslConn(std::move(impl)));
}

}  // namespace congvu::directory
