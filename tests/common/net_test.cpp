// net::TlsSocket as an Asio AsyncStream: Beast's HTTP reader and writer run on it, over a real TLS
// handshake on a loopback socket (the certificate from the local CA, verified by the client).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>

#include "common/net/https_server.hpp"
#include "common/net/tls.hpp"
#include "common/net/tls_context.hpp"
#include "common/net/tls_socket.hpp"

namespace congvu::net {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

asio::awaitable<void> serve_one(tcp::acceptor* acceptor, SSL_CTX* ctx, std::string* seen) {
  auto socket = co_await acceptor->async_accept(asio::use_awaitable);
  TlsSocket s(std::move(socket), ctx);
  if (!co_await s.handshake()) co_return;
  boost::beast::flat_buffer buf;
  http::request<http::string_body> req;
  co_await http::async_read(s, buf, req, asio::use_awaitable);
  *seen = std::string(req.target()) + " " + req.body();
  http::response<http::string_body> res{http::status::ok, 11};
  res.body() = std::string(100000, 'x');  // larger than one TLS record
  res.prepare_payload();
  co_await http::async_write(s, res, asio::use_awaitable);
  co_await s.shutdown();
}

asio::awaitable<void> client_one(asio::ssl::context* ctx, std::uint16_t port, std::size_t* body) {
  asio::ssl::stream<tcp::socket> c(co_await asio::this_coro::executor, *ctx);
  co_await c.next_layer().async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
  SSL_set_tlsext_host_name(c.native_handle(), "localhost");
  c.set_verify_callback(asio::ssl::host_name_verification("localhost"));
  co_await c.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
  http::request<http::string_body> req{http::verb::post, "/echo", 11};
  req.set(http::field::host, "localhost");
  req.body() = "hello";
  req.prepare_payload();
  co_await http::async_write(c, req, asio::use_awaitable);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  co_await http::async_read(c, buf, res, asio::use_awaitable);
  *body = res.body().size();
}

TEST(TlsSocket, CarriesBeastHttpOverTls) {
  auto dir = std::filesystem::temp_directory_path() / ("congvu-net-test-" + std::to_string(getpid()));
  auto files = ensure_local_ca(dir.string(), "localhost");
  auto server_tls = make_server_tls(files.cert_chain, files.key);
  asio::ssl::context client_tls(asio::ssl::context::tls_client);
  client_tls.load_verify_file(files.ca_cert);
  client_tls.set_verify_mode(asio::ssl::verify_peer);

  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::string seen;
  std::size_t body = 0;
  auto rethrow = [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  };
  asio::co_spawn(io, serve_one(&acceptor, server_tls->ctx.native_handle(), &seen), rethrow);
  asio::co_spawn(io, client_one(&client_tls, acceptor.local_endpoint().port(), &body), rethrow);
  EXPECT_NO_THROW(io.run());
  EXPECT_EQ(seen, "/echo hello");
  EXPECT_EQ(body, 100000u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace congvu::net
