// An HTTPS/1.1 listener on the Runtime, on the shared connection loop (common/net/serve.hpp):
// TLS 1.2+ handshake (10 s), requests of at most 1 MiB read within 30 s each, keep-alive,
// security headers on every response. Requests are handed to an HttpHandler as plain values; a
// handler that throws gets the client a 500, any other failure a 503; a stop makes the answer
// in progress the last (Connection: close); over a cap: 503.
// Several Set-Cookie values may be given in one header value separated by "\n".
#pragma once

#include <memory>
#include <string>

#include "common/net/http.hpp"
#include "common/net/runtime.hpp"
#include "common/workers.hpp"

namespace congvu::net {

class TlsContext;

// A server TLS context from a PEM chain and key; throws std::runtime_error naming the file.
std::shared_ptr<TlsContext> make_server_tls(const std::string& cert_chain, const std::string& key);

// `pool`: where the handler runs (handlers that hash passwords or wait for a durable commit
// must not run on the event loop); nullptr runs it on the connection's own thread.
Listener& listen_https(Runtime& rt, const std::string& host, std::uint16_t port,
                       std::shared_ptr<TlsContext> tls, HttpHandler handler, Workers* pool = nullptr,
                       ListenerLimits limits = {}, Deadlines deadlines = {}, LogFn log = {});

}  // namespace congvu::net
