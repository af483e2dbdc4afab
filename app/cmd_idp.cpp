// Identity provider administration: `congvu client add|list|show|remove` (OIDC relying
// parties) and `congvu keys list|rotate` (token signing keys).
#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.hpp"
#include "directory/clients.hpp"
#include "directory/factors.hpp"
#include "directory/keys.hpp"

namespace congvu::app {
using namespace directory;
namespace json = boost::json;

namespace {

std::string client_json(const Client& c) {
  json::object o;
  o["client_id"] = c.id;
  o["name"] = c.name;
  o["type"] = c.confidential ? "confidential" : "public";
  o["token_endpoint_auth_method"] = client_auth_name(c.auth);
  auto arr = [](const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
  };
  o["redirect_uris"] = arr(c.redirect_uris);
  o["post_logout_redirect_uris"] = arr(c.post_logout_redirect_uris);
  o["backchannel_logout_uri"] = c.backchannel_logout_uri;
  o["logout_events"] = arr(c.logout_events);
  o["grant_types"] = arr(c.grants);
  o["scopes"] = arr(c.scopes);
  o["claims"] = arr(c.claims);
  o["first_party"] = c.first_party;
  o["require_mfa"] = c.require_mfa;
  o["id_token_signed_response_alg"] = c.id_token_alg;
  if (!c.role.empty()) o["role"] = c.role;
  if (!c.unit.empty()) o["unit"] = c.unit;
  return json::serialize(o);
}


}  // namespace

int cmd_client(const Argv& argv) {
  Args a(argv,
         {"--data", "--config", "--name", "--type", "--auth", "--redirect-uri", "--post-logout-uri",
          "--backchannel-logout-uri", "--logout-events", "--grant", "--scope", "--claim", "--jwk", "--id-token-alg", "--role", "--unit"},
         {"--json", "--first-party", "--require-mfa"});
  std::string sub = a.positional(0, "a subcommand: add, list, show, remove");
  Env env = open_env(a);
  if (sub == "add") {
    a.max_positionals(2);
    Client c;
    c.id = a.positional(1, "the CLIENT_ID");
    c.name = a.get("--name");
    std::string type = a.get("--type", "confidential");
    if (type != "confidential" && type != "public") throw UsageError("--type must be confidential or public");
    c.confidential = type == "confidential";
    if (a.has("--auth")) {
      auto m = parse_client_auth(a.get("--auth"));
      if (!m) throw UsageError("--auth must be client_secret_basic, client_secret_post or private_key_jwt");
      c.auth = *m;
    }
    if (!c.confidential) c.auth = ClientAuth::none;
    if (a.has("--jwk")) {
      std::ifstream in(a.get("--jwk"), std::ios::binary);
      if (!in) throw UsageError("--jwk " + a.get("--jwk") + ": cannot read the file");
      std::stringstream ss;
      ss << in.rdbuf();
      c.jwk = ss.str();
      if (!a.has("--auth")) c.auth = ClientAuth::private_key_jwt;
    }
    c.redirect_uris = a.all("--redirect-uri");
    c.post_logout_redirect_uris = a.all("--post-logout-uri");
    c.backchannel_logout_uri = a.get("--backchannel-logout-uri");
    if (a.has("--logout-events")) c.logout_events = split_commas(a.all("--logout-events"));
    c.grants = split_commas(a.all("--grant"));
    c.scopes = split_commas(a.all("--scope"));
    c.claims = split_commas(a.all("--claim"));
    c.first_party = a.flag("--first-party");
    c.require_mfa = a.flag("--require-mfa");
    c.id_token_alg = a.get("--id-token-alg", "RS256");
    c.role = a.get("--role");
    c.unit = a.get("--unit");
    auto r = env.dir->write(env.actor, env.now, [&](Change& ch) { return add_client(ch, c); });
    if (!r) return fail(env, r.error());
    if (env.json) {
      json::object o;
      o["client_id"] = c.id;
      if (!r->empty()) o["client_secret"] = *r;
      std::cout << json::serialize(o) << "\n";
    } else {
      std::cout << "added client " << c.id << "\n";
      if (!r->empty()) std::cout << "client_secret: " << *r << "\n(shown once: store it now; only its digest is kept)\n";
    }
    return 0;
  }
  if (sub == "list") {
    auto all = env.dir->read([](Snapshot& s) { return list_clients(s); });
    if (env.json) {
      std::cout << "[";
      for (std::size_t i = 0; i < all.size(); ++i) std::cout << (i ? "," : "") << client_json(all[i]);
      std::cout << "]\n";
      return 0;
    }
    for (const auto& c : all)
      std::cout << c.id << "  " << (c.confidential ? "confidential" : "public") << "  " << c.name << "\n";
    return 0;
  }
  if (sub == "show") {
    std::string id = a.positional(1, "the CLIENT_ID");
    auto c = env.dir->read([&](Snapshot& s) { return find_client(s, id); });
    if (!c) return fail(env, make_error(Errc::not_found, "no client '" + id + "'"));
    std::cout << client_json(*c) << "\n";
    return 0;
  }
  if (sub == "remove") {
    std::string id = a.positional(1, "the CLIENT_ID");
    auto r = env.dir->write(env.actor, env.now, [&](Change& ch) { return remove_client(ch, id); });
    if (!r) return fail(env, r.error());
    std::cout << "removed client " << id << "\n";
    return 0;
  }
  throw UsageError("unknown client subcommand '" + sub + "'");
}

int cmd_keys(const Argv& argv) {
  Args a(argv, {"--data", "--config"}, {"--json"});
  std::string sub = a.positional(0, "a subcommand: list, rotate");
  a.max_positionals(1);
  Env env = open_env(a);
  KeyRing ring(load_or_make_key_passphrase(env.cfg.data_dir));
  if (sub == "rotate") {
    auto made = env.dir->write(env.actor, env.now, [&](Change& c) -> Result<std::vector<KeyRecord>> { return ring.rotate(c); });
    if (!made) return fail(env, made.error());
    for (const auto& k : *made) std::cout << "new " << jose::alg_name(k.alg) << " key " << k.kid << "\n";
    std::cout << "the previous keys stay published for " << kRetiredKeepMs / 3600000 << " hours\n";
    return 0;
  }
  if (sub == "list") {
    auto all = env.dir->read([](Snapshot& s) { return KeyRing::records(s); });
    for (const auto& k : all)
      std::cout << k.kid << "  " << jose::alg_name(k.alg) << "  created " << rfc3339(k.created) << "  "
                << (k.retired ? "retired " + rfc3339(k.retired) : std::string("active")) << "\n";
    return 0;
  }
  throw UsageError("unknown keys subcommand '" + sub + "'");
}

}  // namespace congvu::app

namespace congvu::app {

// `congvu app-password add WHO --name N | list WHO | remove WHO ID`: app passwords for mail
// clients (the self-service page offers the same).
int cmd_app_password(const Argv& argv) {
  Args a(argv, {"--data", "--config", "--name"}, {"--json"});
  std::string sub = a.positional(0, "a subcommand: add, list, remove");
  std::string who = a.positional(1, "WHO");
  Env env = open_env(a);
  auto person = env.dir->read([&](directory::Snapshot& s) { return s.resolve(who); });
  if (!person) return fail(env, make_error(Errc::not_found, "no person '" + who + "'"));
  if (sub == "add") {
    a.max_positionals(2);
    directory::AppPassword made;
    auto r = env.dir->write(env.actor, env.now, [&](directory::Change& c) {
      return directory::add_app_password(c, person->id, a.require("--name"), &made);
    });
    if (!r) return fail(env, r.error());
    if (env.json) std::cout << "{\"id\":\"" << made.id << "\",\"password\":\"" << *r << "\"}\n";
    else std::cout << "app password " << made.id << " for " << person->address << ": " << *r << "\n(shown once)\n";
    return 0;
  }
  if (sub == "list") {
    a.max_positionals(2);
    for (const auto& p : env.dir->read([&](directory::Snapshot& s) { return directory::app_passwords(s, person->id); }))
      std::cout << p.id << "  " << rfc3339(p.created) << "  " << p.name << "\n";
    return 0;
  }
  if (sub == "remove") {
    a.max_positionals(3);
    std::string id = a.positional(2, "the app password ID");
    auto r = env.dir->write(env.actor, env.now, [&](directory::Change& c) { return directory::remove_app_password(c, person->id, id); });
    if (!r) return fail(env, r.error());
    std::cout << "removed app password " << id << "\n";
    return 0;
  }
  throw UsageError("unknown app-password subcommand '" + sub + "'");
}

}  // namespace congvu::app

namespace congvu::app {

// `congvu person reset-code WHO [--hours N]`: a one-time code with which the person sets a new
// password on /login/reset (printed once; the HR admin hands it over in person).
int cmd_reset_code(const Argv& argv) {
  Args a(argv, {"--data", "--config", "--hours"}, {"--json"});
  std::string who = a.positional(0, "WHO");
  a.max_positionals(1);
  Env env = open_env(a);
  long hours = 24;
  try {
    hours = std::stol(a.get("--hours", "24"));
  } catch (...) {
    throw UsageError("--hours must be a number from 1 to 168");
  }
  if (hours < 1 || hours > 168) throw UsageError("--hours must be a number from 1 to 168");
  auto person = env.dir->read([&](directory::Snapshot& s) { return s.resolve(who); });
  if (!person) return fail(env, make_error(Errc::not_found, "no person '" + who + "'"));
  auto code = env.dir->write(env.actor, env.now, [&](directory::Change& c) {
    return directory::issue_reset_code(c, person->id, static_cast<UnixMs>(hours) * 3600 * 1000);
  });
  if (!code) return fail(env, code.error());
  if (env.json) std::cout << "{\"code\":\"" << *code << "\",\"hours\":" << hours << "}\n";
  else std::cout << "one-time code for " << person->address << ": " << *code << " (valid " << hours
                 << " h, at https://<server>/login/reset)\n";
  return 0;
}

}  // namespace congvu::app
