// SAML service provider administration: `congvu sp add|list|show|remove`.
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.hpp"
#include "common/net/http_client.hpp"
#include "idp/saml/sp.hpp"

namespace congvu::app {
namespace json = boost::json;
using namespace idp::saml;

namespace {

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

std::string sp_json(const ServiceProvider& sp) {
  json::object o;
  o["entity_id"] = sp.entity_id;
  o["name"] = sp.name;
  json::array acs, slo;
  for (const auto& e : sp.acs) acs.emplace_back(json::object{{"location", e.location}, {"index", e.index}, {"default", e.is_default}});
  for (const auto& e : sp.slo) slo.emplace_back(json::object{{"binding", e.binding}, {"location", e.location}});
  o["assertion_consumer_services"] = std::move(acs);
  o["single_logout_services"] = std::move(slo);
  o["signing_certificates"] = sp.signing_certs.size();
  o["encryption_certificate"] = !sp.encryption_cert.empty();
  o["authn_requests_signed"] = sp.authn_requests_signed;
  o["name_id_format"] = sp.name_id_format;
  o["attributes"] = strings(sp.attributes);
  o["encrypt_assertions"] = sp.encrypt_assertions;
  o["idp_initiated"] = sp.idp_initiated;
  if (!sp.default_relay_state.empty()) o["default_relay_state"] = sp.default_relay_state;
  o["logout_events"] = strings(sp.logout_events);
  return json::serialize(o);
}


// The metadata from a file, or from a URL on this machine (loopback only: an admin command
// must not become a way to make the server fetch arbitrary hosts).
std::string read_metadata(const std::string& where, const std::string& ca) {
  if (where.rfind("http://", 0) == 0 || where.rfind("https://", 0) == 0) {
    auto rest = where.substr(where.find("//") + 2);
    if (rest.rfind("127.0.0.1", 0) != 0 && rest.rfind("[::1]", 0) != 0 && rest.rfind("localhost", 0) != 0)
      throw UsageError("--metadata URLs must be on loopback (127.0.0.1, [::1], localhost); download others first");
    auto r = net::http_get(where, std::chrono::seconds(10), ca);
    if (r.status != 200) throw UsageError("cannot fetch " + where + ": " + (r.status ? "HTTP " + std::to_string(r.status) : r.error));
    return r.body;
  }
  std::ifstream in(where, std::ios::binary);
  if (!in) throw UsageError("cannot read " + where);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int cmd_sp(const Argv& argv) {
  Args a(argv, {"--data", "--config", "--metadata", "--name", "--name-id-format", "--attributes", "--relay-state",
                "--logout-events", "--ca"},
         {"--json", "--encrypt", "--idp-initiated", "--require-signed", "--replace"});
  std::string sub = a.positional(0, "a subcommand: add, list, show, remove");
  Env env = open_env(a);
  if (sub == "add") {
    a.max_positionals(1);
    if (!a.has("--metadata")) throw UsageError("sp add needs --metadata FILE|URL");
    std::string where = a.get("--metadata");
    auto sp = parse_metadata(read_metadata(where, a.get("--ca")));
    if (!sp) return fail(env, make_error(Errc::invalid_argument, where + ": " + sp.error().message));
    if (a.has("--name")) sp->name = a.get("--name");
    if (a.has("--name-id-format")) {
      std::string f = a.get("--name-id-format");
      if (f == "persistent") sp->name_id_format = kNameIdPersistent;
      else if (f == "email") sp->name_id_format = kNameIdEmail;
      else if (f == "unspecified") sp->name_id_format = kNameIdUnspecified;
      else if (f == "transient") sp->name_id_format = kNameIdTransient;
      else throw UsageError("--name-id-format must be persistent, email, unspecified or transient");
    }
    if (a.has("--attributes")) sp->attributes = split_commas({a.get("--attributes")});
    if (a.has("--logout-events")) sp->logout_events = split_commas({a.get("--logout-events")});
    sp->encrypt_assertions = a.flag("--encrypt");
    sp->idp_initiated = a.flag("--idp-initiated");
    sp->default_relay_state = a.get("--relay-state");
    if (a.flag("--require-signed")) sp->authn_requests_signed = true;
    auto r = env.dir->write(env.actor, env.now, [&](directory::Change& c) { return add_sp(c, *sp, a.flag("--replace")); });
    if (!r) return fail(env, r.error());
    if (env.json) std::cout << sp_json(*sp) << "\n";
    else std::cout << "added SAML service provider " << sp->entity_id << "\n";
    return 0;
  }
  if (sub == "list") {
    auto all = env.dir->read([](directory::Snapshot& s) { return list_sps(s); });
    if (env.json) {
      std::cout << "[";
      for (std::size_t i = 0; i < all.size(); ++i) std::cout << (i ? "," : "") << sp_json(all[i]);
      std::cout << "]\n";
      return 0;
    }
    for (const auto& sp : all) std::cout << sp.entity_id << "  " << sp.name << "\n";
    return 0;
  }
  if (sub == "show") {
    std::string id = a.positional(1, "the SP's entity ID");
    auto sp = env.dir->read([&](directory::Snapshot& s) { return find_sp(s, id); });
    if (!sp) return fail(env, make_error(Errc::not_found, "no SP '" + id + "'"));
    std::cout << sp_json(*sp) << "\n";
    return 0;
  }
  if (sub == "remove") {
    std::string id = a.positional(1, "the SP's entity ID");
    auto r = env.dir->write(env.actor, env.now, [&](directory::Change& c) { return remove_sp(c, id); });
    if (!r) return fail(env, r.error());
    std::cout << "removed SAML service provider " << id << "\n";
    return 0;
  }
  throw UsageError("unknown sp subcommand '" + sub + "' (add, list, show, remove)");
}

}  // namespace congvu::app
