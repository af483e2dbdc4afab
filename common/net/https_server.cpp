#include "common/net/https_server.hpp"

#include "common/net/completion.hpp"
#include "common/net/tls_context.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

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
  boost::system::error_code ec;
  t->ctx.use_certificate_chain_file(cert_chain, ec);
  if (ec) throw std::runtime_error(cert_chain + ": cannot load the certificate chain: " + ec.message());
  t->ctx.use_private_key_file(key, ssl::context::pem, ec);
  if (ec) throw std::runtime_error(key + ": cannot load the private key: " + ec.message());
  return t;
}

namespace {

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
  try {
    return handler(req);
  } catch (const std::exception&) {
    return HttpResponse{500, "text/plain; charset=utf-8", {}, "internal error\n"};
  }
}

asio::awaitable<void> session(tcp::socket socket, std::shared_ptr<TlsContext> tls, HttpHandler handler, Workers* pool) {
  std::string peer;
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (!ec) peer = ep.address().to_string();
  // Answers go out whole: without this, Nagle's algorithm holds the last segment of a large
  // answer until the client's delayed ACK (40 ms on Linux) on a kept-alive connection.
  socket.set_option(tcp::no_delay(true), ec);
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), tls->ctx);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  auto [hs_ec] = co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
  if (hs_ec) co_return;
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    auto [rec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (rec) break;
    auto req = parser.release();
    HttpResponse out;
    if (pool) {
      auto done = std::make_shared<Completion<HttpResponse>>(co_await asio::this_coro::executor);
      auto plain = std::make_shared<HttpRequest>(to_plain(req, peer));
      std::function<void()> job = [done, plain, handler] { Completion<HttpResponse>::set(done, run_handler(handler, *plain)); };
      pool->post(std::move(job));
      while (!done->value) {
        auto [tec] = co_await done->timer.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)tec;
      }
      out = std::move(*done->value);
    } else {
      out = run_handler(handler, to_plain(req, peer));
    }
    http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
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
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    // A HEAD response carries the headers of the GET (Content-Length included) and no body.
    http::response_serializer<http::string_body> sr{res};
    auto [wec, w] = req.method() == http::verb::head
                        ? co_await http::async_write_header(stream, sr, asio::as_tuple(asio::use_awaitable))
                        : co_await http::async_write(stream, sr, asio::as_tuple(asio::use_awaitable));
    if (wec || !res.keep_alive()) break;
  }
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
}

}  // namespace

Listener& listen_https(Runtime& rt, const std::string& host, std::uint16_t port, std::shared_ptr<TlsContext> tls,
                       HttpHandler handler, Workers* pool) {
  return rt.listen(host, port, [tls, handler, pool](tcp::socket s) { return session(std::move(s), tls, handler, pool); });
}

}  // namespace congvu::net
