// The SCIM service over arbitrary requests, on the in-memory demo province, as a
// province-administrator client: the filter parser and evaluator, list parameters, JSON bodies
// of POST/PUT/PATCH/Bulk. No crash; every answer is JSON (or empty); a refused request (status
// 400 and above) leaves the audit chain as it was. The first byte picks the request and where
// the input splits into query and body.
#include <cstdint>
#include <string>

#include <boost/json.hpp>

#include "directory/clients.hpp"
#include "directory/keys.hpp"
#include "directory/scim/scim.hpp"
#include "directory/tokens.hpp"
#include "tests/support/demo_world.hpp"

namespace {

using namespace congvu;
constexpr UnixMs kNow = 1795280400000;

struct World {
  test::DemoWorld w;
  directory::KeyRing keys{"fuzz passphrase 0123456789"};
  std::unique_ptr<directory::scim::Service> scim;
  std::string token, someone;
  World() {
    auto made = w.dir->write(directory::Actor{"fuzz"}, kNow, [&](directory::Change& c) -> Result<bool> { return keys.ensure(c); });
    if (!made) __builtin_trap();
    w.dir->enable_tokens(&keys, "https://sso.test");
    directory::Client c;
    c.id = "fuzz";
    c.grants = {"client_credentials"};
    c.scopes = {"scim:read", "scim:write"};
    c.role = "province-admin";
    if (!w.dir->write(directory::Actor{"fuzz"}, kNow, [&](directory::Change& ch) { return directory::add_client(ch, c); })) __builtin_trap();
    directory::AccessToken t;
    t.issuer = "https://sso.test";
    t.subject = t.client_id = "fuzz";
    t.audience = {directory::kAudScim};
    t.scope = "scim:read scim:write";
    t.jti = "fuzz";
    t.issued = kNow;
    t.expires = kNow + 3600000;
    auto key = w.dir->read([&](directory::Snapshot& s) { return keys.active(s, directory::jose::Alg::RS256); });
    token = directory::issue_access_token(*key, t);
    someone = w.dir->read([](directory::Snapshot& s) { return s.by_login("annv")->id.str(); });
    scim = std::make_unique<directory::scim::Service>(*w.dir, "https://sso.test");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  if (size < 1 || size > 65536) return 0;
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t cut = (data[0] >> 3) * (in.size() + 1) / 32;
  std::string query = in.substr(0, cut), body = in.substr(cut);
  net::HttpRequest r;
  r.headers["authorization"] = "Bearer " + world.token;
  r.headers["content-type"] = "application/scim+json";
  r.peer = "192.0.2.1";
  switch (data[0] & 7) {
    case 0: r.method = "GET"; r.target = "/scim/v2/Users?" + query; break;
    case 1: r.method = "GET"; r.target = "/scim/v2/Groups?" + query; break;
    case 2: r.method = "POST"; r.target = "/scim/v2/Users/.search"; r.body = in; break;
    case 3: r.method = "POST"; r.target = "/scim/v2/Users"; r.body = in; break;
    case 4: r.method = "PATCH"; r.target = "/scim/v2/Users/" + world.someone; r.body = in; break;
    case 5: r.method = "PUT"; r.target = "/scim/v2/Users/" + world.someone; r.body = in; break;
    case 6: r.method = "POST"; r.target = "/scim/v2/Bulk"; r.body = in; break;
    default: r.method = "PATCH"; r.target = "/scim/v2/Groups/" + query; r.body = body; break;
  }
  auto head = world.w.dir->read([](directory::Snapshot& s) { return s.audit_head_seq(); });
  auto res = world.scim->handle(r, kNow + 1000);
  if (!res) __builtin_trap();
  if (!res->body.empty()) {
    boost::system::error_code ec;
    (void)boost::json::parse(res->body, ec);
    if (ec) __builtin_trap();
  }
  auto after = world.w.dir->read([](directory::Snapshot& s) { return s.audit_head_seq(); });
  if (res->status >= 400 && after != head) __builtin_trap();
  return 0;
}
