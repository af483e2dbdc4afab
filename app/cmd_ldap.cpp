// `congvu ldap service add|list|remove`: the LDAP service accounts (directory/ldap/accounts.hpp).
#include <iostream>

#include <boost/json.hpp>

#include "app/commands.hpp"
#include "directory/ldap/accounts.hpp"

namespace congvu::app {

namespace {

std::string service_json(const directory::ldap::ServiceAccount& s, const std::string& base) {
  namespace json = boost::json;
  json::object o;
  o["name"] = s.name;
  o["dn"] = "cn=" + s.name + ",ou=services," + base;
  o["description"] = s.description;
  json::array attrs;
  for (const auto& a : s.attributes) attrs.emplace_back(a);
  o["attributes"] = std::move(attrs);
  o["retired"] = s.retired;
  o["created"] = rfc3339(s.created);
  return json::serialize(o);
}

std::string base_dn(const std::string& domain) {
  std::string out;
  std::size_t i = 0;
  while (i <= domain.size()) {
    auto j = domain.find('.', i);
    if (j == std::string::npos) j = domain.size();
    out += (out.empty() ? "dc=" : ",dc=") + domain.substr(i, j - i);
    i = j + 1;
  }
  return out;
}

}  // namespace

int cmd_ldap(const Argv& argv) {
  Args a(argv, {"--data", "--config", "--attributes", "--description"}, {"--json", "--retired", "--replace"});
  std::string what = a.positional(0, "service");
  if (what != "service") throw UsageError("unknown ldap subcommand '" + what + "' (service)");
  std::string sub = a.positional(1, "a subcommand: add, list, remove");
  Env env = open_env(a);
  std::string base = base_dn(env.cfg.directory.domain);
  if (sub == "add") {
    a.max_positionals(3);
    directory::ldap::ServiceAccount s;
    s.name = a.positional(2, "the service's NAME");
    s.description = a.get("--description");
    s.attributes = split_commas(a.all("--attributes"));
    s.retired = a.flag("--retired");
    auto r = env.dir->write(env.actor, env.now, [&](directory::Change& c) {
      return directory::ldap::add_service(c, s, a.flag("--replace"));
    });
    if (!r) return fail(env, r.error());
    if (env.json) {
      std::cout << "{\"dn\":\"cn=" << s.name << ",ou=services," << base << "\",\"password\":\"" << *r << "\"}\n";
    } else {
      std::cout << "bind DN:  cn=" << s.name << ",ou=services," << base << "\n"
                << "password: " << *r << "\n(shown once; only its Argon2id hash is kept)\n";
    }
    return 0;
  }
  if (sub == "list") {
    a.max_positionals(2);
    auto all = env.dir->read([](directory::Snapshot& s) { return directory::ldap::list_services(s); });
    if (env.json) {
      std::cout << "[";
      for (std::size_t i = 0; i < all.size(); ++i) std::cout << (i ? "," : "") << service_json(all[i], base);
      std::cout << "]\n";
      return 0;
    }
    for (const auto& s : all) {
      std::string attrs;
      for (const auto& x : s.attributes) attrs += (attrs.empty() ? "" : ",") + x;
      std::cout << s.name << "  cn=" << s.name << ",ou=services," << base << (attrs.empty() ? "" : "  reads " + attrs)
                << (s.retired ? "  sees retired people" : "") << "\n";
    }
    return 0;
  }
  if (sub == "remove") {
    a.max_positionals(3);
    std::string name = a.positional(2, "the service's NAME");
    auto r = env.dir->write(env.actor, env.now, [&](directory::Change& c) { return directory::ldap::remove_service(c, name); });
    if (!r) return fail(env, r.error());
    std::cout << "removed LDAP service " << name << "\n";
    return 0;
  }
  throw UsageError("unknown ldap service subcommand '" + sub + "' (add, list, remove)");
}

}  // namespace congvu::app
