#include "common/net/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace congvu::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

struct Url {
  bool tls = false;
  std::string host, port, target;
};

bool parse_url(const std::string& url, Url& u) {
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return false;
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return false;
    u.host = authority.substr(1, close - 1);
    u.port = close + 1 < authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : "";
  } else {
    auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    u.port = colon == std::string::npos ? "" : authority.substr(colon + 1);
  }
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  return !u.host.empty();
}

template <class Stream>
HttpClientResult exchange(Stream& stream, const Url& u, const std::string& content_type, const std::string& body) {
  // No content type: a GET.
  http::request<http::string_body> req{content_type.empty() ? http::verb::get : http::verb::post, u.target, 11};
  req.set(http::field::host, u.host);
  req.set(http::field::user_agent, "congvu");
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  req.set(http::field::connection, "close");
  if (!content_type.empty()) {
    req.body() = body;
    req.prepare_payload();
  }
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  http::read(stream, buffer, parser);
  HttpClientResult r;
  r.status = static_cast<int>(parser.get().result_int());
  r.body = parser.get().body();
  return r;
}

}  // namespace

// An empty content_type sends a GET (see http_get).
HttpClientResult http_post(const std::string& url, const std::string& content_type, const std::string& body,
                           std::chrono::milliseconds timeout, const std::string& extra_ca_file) {
  Url u;
  if (!parse_url(url, u)) return {0, {}, "not an http(s) URL: " + url};
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(u.host, u.port);
    if (!u.tls) {
      beast::tcp_stream stream(io);
      stream.expires_after(timeout);
      stream.connect(endpoints);
      return exchange(stream, u, content_type, body);
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    if (!extra_ca_file.empty()) ctx.load_verify_file(extra_ca_file);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str())) return {0, {}, "cannot set SNI"};
    stream.set_verify_callback(asio::ssl::host_name_verification(u.host));
    beast::get_lowest_layer(stream).expires_after(timeout);
    beast::get_lowest_layer(stream).connect(endpoints);
    stream.handshake(asio::ssl::stream_base::client);
    return exchange(stream, u, content_type, body);
  } catch (const std::exception& e) {
    return {0, {}, e.what()};
  }
}

HttpClientResult http_get(const std::string& url, std::chrono::milliseconds timeout, const std::string& extra_ca_file) {
  return http_post(url, "", "", timeout, extra_ca_file);
}

}  // namespace congvu::net
