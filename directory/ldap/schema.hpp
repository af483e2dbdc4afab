// What the LDAP view knows about attributes and names: the attribute types Congvu serves (names,
// aliases, OIDs, how values match), DN parsing and normalisation (RFC 4514), and the subschema
// subentry published at cn=Subschema.
//
// Matching (a documented extension for Vietnamese): values of name-like attributes (cn, sn,
// givenName, displayName, ou, o, title, description) match with text::fold on both sides, so
// case and diacritics are ignored ("nguyen van" = "Nguyễn Văn"); IA5 attributes (mail, uid, dc)
// ignore ASCII case; DNs compare in normalised form; the rest ignore ASCII case.
// Thread-safety: pure functions over constant tables.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace congvu::directory::ldap {

enum class Syntax : std::uint8_t { name, ia5, dn, exact, integer, time, boolean, oid };

enum class Attr : std::uint8_t {
  objectClass, cn, sn, givenName, displayName, uid, mail, title, ou, o, dc, description, departmentNumber,
  employeeNumber, member, memberOf, entryUUID, congvuId, congvuUnitCode, congvuPosition, congvuStatus,
  congvuBirthDate, congvuGender, createTimestamp, modifyTimestamp, entryDN, hasSubordinates,
  subschemaSubentry, structuralObjectClass, userPassword, name,
  unknown,
};
constexpr std::size_t kAttrCount = static_cast<std::size_t>(Attr::unknown);

struct AttrType {
  Attr id;
  const char* name;
  const char* oid;
  Syntax syntax;
  bool operational;
  bool personal;  // released only to service accounts configured for it
};

const AttrType& attr_type(Attr a);
// By name, alias or OID (any case), with options (";lang-vi", ";binary") ignored.
Attr find_attr(std::string_view description);

// The form a value is compared in for attributes of `syntax`.
std::string normalize(Syntax syntax, std::string_view value);

// A DN (RFC 4514): the RDNs from the leftmost, each (attribute, value) in normalised form
// (attribute lowercased and aliases resolved, value unescaped then normalised per syntax).
// Multi-valued RDNs are refused (nothing Congvu serves has them). nullopt: not a valid DN.
struct Rdn {
  std::string attr, value;
};
std::optional<std::vector<Rdn>> parse_dn(std::string_view dn);
// Normalised string form "uid=annv,ou=people,dc=tinhmau,dc=test"; nullopt when invalid.
std::optional<std::string> normalize_dn(std::string_view dn);
// An RDN value escaped for a DN string.
std::string escape_dn_value(std::string_view v);

// The subschema subentry's attributes (attributeTypes, objectClasses, ldapSyntaxes,
// matchingRules), in the RFC 4512 description forms.
std::vector<std::string> schema_attribute_types();
std::vector<std::string> schema_object_classes();
std::vector<std::string> schema_syntaxes();
std::vector<std::string> schema_matching_rules();

}  // namespace congvu::directory::ldap
