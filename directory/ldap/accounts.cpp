#include "directory/ldap/accounts.hpp"

#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "common/json.hpp"
#include "directory/directory.hpp"
#include "directory/jose.hpp"
#include "directory/ldap/schema.hpp"

namespace congvu::directory::ldap {
namespace {
constexpr std::uint8_t kServiceV1 = 1;

bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}
}  // namespace

std::string encode(const ServiceAccount& s) {
  codec::Writer w;
  w.u8(kServiceV1).str(s.name).str(s.description).str(s.password_hash).strs(s.attributes).u8(s.retired ? 1 : 0).i64(s.created);
  return w.take();
}

ServiceAccount decode_service(std::string_view v) {
  codec::Reader r(v);
  if (r.u8() != kServiceV1) throw codec::DecodeError("unknown LDAP service record version");
  ServiceAccount s;
  s.name = r.str();
  s.description = r.str();
  s.password_hash = r.str();
  s.attributes = r.strs();
  auto b = r.u8();
  if (b > 1) throw codec::DecodeError("LDAP service retired flag is not 0 or 1");
  s.retired = b == 1;
  s.created = r.i64();
  r.expect_done();
  return s;
}

Result<std::string> add_service(Change& c, ServiceAccount account, bool replace) {
  auto bad = [](const std::string& m) { return make_error(Errc::invalid_argument, m); };
  if (!valid_name(account.name)) return bad("service name '" + account.name + "': use 1-64 of a-z, 0-9 and -");
  if (!replace && find_service(c, account.name))
    return make_error(Errc::conflict, "service '" + account.name + "' exists (use --replace to issue a new password)");
  for (auto& a : account.attributes) {
    Attr id = find_attr(a);
    if (id == Attr::unknown || !attr_type(id).personal)
      return bad("attribute '" + a + "': a service may be granted employeeNumber, congvuBirthDate or congvuGender");
    a = attr_type(id).name;
  }
  std::string password = jose::b64url(crypto::random_string(32));
  account.password_hash = hash_password(password, c.settings().argon2);
  account.created = c.now();
  c.put(schema::ldap_service, account.name, encode(account));
  std::string attrs;
  for (const auto& a : account.attributes) attrs += (attrs.empty() ? "" : ",") + a;
  c.audit(replace ? "ldap.service_replace" : "ldap.service_add", account.name, "",
          json_object({{"attributes", json_quote(attrs)}, {"retired", account.retired ? "true" : "false"}}));
  return password;
}

Status remove_service(Change& c, std::string_view name) {
  if (!find_service(c, name)) return make_error(Errc::not_found, "no LDAP service '" + std::string(name) + "'");
  c.del(schema::ldap_service, name);
  c.audit("ldap.service_remove", std::string(name), "", "{}");
  return ok_status();
}

std::optional<ServiceAccount> find_service(Snapshot& s, std::string_view name) {
  auto v = s.get_raw(schema::ldap_service, name);
  if (!v) return std::nullopt;
  return decode_service(*v);
}

std::vector<ServiceAccount> list_services(Snapshot& s) {
  std::vector<ServiceAccount> out;
  s.scan(schema::ldap_service, "", [&](std::string_view, std::string_view v) {
    out.push_back(decode_service(v));
    return true;
  });
  return out;
}

}  // namespace congvu::directory::ldap
