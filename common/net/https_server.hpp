// An HTTPS/1.1 listener on the Runtime: TLS 1.2+ handshake (10 s), requests of at most 1 MiB
// read within 30 s each, keep-alive, security headers on every response. Requests are handed
// to an HttpHandler as plain values; a handler that throws gets the client a 500.
#pragma once

#include <memory>
#include <string>

#include "common/net/http.hpp"
#include "common/net/runtime.hpp"

namespace congvu::net {

class TlsContext;

// A server TLS context from a PEM chain and key; throws std::runtime_error naming the file.
std::shared_ptr<TlsContext> make_server_tls(const std::string& cert_chain, const std::string& key);

Listener& listen_https(Runtime& rt, const std::string& host, std::uint16_t port,
                       std::shared_ptr<TlsContext> tls, HttpHandler handler);

}  // namespace congvu::net
