#include "common/net/https_server.hpp"

#include <boost/beast/http.hpp>
#include <optional>
#include <sstream>

#include "common/faults.hpp"
#include "common/net/completion.hpp"
#include "common/net/serve.hpp"
#include "common/net/tls_context.hpp"

namespace congvu::net {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

std::shared_ptr<TlsContext> make_server_tls(const std::string& cert_chain, const std::string& key) {
  auto t = std::make_shared<TlsContext>();
  t->ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(t->ctx.native_handle(), TLS1_2_VERSION);
  // An idle connection (10 000 IMAP IDLE sessions) keeps no 16 KiB read/write buffers.
  SSL_CTX_set_mode(t->ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
  // TLS 1.2: AEAD suites with forward secrecy only (no CBC: LUCKY13, testssl's "average"
  // list), in the server's order of preference; TLS 1.3 keeps OpenSSL's defaults.
  SSL_CTX_set_options(t->ctx.native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(t->ctx.native_handle(), "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM") != 1)
    throw std::runtime_error("OpenSSL refused the TLS 1.2 cipher list");
  boost::system::error_code ec;
  t->ctx.use_certificate_chain_file(cert_chain, ec);
  if (ec) throw std::runtime_error(cert_chain + ": cannot load the certificate chain: " + ec.message());
  t->ctx.use_private_key_file(key, ssl::context::pem, ec);
  if (ec) throw std::runtime_error(key + ": cannot load the private key: " + ec.message());
  return t;
}

namespace {

constexpr std::size_t kMaxBody = 1 << 20;

HttpRequest to_plain(const http::request<http::string_body>& req, const std::string& peer) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  for (const auto& f : req) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  r.body = req.body();
  r.peer = peer;
  return r;
}

HttpResponse run_handler(const HttpHandler& handler, const HttpRequest& req) {
  faults::point("http.request");
  try {
    return handler(req);
  } catch (const std::exception&) {
    return HttpResponse{500, "text/plain; charset=utf-8", {}, "internal error\n"};
  }
}

// The bytes of a response: security headers on every one, Set-Cookie values split on "\n"; a
// HEAD answer has the GET's headers (Content-Length included) and no body.
std::string serialize(HttpResponse out, unsigned version, bool keep_alive, bool head) {
  http::response<http::string_body> res{static_cast<http::status>(out.status), version};
  res.set(http::field::server, "congvu");
  res.set(http::field::content_type, out.content_type);
  res.set(http::field::strict_transport_security, "max-age=31536000");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set(http::field::cache_control, "no-store");
  for (const auto& [k, v] : out.headers) {
    if (k != "Set-Cookie") {
      res.set(k, v);
      continue;
    }
    for (std::size_t i = 0; i <= v.size();) {
      auto j = v.find('\n', i);
      if (j == std::string::npos) j = v.size();
      if (j > i) res.insert(http::field::set_cookie, v.substr(i, j - i));
      i = j + 1;
    }
  }
  res.body() = std::move(out.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  std::ostringstream wire;
  if (head)
    wire << res.base();
  else
    wire << res;
  return std::move(wire).str();
}

// The path of a request target, for logs (no query: it may carry codes and tokens), printable.
std::string web_path(const std::string& target) {
  std::string p = target.substr(0, std::min(target.find('?'), std::size_t{200}));
  for (auto& ch : p)
    if (static_cast<unsigned char>(ch) < 0x21 || static_cast<unsigned char>(ch) > 0x7e) ch = '?';
  return p;
}

std::string plain_response(int status, const std::string& text, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::obsolete_reason(static_cast<http::status>(status))) +
         "\r\nServer: congvu\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
         std::to_string(text.size()) + "\r\n" + extra + "Connection: close\r\n\r\n" + text;
}

// HTTP/1.1 on the shared connection loop (common/net/serve.hpp): Beast's parser is fed the bytes
// read; each whole request goes to the handler (on the pool when there is one).
class Protocol {
 public:
  Protocol(HttpHandler handler, Workers* pool) : handler_(std::move(handler)), pool_(pool) {
    reset();
  }

  std::string greeting() { return ""; }
  void tls_started() {}
  bool feed(std::string_view bytes) {
    in_.append(bytes);
    return true;
  }
  bool busy() const { return !in_.empty() || parser_->got_some(); }
  std::chrono::seconds read_timeout() const { return std::chrono::seconds(30); }
  Turn failed(const std::string&) { return Turn{plain_response(503, "service unavailable, try again\n", "Retry-After: 5\r\n"), Turn::close}; }
  std::string goodbye() { return ""; }  // between requests: the connection just closes
  std::string too_many() { return plain_response(503, "too many connections, try again later\n", "Retry-After: 5\r\n"); }

  asio::awaitable<Turn> step(net::Connection* c) {
    boost::system::error_code ec;
    std::size_t used = in_.empty() ? 0 : parser_->put(asio::buffer(in_.data(), in_.size()), ec);
    in_.erase(0, used);
    if (ec == http::error::need_more || (!ec && !parser_->is_done())) co_return Turn{"", Turn::read};
    if (ec) {
      int status = ec == http::error::body_limit || ec == http::error::header_limit ? 413 : 400;
      co_return Turn{plain_response(status, status == 413 ? "request too large\n" : "bad request\n"), Turn::close};
    }
    auto req = parser_->release();
    reset();
    HttpResponse out;
    const HttpRequest plain = to_plain(req, c->peer());
    if (pool_) {
      std::function<void()> job = [&out, &plain, this] { out = run_handler(handler_, plain); };
      co_await run_on(pool_, c->socket().get_executor(), job);
    } else {
      out = run_handler(handler_, plain);
    }
    if (!headers_safe(out)) {
      c->log(c->peer() + ": " + plain.method + " " + web_path(plain.target) +
             ": the answer had a header with CR, LF or NUL; 500 sent instead");
      out = HttpResponse{500, "text/plain; charset=utf-8", {}, "internal error\n"};
    }
    // A stop: this answer is the last.
    bool keep = req.keep_alive() && !c->stopping();
    std::string wire = serialize(std::move(out), req.version(), keep, req.method() == http::verb::head);
    co_return Turn{std::move(wire), keep ? Turn::again : Turn::close};
  }

 private:
  void reset() {
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    parser_->eager(true);
  }

  HttpHandler handler_;
  Workers* pool_;
  std::string in_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

asio::awaitable<void> serve(Accepted a, std::shared_ptr<TlsContext> tls, HttpHandler handler, Workers* pool,
                            Deadlines deadlines, LogFn log) {
  // Answers go out whole: without this, Nagle's algorithm holds the last segment of a large
  // answer until the client's delayed ACK (40 ms on Linux) on a kept-alive connection.
  boost::system::error_code ec;
  a.socket.set_option(tcp::no_delay(true), ec);
  deadlines.handshake = std::min(deadlines.handshake, std::chrono::seconds(10));
  auto c = std::make_unique<Connection>(std::move(a), tls->ctx.native_handle(), deadlines, true, std::move(log), 16384);
  auto p = std::make_unique<Protocol>(std::move(handler), pool);
  co_await serve_session(c.get(), p.get());
}

}  // namespace

Listener& listen_https(Runtime& rt, const std::string& host, std::uint16_t port, std::shared_ptr<TlsContext> tls,
                       HttpHandler handler, Workers* pool, ListenerLimits limits, Deadlines deadlines, LogFn log) {
  return rt.listen("https", host, port, std::move(limits), [tls, handler, pool, deadlines, log](Accepted a) {
    return serve(std::move(a), tls, handler, pool, deadlines, log);
  });
}

}  // namespace congvu::net
