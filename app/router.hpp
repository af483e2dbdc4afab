// The one HTTPS router of the server (port 8443). idp/ and directory/ will mount their
// handlers here; for now it serves the landing page, the health check and mail client
// autoconfiguration (Thunderbird autoconfig, Outlook Autodiscover).
#pragma once

#include "app/autoconfig.hpp"
#include "common/net/http.hpp"
#include "directory/directory.hpp"

namespace congvu::app {

// `mail`: where mail clients connect (for autoconfiguration); read when a request arrives, so
// the caller may fill in ports after binding.
net::HttpHandler make_router(directory::Directory& dir, std::shared_ptr<const MailEndpoints> mail);

}  // namespace congvu::app
