// The admin console on the in-memory demo province, with a signed-in admin: the IdP's SSO
// session and the console's session are stored as a real sign-in would leave them (the OIDC
// round trip itself is exercised by tests/integration/test_admin.py). For the console's unit
// tests and its fuzz target.
#pragma once

#include <memory>
#include <regex>
#include <stdexcept>
#include <string>

#include "admin/console.hpp"
#include "admin/session.hpp"
#include "directory/hr.hpp"
#include "directory/keys.hpp"
#include "idp/provider.hpp"
#include "idp/store.hpp"
#include "tests/support/demo_world.hpp"

namespace congvu::test {

struct ConsoleWorld {
  static constexpr UnixMs kNow = 1795280400000;  // 2026-11-22
  static constexpr const char* kIssuer = "https://sso.test";

  // `login` holds `role` over `unit` and is signed in.
  ConsoleWorld(const std::string& login = "hapt", directory::Role role = directory::Role::hr_admin,
               const std::string& unit = "000.00.02.H99")
      : w(kNow) {
    auto ok = w.dir->write(directory::Actor{"test"}, kNow, [&](directory::Change& c) -> Status {
      if (!keys.ensure(c)) return make_error(Errc::io, "keys");
      auto p = c.by_login(login);
      if (!p) return make_error(Errc::not_found, login);
      admin = *p;
      if (auto g = directory::grant_role(c, p->id, role, unit, "1/QĐ"); !g) return g.error();
      idp::SsoSession sso{"sid-1", p->id, kNow, kNow, kNow, kNow + 10LL * 3600 * 1000, "pwd otp", {}, false, {}};
      idp::put_session(c, sso_cookie, sso);
      admin::ConsoleSession s{p->id, idp::secret_key(sso_cookie), "sid-1", "pwd otp", kNow, kNow, kNow + 8LL * 3600 * 1000};
      c.put(directory::schema::admin_session, admin::session_key(cookie), admin::encode(s));
      return ok_status();
    });
    if (!ok) throw std::runtime_error(ok.error().message);
    if (!admin::Console::register_client(*w.dir, kIssuer, kNow)) throw std::runtime_error("register_client");
    idp::ProviderConfig pc;
    pc.issuer = kIssuer;
    pc.csrf_key = "idp csrf key for tests 0123456789";
    pc.factor_key = std::string(32, 'k');
    provider = std::make_unique<idp::Provider>(*w.dir, keys, pc);
    console = std::make_unique<admin::Console>(*w.dir, *provider, admin::ConsoleConfig{kIssuer, "console key for tests"});
    auto home = console->handle(get("/admin"), kNow);
    std::smatch m;
    if (!home || !std::regex_search(home->body, m, std::regex("name=\"csrf\" value=\"([^\"]+)\"")))
      throw std::runtime_error("no csrf on the console's first page");
    csrf = m[1];
  }

  net::HttpRequest get(const std::string& target, const std::string& with_cookie = "") const {
    net::HttpRequest r{"GET", target, {}, "", "192.0.2.1"};
    std::string ck = with_cookie.empty() ? cookie : with_cookie;
    r.headers["cookie"] = "__Host-congvu=" + sso_cookie + "; __Host-congvu-admin=" + ck;
    return r;
  }
  net::HttpRequest post(const std::string& target, const std::string& body) const {
    auto r = get(target);
    r.method = "POST";
    r.headers["content-type"] = "application/x-www-form-urlencoded";
    r.body = body;
    return r;
  }
  std::uint64_t audit_head() { return w.dir->read([](directory::Snapshot& s) { return s.audit_head_seq(); }); }
  directory::Person person(const std::string& login) {
    return w.dir->read([&](directory::Snapshot& s) { return *s.by_login(login); });
  }

  DemoWorld w;
  directory::KeyRing keys{"console test passphrase 0123456789"};
  std::unique_ptr<idp::Provider> provider;
  std::unique_ptr<admin::Console> console;
  directory::Person admin;
  std::string sso_cookie = "sso-cookie-secret-0123456789", cookie = "S.console-cookie-secret-0123456789";
  std::string csrf;
};

}  // namespace congvu::test
