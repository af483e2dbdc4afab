// The one HTTPS router of the server (port 8443): the OpenID Connect provider (idp/), the
// landing page, the health check and mail client autoconfiguration (Thunderbird autoconfig,
// Outlook Autodiscover), SCIM (/scim/v2), the admin console (/admin).
#pragma once

#include "admin/console.hpp"
#include "app/autoconfig.hpp"
#include "common/net/http.hpp"
#include "directory/directory.hpp"
#include "directory/scim/scim.hpp"
#include "idp/provider.hpp"
#include "idp/saml/saml.hpp"

namespace congvu::app {

// `mail`: where mail clients connect (for autoconfiguration); read when a request arrives, so
// the caller may fill in ports after binding.
// `idp`: the OpenID Connect provider, set once the issuer is known (after binding); its paths
// go to it.
struct WebServices {
  std::unique_ptr<idp::Provider> idp;
  std::unique_ptr<idp::saml::Idp> saml;  // the SAML IdP on the same session (its paths go through idp)
  std::unique_ptr<directory::scim::Service> scim;  // /scim/v2
  std::unique_ptr<admin::Console> admin;           // /admin
};
net::HttpHandler make_router(directory::Directory& dir, std::shared_ptr<const MailEndpoints> mail,
                             std::shared_ptr<const WebServices> services);

}  // namespace congvu::app
