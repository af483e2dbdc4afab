#include "directory/ldap/session.hpp"

#include <ldap.h>

#include "common/text.hpp"
#include "directory/directory.hpp"
#include "directory/ldap/accounts.hpp"
#include "directory/sasl.hpp"
#include "directory/throttle.hpp"

namespace congvu::directory::ldap {
namespace {

int response_tag(const Operation& op) {
  if (std::holds_alternative<BindRequest>(op)) return LDAP_RES_BIND;
  if (std::holds_alternative<SearchRequest>(op)) return LDAP_RES_SEARCH_RESULT;
  if (std::holds_alternative<CompareRequest>(op)) return LDAP_RES_COMPARE;
  if (std::holds_alternative<ExtendedRequest>(op)) return LDAP_RES_EXTENDED;
  if (auto* w = std::get_if<WriteRequest>(&op)) return w->response_tag;
  return 0;  // abandon, unbind: no response
}

}  // namespace

Session::Session(SessionConfig cfg, Context ctx, std::string peer)
    : cfg_(std::move(cfg)), ctx_(std::move(ctx)), peer_(std::move(peer)), tls_(cfg_.implicit_tls) {}
Session::~Session() = default;

void Session::feed(std::string_view bytes) { in_.append(bytes); }

bool Session::blocking_request_buffered() const {
  std::string_view rest = in_;
  while (!rest.empty()) {
    Frame f = frame(rest, cfg_.max_pdu);
    if (f.kind != Frame::ready) return f.kind != Frame::need_more;
    // SEQUENCE header, then the INTEGER message ID, then the operation's tag.
    std::string_view pdu = rest.substr(0, f.size);
    std::size_t pos = 1 + ((static_cast<unsigned char>(pdu[1]) & 0x80) ? 1 + (pdu[1] & 0x7f) : 1);
    if (pos + 2 > pdu.size()) return true;
    pos += 2 + static_cast<unsigned char>(pdu[pos + 1]);
    if (pos >= pdu.size() || static_cast<unsigned char>(pdu[pos]) == LDAP_REQ_BIND) return true;
    rest.remove_prefix(f.size);
  }
  return false;
}

void Session::tls_started(std::string client_login) {
  tls_ = true;
  client_login_ = std::move(client_login);
  in_.clear();  // RFC 4511 4.14.1: nothing may follow StartTLS before its response
}

Step Session::next(UnixMs now) {
  Step st;
  while (!closed_) {
    std::size_t limit = who_.kind == Identity::anonymous ? cfg_.max_pdu_anonymous : cfg_.max_pdu;
    Frame f = frame(in_, limit);
    if (f.kind == Frame::need_more) break;
    if (f.kind != Frame::ready) {
      st.out += encode_notice_of_disconnection(Code::protocol_error, f.kind == Frame::too_large
                                                                         ? "request larger than the limit"
                                                                         : "not an LDAP message");
      ctx_.log("ldap: " + peer_ + ": disconnected: " + (f.kind == Frame::too_large ? "PDU too large" : "not BER"));
      closed_ = true;
      break;
    }
    auto m = decode(std::string_view(in_).substr(0, f.size));
    in_.erase(0, f.size);
    if (!m) {
      st.out += encode_notice_of_disconnection(Code::protocol_error, "malformed request");
      ctx_.log("ldap: " + peer_ + ": disconnected: malformed request");
      closed_ = true;
      break;
    }
    handle(*m, st, now);
    if (st.action != Step::need_input) return st;
  }
  if (closed_) st.action = Step::close;
  return st;
}

void Session::handle(const Message& m, Step& st, UnixMs now) {
  int tag = response_tag(m.op);
  if (std::holds_alternative<UnbindRequest>(m.op)) {
    closed_ = true;
    st.action = Step::close;
    return;
  }
  if (std::holds_alternative<AbandonRequest>(m.op)) return;  // searches finish before the next request is read
  // Controls: the search ones are known; any other marked critical refuses the operation.
  for (const auto& c : m.controls) {
    bool known = std::holds_alternative<SearchRequest>(m.op) && (c.oid == kPagedResults || c.oid == kSortRequest);
    if (c.critical && !known) {
      st.out += encode_result(m.id, tag, Code::unavailable_critical_extension, "", "unsupported critical control " + c.oid);
      return;
    }
  }
  if (!m.limit.empty()) {
    st.out += encode_result(m.id, tag, Code::admin_limit_exceeded, "", m.limit);
    return;
  }
  if (auto* b = std::get_if<BindRequest>(&m.op)) return bind(m, *b, st, now);
  if (auto* e = std::get_if<ExtendedRequest>(&m.op)) return extended(m, *e, st);
  if (std::holds_alternative<WriteRequest>(m.op)) {
    st.out += encode_result(m.id, tag, Code::unwilling_to_perform, "",
                            "the directory is read-only over LDAP; changes go through SCIM or the congvu command");
    return;
  }
  ctx_.dit.refresh();
  if (auto* s = std::get_if<SearchRequest>(&m.op)) return search(m, *s, st);
  if (auto* c = std::get_if<CompareRequest>(&m.op)) {
    std::string matched, diagnostic;
    Code code = ctx_.dit.compare(*c, who_, matched, diagnostic);
    st.out += encode_result(m.id, tag, code, matched, diagnostic);
  }
}

void Session::search(const Message& m, const SearchRequest& s, Step& st) {
  auto outcome = ctx_.dit.search(m.id, s, m.controls, who_, paging_, [&](std::string&& entry) { st.out += entry; });
  st.out += encode_result(m.id, LDAP_RES_SEARCH_RESULT, outcome.code, outcome.matched, outcome.diagnostic, outcome.controls);
}

bool Session::person_identity(const std::string& login) {
  who_ = Identity{};
  who_.kind = Identity::person;
  who_.name = login;
  who_.dn = ctx_.dit.person_dn(login);
  who_.address_book = true;
  return true;
}

void Session::bind(const Message& m, const BindRequest& b, Step& st, UnixMs now) {
  auto reply = [&](Code code, std::string_view diagnostic, const std::optional<std::string>& creds = std::nullopt) {
    st.out += encode_bind_result(m.id, code, diagnostic, creds);
  };
  // RFC 4513 4: a bind resets the authorisation state, also when it fails.
  if (!(b.sasl && sasl_ && b.mechanism == sasl_mech_)) {
    who_ = Identity{};
    sasl_.reset();
  }
  if (b.version != 3) return reply(Code::protocol_error, "only LDAPv3 is supported");
  if (b.sasl) {
    if (b.mechanism != "PLAIN" && b.mechanism != "EXTERNAL") {
      sasl_.reset();
      return reply(Code::auth_method_not_supported, "SASL mechanisms: PLAIN and EXTERNAL (over TLS)");
    }
    if (!tls_) return reply(Code::confidentiality_required, "SASL binds need TLS: use StartTLS or ldaps://");
    if (b.mechanism == "EXTERNAL" && client_login_.empty())
      return reply(Code::inappropriate_authentication, "EXTERNAL needs a verified client certificate naming a person");
    if (!sasl_) {
      // PLAIN's password check goes through the shared throttle inside the SASL glue.
      sasl_ = SaslEngine::get().connect(ctx_.dir, "ldap", cfg_.hostname, &ctx_.throttle, peer_);
      sasl_mech_ = b.mechanism;
      if (b.mechanism == "EXTERNAL") sasl_->set_external(client_login_, 256);
    }
    SaslResult r = sasl_->start(b.mechanism, b.credentials, now);
    if (r.kind == SaslResult::challenge) return reply(Code::sasl_bind_in_progress, "", r.data);
    sasl_.reset();
    if (r.kind == SaslResult::failure) {
      if (r.temporary && r.wait == 0) return reply(Code::busy, "too many password checks at once; try again in a moment");
      if (r.temporary) return reply(Code::invalid_credentials, "too many failed attempts; try again in " + wait_seconds(r.wait) + " s");
      return failed_bind(st, reply);
    }
    failures_ = 0;
    auto person = ctx_.dir.read([&](Snapshot& s) { return s.resolve(r.user); });
    if (!person || person->status != PersonStatus::active) return reply(Code::invalid_credentials, "invalid credentials");
    person_identity(person->login);
    return reply(Code::success, "");
  }

  // Simple binds.
  // The anonymous bind (RFC 4513 5.1.1) always succeeds, as clients send it before reading the
  // root DSE; it opens the address book only when [ldap] anonymous says so.
  if (b.name.empty() && b.password.empty()) {
    who_.address_book = cfg_.anonymous;
    return reply(Code::success, "");
  }
  if (b.password.empty()) return reply(Code::unwilling_to_perform, "unauthenticated binds (a DN without a password) are not allowed");
  if (!tls_ && !cfg_.plaintext_binds) return reply(Code::confidentiality_required, "binds need TLS: use StartTLS or ldaps://");
  auto target = ctx_.dit.bind_name(b.name);
  if (target.kind == Dit::BindName::invalid) return reply(Code::invalid_dn_syntax, "invalid bind DN");
  LoginThrottle::Checked checked;
  if (target.kind == Dit::BindName::person) {
    checked = ctx_.throttle.password(ctx_.dir, "ldap", target.name, b.password, peer_, now);
    if (checked) person_identity(checked.person->login);
  } else if (target.kind == Dit::BindName::service) {
    checked = ctx_.throttle.secret("ldap", "service:" + target.name, peer_, now, [&] { return bind_service(target.name, b.password); });
  } else {
    // No such entry: counted like a wrong password under the name tried.
    checked = ctx_.throttle.secret("ldap", text::ascii_lower(b.name), peer_, now, [] { return std::optional<bool>(false); });
  }
  if (checked.kind == LoginThrottle::Checked::throttled)
    return reply(Code::invalid_credentials, "too many failed attempts; try again in " + wait_seconds(checked.wait) + " s");
  if (checked.kind == LoginThrottle::Checked::busy)
    return reply(Code::busy, "too many password checks at once; try again in a moment");
  if (!checked) return failed_bind(st, reply);
  failures_ = 0;
  reply(Code::success, "");
}

template <class Reply>
void Session::failed_bind(Step& st, Reply& reply) {
  reply(Code::invalid_credentials, "invalid credentials");
  if (++failures_ < LoginThrottle::kConnectionFailures) return;
  // A connection that keeps guessing is closed (RFC 4511 4.4.1).
  ctx_.throttle.disconnected(peer_, "ldap", failures_);
  st.out += encode_notice_of_disconnection(Code::unavailable, "too many failed binds on this connection");
  closed_ = true;
  st.action = Step::close;
}

std::optional<bool> Session::bind_service(const std::string& name, const std::string& password) {
  // The RDN value arrives normalised (folded, like every cn); service names are few.
  auto svc = ctx_.dir.read([&](Snapshot& s) -> std::optional<ServiceAccount> {
    for (auto& a : list_services(s))
      if (normalize(Syntax::name, a.name) == name) return a;
    return std::nullopt;
  });
  if (!svc) return false;
  auto slot = ctx_.dir.hash_slot();
  if (!slot) return std::nullopt;
  if (!verify_password(svc->password_hash, password)) return false;
  who_ = Identity{};
  who_.kind = Identity::service;
  who_.name = svc->name;
  who_.dn = ctx_.dit.service_dn(svc->name);
  who_.address_book = true;
  who_.see_retired = svc->retired;
  for (const auto& a : svc->attributes) who_.personal.push_back(find_attr(a));
  return true;
}

void Session::extended(const Message& m, const ExtendedRequest& e, Step& st) {
  if (e.oid == kStartTls) {
    if (tls_) {
      st.out += encode_extended_result(m.id, Code::operations_error, "TLS is already on", "", std::nullopt);
      return;
    }
    if (!in_.empty()) {
      st.out += encode_extended_result(m.id, Code::operations_error, "requests followed StartTLS", "", std::nullopt);
      return;
    }
    st.out += encode_extended_result(m.id, Code::success, "", kStartTls, std::nullopt);
    st.action = Step::start_tls;
    return;
  }
  if (e.oid == kWhoAmI) {
    std::string authz = who_.kind == Identity::anonymous ? "" : "dn:" + who_.dn;
    st.out += encode_extended_result(m.id, Code::success, "", "", authz);
    return;
  }
  // RFC 4511 4.12: an unknown request name gets protocolError.
  st.out += encode_extended_result(m.id, Code::protocol_error, "unsupported extended operation " + e.oid, "", std::nullopt);
}

}  // namespace congvu::directory::ldap
