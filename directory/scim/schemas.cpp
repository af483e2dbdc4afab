// The discovery documents (RFC 7643 5-7): what this server supports, its resource types, and
// the schemas with each attribute's type, mutability and returnability.
#include "directory/scim/internal.hpp"

namespace congvu::directory::scim {
namespace {

struct A {
  const char* name;
  const char* type = "string";
  const char* mutability = "readOnly";
  bool multi = false;
  bool required = false;
  std::vector<A> subs = {};
  const char* description = "";
  const char* returned = "default";
  bool case_exact = false;
};

json::object attr(const A& a) {
  json::object o{{"name", a.name},
                 {"type", a.type},
                 {"multiValued", a.multi},
                 {"description", a.description},
                 {"required", a.required},
                 {"caseExact", a.case_exact},
                 {"mutability", a.mutability},
                 {"returned", a.returned},
                 {"uniqueness", "none"}};
  if (!a.subs.empty()) {
    json::array subs;
    for (const auto& s : a.subs) subs.push_back(attr(s));
    o["subAttributes"] = std::move(subs);
  }
  return o;
}

json::object schema(const char* id, const char* name, const char* description, const std::vector<A>& attrs,
                    const std::string& base) {
  json::array list;
  for (const auto& a : attrs) list.push_back(attr(a));
  return json::object{{"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:Schema"}},
                      {"id", id},
                      {"name", name},
                      {"description", description},
                      {"attributes", std::move(list)},
                      {"meta", json::object{{"resourceType", "Schema"}, {"location", base + "/Schemas/" + id}}}};
}

const std::vector<A> kRef = {{"value"}, {"$ref", "reference"}, {"display"}};

}  // namespace

json::value service_provider_config(const std::string& base) {
  return json::object{
      {"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"}},
      {"documentationUri", "https://congvu.invalid/docs/scim"},
      {"patch", json::object{{"supported", true}}},
      {"bulk", json::object{{"supported", true}, {"maxOperations", 1000}, {"maxPayloadSize", 1048576}}},
      {"filter", json::object{{"supported", true}, {"maxResults", 1000}}},
      {"changePassword", json::object{{"supported", false}}},
      {"sort", json::object{{"supported", true}}},
      {"etag", json::object{{"supported", true}}},
      {"authenticationSchemes",
       json::array{json::object{{"type", "oauthbearertoken"},
                                {"name", "OAuth Bearer Token"},
                                {"description", "An access token of Congvu's IdP with audience scim and scope scim:read or scim:write"},
                                {"specUri", "https://www.rfc-editor.org/rfc/rfc6750"},
                                {"primary", true}}}},
      {"meta", json::object{{"resourceType", "ServiceProviderConfig"}, {"location", base + "/ServiceProviderConfig"}}}};
}

json::value resource_types(const std::string& base) {
  return json::array{
      json::object{{"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}},
                   {"id", "User"},
                   {"name", "User"},
                   {"endpoint", "/Users"},
                   {"description", "A civil servant: one account for life"},
                   {"schema", kUserSchema},
                   {"schemaExtensions", json::array{json::object{{"schema", kEnterpriseSchema}, {"required", true}},
                                                    json::object{{"schema", kCongvuUserSchema}, {"required", true}}}},
                   {"meta", json::object{{"resourceType", "ResourceType"}, {"location", base + "/ResourceTypes/User"}}}},
      json::object{{"schemas", json::array{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}},
                   {"id", "Group"},
                   {"name", "Group"},
                   {"endpoint", "/Groups"},
                   {"description", "A distribution list or access group"},
                   {"schema", kGroupSchema},
                   {"schemaExtensions", json::array{json::object{{"schema", kCongvuGroupSchema}, {"required", false}}}},
                   {"meta", json::object{{"resourceType", "ResourceType"}, {"location", base + "/ResourceTypes/Group"}}}}};
}

json::value schemas(const std::string& base) {
  std::vector<A> user = {
      {"userName", "string", "readOnly", false, true, {}, "The login: the local part of the primary address, from the address rule"},
      {"externalId", "string", "immutable", false, false, {}, "The staff number"},
      {"name", "complex", "immutable", false, true,
       {{"formatted", "string", "immutable"}, {"familyName", "string", "immutable"}, {"middleName", "string", "immutable"},
        {"givenName", "string", "immutable"}},
       "The full name, family name first"},
      {"displayName", "string", "immutable"},
      {"title", "string", "readWrite", false, false, {}, "The position; changing it is an appointment"},
      {"active", "boolean", "readWrite", false, false, {}, "false suspends, true resumes"},
      {"emails", "complex", "readOnly", true, false, {{"value"}, {"type"}, {"primary", "boolean"}},
       "The primary address (never changes) and aliases"},
      {"groups", "complex", "readOnly", true, false, kRef, "The groups the person belongs to now"},
  };
  std::vector<A> enterprise = {
      {"employeeNumber", "string", "immutable", false, true, {}, "The staff number"},
      {"organization", "string", "readOnly"},
      {"department", "string", "readOnly", false, false, {}, "The current unit's name"},
      {"manager", "complex", "readOnly", false, false, {{"value"}, {"$ref", "reference"}, {"displayName"}},
       "The head of the unit (derived at every read)"},
  };
  std::vector<A> congvu = {
      {"unitCode", "string", "readWrite", false, true, {}, "The current unit; changing it is a transfer", "default", true},
      {"unitName", "string", "readOnly"},
      {"unitPath", "string", "readOnly", true, false, {}, "Unit codes from the province down"},
      {"position", "string", "readWrite", false, true, {}, "The current position (also title)"},
      {"status", "string", "readWrite", false, false, {}, "active, suspended or retired"},
      {"gender", "string", "immutable", false, false, {}, "Personal data: returned to those who manage the person"},
      {"birthDate", "string", "immutable", false, false, {}, "Personal data: returned to those who manage the person"},
      {"assignments", "complex", "readOnly", true, false,
       {{"unitCode"}, {"unitName"}, {"position"}, {"from"}, {"to"}, {"decision"}, {"closedBy"}, {"kind"}},
       "The assignment history, oldest first"},
      {"scheduled", "complex", "readOnly", true, false,
       {{"number", "integer"}, {"kind"}, {"effectiveDate"}, {"unitCode"}, {"position"}, {"decision"}},
       "Changes waiting for their effective date"},
      {"retirement", "complex", "readOnly", false, false, {{"successor"}, {"keepUntil"}}},
      {"change", "complex", "writeOnly", false, false,
       {{"kind", "string", "writeOnly"}, {"decision", "string", "writeOnly"}, {"effectiveDate", "string", "writeOnly"},
        {"reason", "string", "writeOnly"}, {"fromUnitCode", "string", "writeOnly"}, {"successor", "string", "writeOnly"}},
       "How a write applies: kind (transfer, rotation, appointment, suspend, resume, retire), the decision "
       "number, the effective date (a later date schedules it), a reason, the unit the person must be in now, "
       "and a retiring person's successor",
       "never"},
      {"activationCode", "string", "readOnly", false, false, {}, "Returned once, in the answer to a hire", "request"},
      {"activationUrl", "reference", "readOnly", false, false, {}, "Where the activation code is used", "request"},
  };
  std::vector<A> group = {
      {"displayName", "string", "immutable", false, true},
      {"members", "complex", "readWrite", true, false, {{"value", "string", "immutable"}, {"$ref", "reference"}, {"display"}, {"type"}},
       "Static groups: editable; derived groups: the people the rule selects now"},
  };
  std::vector<A> congvu_group = {
      {"name", "string", "immutable", false, false, {}, "[a-z0-9-], the local part of the group's address"},
      {"address", "string", "readOnly"},
      {"kind", "string", "immutable", false, false, {}, "static or derived"},
      {"unitCode", "string", "immutable"},
      {"subtree", "boolean", "immutable"},
      {"positions", "string", "immutable", true},
      {"posting", "string", "immutable", false, false, {}, "members, staff or anyone"},
  };
  return json::array{schema(kUserSchema, "User", "A civil servant", user, base),
                     schema(kEnterpriseSchema, "EnterpriseUser", "Enterprise User", enterprise, base),
                     schema(kCongvuUserSchema, "CongvuUser", "Unit, position, status and history", congvu, base),
                     schema(kGroupSchema, "Group", "Group", group, base),
                     schema(kCongvuGroupSchema, "CongvuGroup", "How a group's members are chosen", congvu_group, base)};
}

}  // namespace congvu::directory::scim
