#include "directory/schema.hpp"

#include "common/codec.hpp"

namespace congvu::directory::schema {

std::vector<std::string> table_names() {
  return {"meta", "person", "login", "addr", "addr_base", "staffno", "unit", "unit_child",
          "member", "assignment", "name", "cred", "group", "group_member", "audit", "event", "token_count",
          "signing_key", "client", "revoked", "sso", "code", "refresh", "consent", "factor", "app_password", "reset",
          "sp", "saml_seen", "saml_pending", "ldap_service", "admin_grant", "scheduled", "retirement", "admin_session", "proposal", "sso_index"};
}

std::string assignment_key(const PersonId& id, std::uint32_t index) {
  std::string k(id.bytes());
  codec::put_be32(k, index);
  return k;
}

}  // namespace congvu::directory::schema
