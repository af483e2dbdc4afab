// The LMDB layout of directory.mdb: one named table per entry below, and the key encodings.
// Documented for operators in directory/README.md; change only with a migration.
//
//   table        key                                   value
//   meta         "schema" | "audit_head"               "1" | be64 seq + 32-byte hash
//   person       id (16 raw bytes, UUIDv7)             Person record
//   login        login (lowercase)                     id
//   addr         address (lowercase)                   'P' + id | 'U' + unit code | 'G' + group
//   addr_base    address base ("annv")                 be32: the highest suffix issued
//   staffno      staff number                          id
//   unit         unit code                             Unit record
//   unit_child   parent code + '\0' + child code       ""          (the province: parent "")
//   member       unit code + '\0' + id                 status byte + position + '\0' + folded + ' ' + login
//   assignment   id + be32 index                       Assignment record
//   name         token + '\0' + id                     status byte + unit + '\0' + folded + ' ' + login
//   token_count  token                                 be32: how many people have it (search planning)
//   cred         id                                    Credential record
//   group        group name                            Group record
//   group_member group name + '\0' + id                ""          (static groups)
//   audit        be64 seq                              AuditRecord (hash-chained)
//   event        be64 seq                              'A' applied | 'P' pending, + the event row
//   signing_key  kid                                   KeyRecord (PEM encrypted; directory/keys.hpp)
//   client       client id                             Client record (directory/clients.hpp)
//   revoked      'j' + jti | 'f' + grant family id     be64 expiry (ms): refused until then
//   sso          SHA-256 of the session cookie         SSO session (idp/store.hpp)
//   code         SHA-256 of the authorization code     code record (idp/store.hpp)
//   refresh      SHA-256 of the refresh token          refresh record (idp/store.hpp)
//   consent      person id + client id                 granted scopes, space-separated
//   factor       person id                             SecondFactor (directory/factors.hpp)
//   app_password person id + app id                    AppPassword (directory/factors.hpp)
//   reset        person id                             be64 expiry (ms) + SHA-256 of the reset code
//   sp           SAML entity ID                        ServiceProvider (idp/saml/sp.hpp)
//   saml_seen    SP entity ID + '\0' + request ID       be64 expiry (ms): a replay is refused until then
//   saml_pending SHA-256 of the continuation token     a checked AuthnRequest or logout in progress
//   ldap_service service account name                  ServiceAccount (directory/ldap/accounts.hpp)
//   admin_grant  person id + role byte + unit code      Grant (directory/hr.hpp)
//   scheduled    date YYYY-MM-DD + be64 number          a future-dated change (directory/hr.hpp)
//   retirement   person id                             successor id + mailbox kept until (directory/hr.hpp)
//   admin_session SHA-256 of the cookie                  admin console session (admin/session.hpp)
//   proposal     be64 number                           a move awaiting an administrator over its target (directory/hr.hpp)
//   sso_index    'p' + person id + sso key               ""  the sessions of a person
//                'n' + SHA-256(SP + '\0' + NameID) + sso key  ""  the sessions a SAML NameID was given in
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/ids.hpp"
#include "common/kv/kv.hpp"

namespace congvu::directory::schema {

enum Table : kv::TableId {
  meta, person, login, addr, addr_base, staffno, unit, unit_child, member, assignment, name,
  cred, group, group_member, audit, event, token_count,
  signing_key, client, revoked, sso, code, refresh, consent, factor, app_password, reset,
  sp, saml_seen, saml_pending, ldap_service, admin_grant, scheduled, retirement, admin_session, proposal, sso_index, kTableCount
};

std::vector<std::string> table_names();

inline std::string join0(std::string_view a, std::string_view b) {
  std::string k(a);
  k += '\0';
  k.append(b);
  return k;
}

std::string assignment_key(const PersonId& id, std::uint32_t index);

}  // namespace congvu::directory::schema
