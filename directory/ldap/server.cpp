#include "directory/ldap/server.hpp"

#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/net/completion.hpp"
#include "common/net/https_server.hpp"
#include "common/net/tls_context.hpp"
#include "common/net/tls_socket.hpp"
#include "directory/directory.hpp"

namespace congvu::directory::ldap {

namespace {

namespace asio = boost::asio;
using asio::use_awaitable;
using net::tcp;
constexpr std::size_t kBuffer = 16384;
constexpr std::chrono::seconds kIoLimit{60};  // for a handshake or a write

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

class Connection {
 public:
  Connection(tcp::socket s, SessionConfig cfg, std::shared_ptr<ServerContext> ctx, std::string peer)
      : sock_(std::move(s), ctx->tls->ctx.native_handle()), ctx_(std::move(ctx)),
        session_(std::move(cfg), Context{ctx_->dir, ctx_->dit, *ctx_->throttle, ctx_->log}, peer), buf_(kBuffer) {}

  asio::awaitable<void> run(bool implicit_tls) {
    if (implicit_tls) {
      if (!co_await sock_.handshake_within(kIoLimit)) co_return;
      session_.tls_started(client_login());
    }
    for (;;) {
      sock_.expires_after(ctx_->idle_timeout);
      auto [ec, n] = co_await sock_.read_some(buf_.data(), buf_.size());
      if (ec) break;
      session_.feed(std::string_view(buf_.data(), n));
      if (!co_await drive()) break;
    }
    co_await sock_.shutdown();
  }

 private:
  asio::awaitable<bool> drive() {
    for (;;) {
      if (session_.blocking_request_buffered()) {
        co_await next_on_workers();
      } else {
        step_ = run_next();
      }
      Step st = std::move(step_);
      if (!st.out.empty() && !co_await sock_.send_within(st.out, kIoLimit)) co_return false;
      if (st.action == Step::close) co_return false;
      if (st.action == Step::need_input) co_return true;
      // StartTLS: the response went out in the clear; the handshake follows.
      if (!co_await sock_.handshake_within(kIoLimit)) co_return false;
      session_.tls_started(client_login());
    }
  }

  Step run_next() {
    try {
      return session_.next(system_now_ms());
    } catch (const std::exception& e) {
      ctx_->log(std::string("ldap: internal error: ") + e.what());
      return Step{encode_notice_of_disconnection(Code::other, "internal error"), Step::close};
    }
  }

  asio::awaitable<void> next_on_workers() {
    std::function<void()> work = [this] { step_ = run_next(); };
    co_await net::run_on(ctx_->workers, sock_.socket().get_executor(), work);
  }

  // The person a verified client certificate names, for SASL EXTERNAL.
  std::string client_login() {
    for (const auto& name : certificate_names(sock_.native())) {
      auto p = ctx_->dir.read([&](Snapshot& s) { return s.resolve(name); });
      if (p && p->status == PersonStatus::active) return p->login;
    }
    return "";
  }

  net::TlsSocket sock_;
  std::shared_ptr<ServerContext> ctx_;
  Session session_;
  Step step_;
  std::vector<char> buf_;
};

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
                           bool implicit_tls, std::shared_ptr<ServerContext> ctx) {
  return rt.listen(host, port, [cfg, ctx, implicit_tls](tcp::socket s) -> asio::awaitable<void> {
    boost::system::error_code ec;
    auto ep = s.remote_endpoint(ec);
    std::string peer = ec ? std::string("unknown") : ep.address().to_string();
    SessionConfig c = cfg;
    c.implicit_tls = false;  // the handshake below tells the session
    auto conn = std::make_unique<Connection>(std::move(s), c, ctx, peer);
    co_await conn->run(implicit_tls);
  });
}

}  // namespace congvu::directory::ldap
