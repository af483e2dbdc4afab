#include "directory/ldap/server.hpp"

#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/faults.hpp"
#include "common/net/completion.hpp"
#include "common/net/serve.hpp"
#include "common/net/https_server.hpp"  // make_server_tls
#include "common/net/tls_context.hpp"
#include "common/net/tls_socket.hpp"
#include "directory/directory.hpp"

namespace congvu::directory::ldap {

namespace {

namespace asio = boost::asio;
using asio::use_awaitable;
using net::Turn;
constexpr std::size_t kBuffer = 16384;

int accept_any(int, X509_STORE_CTX*) { return 1; }  // checked after the handshake, for EXTERNAL only

// The names a verified client certificate offers, best first.
std::vector<std::string> certificate_names(SSL* ssl) {
  std::vector<std::string> out;
  if (!ssl || SSL_get_verify_result(ssl) != X509_V_OK) return out;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert) return out;
  if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type == GEN_EMAIL)
        out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.rfc822Name)),
                         static_cast<std::size_t>(ASN1_STRING_length(n->d.rfc822Name)));
    }
    GENERAL_NAMES_free(sans);
  }
  X509_NAME* subject = X509_get_subject_name(cert);
  for (int nid : {NID_pkcs9_emailAddress, NID_userId, NID_commonName}) {
    int at = X509_NAME_get_index_by_NID(subject, nid, -1);
    if (at < 0) continue;
    ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, s);
    if (len > 0) out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
  }
  return out;
}

// LDAP on the shared connection loop (common/net/serve.hpp): a bind (Argon2id) runs on the
// worker pool, other requests on the event loop; the one action is StartTLS's handshake.
class Protocol {
 public:
  Protocol(net::Connection& c, SessionConfig cfg, std::shared_ptr<ServerContext> ctx)
      : c_(c), ctx_(std::move(ctx)), session_(std::move(cfg), Context{ctx_->dir, ctx_->dit, *ctx_->throttle, ctx_->log}, c.peer()) {}

  std::string greeting() { return ""; }
  void tls_started() { session_.tls_started(client_login()); }
  bool feed(std::string_view bytes) {
    session_.feed(bytes);
    return true;
  }
  bool busy() const { return session_.mid_request(); }
  std::chrono::seconds read_timeout() const {
    return session_.identity().kind == Identity::anonymous ? c_.deadlines().pre_auth : ctx_->idle_timeout;
  }
  Turn failed(const std::string&) { return Turn{encode_notice_of_disconnection(Code::other, "internal error"), Turn::close}; }
  std::string goodbye() { return encode_notice_of_disconnection(Code::unavailable, "the server is shutting down"); }
  std::string too_many() { return encode_notice_of_disconnection(Code::busy, "too many connections, try again later"); }

  asio::awaitable<Turn> step(net::Connection* c) {
    if (session_.blocking_request_buffered()) {
      std::function<void()> work = [this] { step_ = run_next(); };
      co_await net::run_on(&ctx_->workers, c->socket().get_executor(), work);
    } else {
      step_ = run_next();
    }
    Step st = std::move(step_);
    if (st.action == Step::close) co_return Turn{std::move(st.out), Turn::close};
    if (st.action == Step::need_input) co_return Turn{std::move(st.out), Turn::read};
    // StartTLS: the response goes out in the clear; the handshake follows.
    if (!st.out.empty() && !co_await c->send(st.out)) co_return Turn{"", Turn::close};
    if (!co_await c->start_tls()) co_return Turn{"", Turn::close};
    tls_started();
    co_return Turn{"", Turn::again};
  }

 private:
  Step run_next() {
    if (session_.mid_request()) faults::point("ldap.request");
    return session_.next(system_now_ms());
  }

  // The person a verified client certificate names, for SASL EXTERNAL.
  std::string client_login() {
    for (const auto& name : certificate_names(c_.socket().native())) {
      auto p = ctx_->dir.read([&](Snapshot& s) { return s.resolve(name); });
      if (p && p->status == PersonStatus::active) return p->login;
    }
    return "";
  }

  net::Connection& c_;
  std::shared_ptr<ServerContext> ctx_;
  Session session_;
  Step step_;
};

asio::awaitable<void> serve(net::Accepted a, SessionConfig cfg, bool implicit_tls, std::shared_ptr<ServerContext> ctx) {
  cfg.implicit_tls = false;  // the handshake tells the session (tls_started)
  auto c = std::make_unique<net::Connection>(std::move(a), ctx->tls->ctx.native_handle(), ctx->deadlines, implicit_tls,
                                             ctx->log, kBuffer);
  auto p = std::make_unique<Protocol>(*c, std::move(cfg), ctx);
  co_await net::serve_session(c.get(), p.get());
}

}  // namespace

std::shared_ptr<net::TlsContext> make_ldap_tls(const std::string& cert_chain, const std::string& key,
                                               const std::string& client_ca) {
  auto t = net::make_server_tls(cert_chain, key);
  if (!client_ca.empty()) {
    SSL_CTX* ctx = t->ctx.native_handle();
    if (SSL_CTX_load_verify_locations(ctx, client_ca.c_str(), nullptr) != 1)
      throw std::runtime_error(client_ca + ": cannot load the client CA certificates");
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(client_ca.c_str());
    if (names) SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, &accept_any);
    static const unsigned char sid[] = "congvu-ldap";
    SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
  }
  return t;
}

net::Listener& listen_ldap(net::Runtime& rt, const std::string& host, std::uint16_t port, SessionConfig cfg,
                           bool implicit_tls, std::shared_ptr<ServerContext> ctx, net::ListenerLimits limits) {
  return rt.listen(implicit_tls ? "ldaps" : "ldap", host, port, std::move(limits),
                   [cfg, ctx, implicit_tls](net::Accepted a) { return serve(std::move(a), cfg, implicit_tls, ctx); });
}

}  // namespace congvu::directory::ldap
