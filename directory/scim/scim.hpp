// SCIM 2.0 (RFC 7643 resources, RFC 7644 protocol) on the HTTPS router under /scim/v2:
//
//   GET  /ServiceProviderConfig, /ResourceTypes[/{name}], /Schemas[/{urn}]   (no token needed)
//   GET  /Users, POST /Users/.search        filter, sortBy/sortOrder, startIndex/count,
//                                            attributes/excludedAttributes
//   GET  /Users/{id}                         ETag W/"..."; If-None-Match gives 304
//   POST /Users                              a hire (201, with a one-time activation code)
//   PUT|PATCH /Users/{id}                    transfer, rotation, appointment, suspension,
//                                            resumption, retirement; If-Match (412 on mismatch)
//   GET|POST /Groups, GET|PUT|PATCH /Groups/{id}   groups and their members
//   POST /Bulk                               up to 1 000 operations, one durable commit
//
// Authentication: an OAuth bearer token of Congvu's IdP with audience `scim`, scope
// `scim:read` (GET) or `scim:write` (everything else). What the caller may do is decided here
// by directory/hr.hpp: a client-credentials client acts with the role and unit it was
// registered with; a person acts with their admin grants and must have a second factor.
// People are never deleted (DELETE answers 405): they retire.
// Every answer is application/scim+json; errors use the RFC 7644 3.12 error schema.
// Blocking: writes commit durably; the HTTPS server runs handle() on its worker pool. Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/net/http.hpp"
#include "common/time.hpp"
#include "directory/directory.hpp"

namespace congvu::directory::scim {

class Service {
 public:
  // `base_url`: "https://host:port", for resource locations and activation links.
  Service(Directory& dir, std::string base_url);
  ~Service();
  std::optional<net::HttpResponse> handle(const net::HttpRequest& req, UnixMs now);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace congvu::directory::scim
