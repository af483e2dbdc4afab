// `congvu admin init|grant|revoke|list`: the unit-scoped administrative roles
// (directory/hr.hpp). Administrators sign in with a second factor: a grant makes the login page
// ask for TOTP (and enrol it on the next login when the person has none).
#include <iostream>

#include <boost/json.hpp>

#include "app/commands.hpp"
#include "directory/hr.hpp"

namespace congvu::app {
using namespace directory;

int cmd_admin(const Argv& argv) {
  Args a(argv, {"--data", "--config", "--unit", "--decision"}, {"--json"});
  std::string sub = a.positional(0, "a subcommand: init, grant, revoke, list");
  Env env = open_env(a);
  auto resolve = [&](const std::string& who) {
    auto p = env.dir->read([&](Snapshot& s) { return s.resolve(who); });
    if (!p) throw std::runtime_error("no person matches '" + who + "' (give an id, staff number, login or address)");
    return *p;
  };
  auto print_grant = [&](const Grant& g, const std::string& login) {
    if (env.json) {
      boost::json::object o{{"person", g.person.str()}, {"login", login}, {"role", role_name(g.role)},
                            {"unit", g.unit}, {"decision", g.decision}, {"created", rfc3339(g.created)}};
      std::cout << boost::json::serialize(o) << "\n";
    } else {
      std::cout << login << "  " << role_name(g.role) << "  " << g.unit << "  " << g.decision << "\n";
    }
  };
  if (sub == "init") {
    a.max_positionals(2);
    Person p = resolve(a.positional(1, "WHO: the first province administrator"));
    auto r = env.dir->write(env.actor, env.now, [&](Change& c) { return admin_init(c, p.id); });
    if (!r) return fail(env, r.error());
    print_grant(*r, p.login);
    if (!env.json)
      std::cerr << "congvu: " << p.login << " must enrol a second factor (TOTP) at the next login before using the admin page\n";
    return 0;
  }
  if (sub == "grant" || sub == "revoke") {
    a.max_positionals(3);
    Person p = resolve(a.positional(1, "WHO"));
    std::string role_text = a.positional(2, "ROLE: province-admin, hr-admin or auditor");
    auto role = parse_role(role_text);
    if (!role) throw UsageError("ROLE '" + role_text + "' must be province-admin, hr-admin or auditor");
    std::string unit = a.get("--unit");
    if (sub == "grant") {
      auto r = env.dir->write(env.actor, env.now, [&](Change& c) { return grant_role(c, p.id, *role, unit, a.get("--decision")); });
      if (!r) return fail(env, r.error());
      print_grant(*r, p.login);
      return 0;
    }
    auto r = env.dir->write(env.actor, env.now, [&](Change& c) { return revoke_role(c, p.id, *role, unit); });
    if (!r) return fail(env, r.error());
    std::cout << (env.json ? "{\"ok\":true}" : "revoked") << "\n";
    return 0;
  }
  if (sub == "list") {
    a.max_positionals(1);
    auto rows = env.dir->read([](Snapshot& s) {
      std::vector<std::pair<Grant, std::string>> out;
      for (auto& g : list_grants(s)) {
        auto p = s.person(g.person);
        out.emplace_back(std::move(g), p ? p->login : g.person.str());
      }
      return out;
    });
    for (const auto& [g, login] : rows) print_grant(g, login);
    return 0;
  }
  throw UsageError("unknown admin subcommand '" + sub + "'");
}

}  // namespace congvu::app
