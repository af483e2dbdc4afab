// The one HTTPS router of the server (port 8443). idp/ and directory/ will mount their
// handlers here; for now it serves the landing page and the health check.
#pragma once

#include "common/net/http.hpp"
#include "directory/directory.hpp"

namespace congvu::app {

net::HttpHandler make_router(directory::Directory& dir);

}  // namespace congvu::app
