// SAML service providers, registered by importing their metadata (`congvu sp add --metadata
// FILE|URL`): entity ID, assertion consumer and logout endpoints, signing and encryption
// certificates; plus Congvu's per-SP settings (NameID format, released attributes, encryption,
// IdP-initiated login, SOAP logout events). Stored in the `sp` table; add/remove are audited.
// Metadata is trusted as the admin's choice (its signature, if any, is not checked); endpoints
// must be https, or http on a loopback address.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"

namespace congvu::directory {
class Snapshot;
class Change;
}  // namespace congvu::directory

namespace congvu::idp::saml {

inline constexpr const char* kBindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
inline constexpr const char* kBindingPost = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
inline constexpr const char* kBindingSoap = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP";

inline constexpr const char* kNameIdPersistent = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
inline constexpr const char* kNameIdTransient = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
inline constexpr const char* kNameIdEmail = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
inline constexpr const char* kNameIdUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

struct Endpoint {
  std::string binding, location, response_location;
  std::uint32_t index = 0;
  bool is_default = false;
};

struct ServiceProvider {
  std::string entity_id;
  std::string name;                       // shown to people; the entity ID when not given
  std::vector<Endpoint> acs;              // HTTP-POST assertion consumer services
  std::vector<Endpoint> slo;              // single logout: Redirect, POST, SOAP
  std::vector<std::string> signing_certs; // base64 DER
  std::string encryption_cert;            // base64 DER; "" when none
  bool authn_requests_signed = false;     // requests must be signed (metadata or --require-signed)
  bool want_assertions_signed = true;
  std::string name_id_format = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
  // Released attributes by short name (see attributes in idp/saml/saml.hpp).
  std::vector<std::string> attributes = {"uid", "mail", "displayName", "givenName", "sn",
                                         "departmentNumber", "ou", "title", "isMemberOf"};
  bool encrypt_assertions = false;
  bool idp_initiated = false;             // unsolicited responses allowed (IdP-initiated SSO)
  std::string default_relay_state;        // for IdP-initiated SSO
  // Lifecycle events that send a SOAP LogoutRequest (suspend, retire, transfer); needs a SOAP
  // single logout endpoint.
  std::vector<std::string> logout_events;
  UnixMs created = 0;

  const Endpoint* default_acs() const;
  const Endpoint* slo_for(std::string_view binding) const;
  // The front-channel logout endpoint (Redirect preferred, then POST), or null.
  const Endpoint* front_slo() const;
};

std::string encode(const ServiceProvider& sp);
ServiceProvider decode_sp(std::string_view v);

// Reads SP metadata (md:EntityDescriptor with an SPSSODescriptor). Errors name the problem.
Result<ServiceProvider> parse_metadata(std::string_view xml);

std::optional<ServiceProvider> find_sp(directory::Snapshot& s, std::string_view entity_id);
std::vector<ServiceProvider> list_sps(directory::Snapshot& s);
Status add_sp(directory::Change& c, const ServiceProvider& sp, bool replace);
Status remove_sp(directory::Change& c, std::string_view entity_id);

// Short attribute names Congvu can release (uid, mail, displayName, ...).
const std::vector<std::string>& attribute_names();

}  // namespace congvu::idp::saml
