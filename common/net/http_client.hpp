// A small blocking HTTP/1.1 client for the server's own outbound calls (OIDC back-channel
// logout, SAML SOAP logout, SP metadata import): one POST or GET, http:// or https:// (certificate and host name
// verified against the system's trust store plus an optional extra CA file), bounded time.
// Call it from a worker thread, never from an event loop. Thread-safe (no shared state).
#pragma once

#include <chrono>
#include <string>

namespace congvu::net {

struct HttpClientResult {
  int status = 0;          // 0 when no response arrived
  std::string body;
  std::string error;       // why there was no response
};

HttpClientResult http_post(const std::string& url, const std::string& content_type, const std::string& body,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5),
                           const std::string& extra_ca_file = {});
// One GET (SAML metadata import).
HttpClientResult http_get(const std::string& url, std::chrono::milliseconds timeout = std::chrono::seconds(5),
                          const std::string& extra_ca_file = {});

}  // namespace congvu::net
