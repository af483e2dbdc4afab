// Directory administration subcommands: import, events, person, unit, group, audit, check.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.hpp"
#include "app/output.hpp"
#include "common/json.hpp"
#include "common/text.hpp"
#include "directory/hr.hpp"
#include "directory/import.hpp"

namespace congvu::app {
using namespace directory;

namespace {

const std::set<std::string> kCommonValued = {"--data", "--config"};
const std::set<std::string> kCommonFlags = {"--json"};

std::set<std::string> with(std::set<std::string> base, std::initializer_list<std::string> more) {
  base.insert(more);
  return base;
}

CsvFile read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read the file (check the path and permissions)");
  std::stringstream ss;
  ss << in.rdbuf();
  return {path, ss.str()};
}

std::string unix_user() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): CLI commands read the environment before any thread starts
  if (const char* u = std::getenv("USER"); u && *u) return u;
  return "uid" + std::to_string(getuid());
}

Person must_resolve(Env& env, const std::string& who) {
  auto p = env.dir->read([&](Snapshot& s) { return s.resolve(who); });
  if (!p) throw std::runtime_error("no person matches '" + who + "' (give an id, staff number, login or address)");
  return *p;
}

void print_person(Env& env, const Person& p) {
  auto [history, unit_name] = env.dir->read([&](Snapshot& s) {
    auto u = p.unit.empty() ? std::nullopt : s.unit(p.unit);
    return std::make_pair(s.history(p.id), u ? u->name : std::string());
  });
  if (env.json) std::cout << person_json(p, &history, true) << "\n";
  else std::cout << person_text(p, history, unit_name);
}

template <class T>
int report(Env& env, const Result<T>& r, const std::function<void(const T&)>& print) {
  if (!r) return fail(env, r.error());
  print(r.value());
  return 0;
}

std::string today(const Env& env) { return vn_date(env.now); }

}  // namespace

config::Config load_env_config(const Args& a) {
  config::Config cfg;
  if (a.has("--config")) {
    auto r = config::load_config(a.get("--config"));
    if (!r) throw UsageError(r.error().message);
    cfg = r.value();
  }
  if (a.has("--data")) cfg.data_dir = a.get("--data");
  return cfg;
}

Env open_env(const Args& a) {
  Env env;
  env.cfg = load_env_config(a);
  env.store = open_store(env.cfg.data_dir, env.cfg.directory.map_size_mb);
  env.dir = std::make_unique<Directory>(*env.store, Settings(env.cfg.directory));
  env.actor = Actor{"cli:" + unix_user()};
  env.now = system_now_ms();
  env.json = a.flag("--json");
  return env;
}

int fail(const Env& env, const Error& e) {
  if (env.json) std::cout << error_json(e) << "\n";
  std::cerr << "congvu: " << e.message << "\n";
  return 1;
}

int cmd_import(const Argv& argv) {
  Args a(argv, with(kCommonValued, {"--units", "--staff", "--credentials", "--since", "--domain", "--under", "--recode", "--staff-prefix"}),
         kCommonFlags);
  a.max_positionals(0);
  if (!a.has("--units") && !a.has("--staff") && !a.has("--credentials"))
    throw UsageError("give --units FILE, --staff FILE and/or --credentials FILE");
  std::optional<CsvFile> units, staff, creds;
  if (a.has("--units")) units = read_file(a.get("--units"));
  if (a.has("--staff")) staff = read_file(a.get("--staff"));
  if (a.has("--credentials")) creds = read_file(a.get("--credentials"));
  std::string since = a.get("--since");
  if (!since.empty() && !valid_date(since)) throw UsageError("--since must be a date YYYY-MM-DD");
  std::optional<MergeImport> merge;
  if (a.has("--domain")) {  // another province merged into this one
    if (!units || !staff) throw UsageError("a merge import (--domain) needs both --units and --staff of the other province");
    merge = MergeImport{a.get("--domain"), a.get("--under"), "", "", a.get("--staff-prefix")};
    if (a.has("--recode")) {
      std::string spec = a.get("--recode");
      auto eq = spec.find('=');
      if (eq == std::string::npos || eq == 0) throw UsageError("--recode takes FROM=TO, the end of the unit codes to rewrite (e.g. H99=H30)");
      merge->recode_from = spec.substr(0, eq);
      merge->recode_to = spec.substr(eq + 1);
    }
  } else if (a.has("--under") || a.has("--recode") || a.has("--staff-prefix")) {
    throw UsageError("--under, --recode and --staff-prefix belong to a merge import: give --domain of the other province");
  }
  Env env = open_env(a);
  auto r = env.dir->write(env.actor, env.now, [&](Change& c) {
    if (merge) return import_merge(c, *units, *staff, creds ? &*creds : nullptr, *merge, since);
    return import_csv(c, units ? &*units : nullptr, staff ? &*staff : nullptr, creds ? &*creds : nullptr, since);
  });
  return report<ImportReport>(env, r, [&](const ImportReport& rep) {
    if (env.json) std::cout << import_json(rep) << "\n";
    else
      std::cout << "imported " << rep.units_added << " units (" << rep.units_unchanged << " unchanged), "
                << rep.people_added << " people, " << rep.credentials << " credentials"
                << (merge ? ", " + std::to_string(rep.aliases) + " old addresses kept as aliases (" +
                                std::to_string(rep.addresses_changed) + " people got another local part here, " +
                                std::to_string(rep.slugs_changed) + " unit slugs changed)"
                          : std::string())
                << "\n";
  });
}

int cmd_events(const Argv& argv) {
  Args a(argv, with(kCommonValued, {"--as-of", "--reason"}), with(kCommonFlags, {"--stop-on-error"}));
  std::string sub = a.positional(0, "a subcommand: apply FILE | pending | cancel NUMBER | run-due | proposals | accept NUMBER | refuse NUMBER --reason R");
  Env env = open_env(a);
  if (sub == "pending") {
    a.max_positionals(1);
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    auto listing = env.dir->read([](Snapshot& s) { return std::make_pair(pending_events(s), scheduled_changes(s)); });
    const auto& pending = listing.first;
    const auto& scheduled = listing.second;
    auto names = env.dir->read([&](Snapshot& s) {
      std::vector<std::string> out;
      for (const auto& sc : scheduled) {
        auto p = s.person(sc.change.person);
        out.push_back(p ? p->staff_no + "  " + p->full_name : sc.change.person.str());
      }
      return out;
    });
    if (env.json) {
      std::cout << "{\"events\":" << pending_json(pending) << ",\"scheduled\":" << scheduled_json(scheduled, names) << "}\n";
      return 0;
    }
    for (std::size_t i = 0; i < scheduled.size(); ++i) {
      const auto& c = scheduled[i].change;
      std::cout << "change " << scheduled[i].number << "  " << c.date << "  " << names[i] << "  " << life_kind_name(c.kind)
                << "  " << c.to_unit << "  " << c.position << "  " << c.decision << "  (by " << scheduled[i].actor << ")\n";
    }
    for (const auto& e : pending)
      std::cout << "event " << e.seq << "  " << e.date << "  " << e.staff_no << "  " << e.kind << "  " << e.to_unit << "  "
                << e.position << "  " << e.decision << "\n";
    std::cerr << scheduled.size() << " scheduled changes, " << pending.size() << " pending events\n";
    return 0;
  }
  if (sub == "cancel") {
    a.max_positionals(2);
    std::string n = a.positional(1, "the scheduled change's NUMBER");
    if (n.empty() || n.size() > 18 || n.find_first_not_of("0123456789") != std::string::npos)
      throw UsageError("NUMBER must be the number `events pending` shows");
    auto who = Authority::root(env.actor.name);
    auto r = env.dir->write(env.actor, env.now, [&](Change& c) { return cancel_scheduled(c, who, std::stoull(n)); });
    if (!r) return fail(env, r.error());
    std::cout << (env.json ? "{\"ok\":true}" : "cancelled") << "\n";
    return 0;
  }
  if (sub == "proposals") {
    // Moves into a unit their proposer does not cover, waiting for the receiving unit.
    a.max_positionals(1);
    auto list = env.dir->read([](Snapshot& s) { return proposals(s); });
    if (env.json) {
      std::cout << "[";
      for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& c = list[i].change;
        std::cout << (i ? "," : "")
                  << json_object({{"number", std::to_string(list[i].number)}, {"person", c.person.str()},
                                  {"kind", life_kind_name(c.kind)}, {"from_unit", c.expect_from}, {"to_unit", c.to_unit},
                                  {"position", c.position}, {"date", c.date}, {"decision", c.decision},
                                  {"proposer", list[i].actor}});
      }
      std::cout << "]\n";
    } else {
      for (const auto& p : list)
        std::cout << "proposal " << p.number << "  " << p.change.date << "  " << p.change.person.str() << "  "
                  << life_kind_name(p.change.kind) << "  " << p.change.expect_from << " -> " << p.change.to_unit << "  "
                  << p.change.position << "  " << p.change.decision << "  (by " << p.actor << ")\n";
      std::cerr << list.size() << " proposals\n";
    }
    return 0;
  }
  if (sub == "accept" || sub == "refuse") {
    a.max_positionals(2);
    std::string n = a.positional(1, "the proposal's NUMBER");
    if (n.empty() || n.size() > 18 || n.find_first_not_of("0123456789") != std::string::npos)
      throw UsageError("NUMBER must be the number `events proposals` shows");
    auto who = Authority::root(env.actor.name);
    std::string reason = a.get("--reason");
    if (sub == "refuse" && reason.empty()) throw UsageError("refuse needs --reason: the proposer reads it");
    auto r = env.dir->write(env.actor, env.now, [&](Change& c) -> Status {
      if (sub == "refuse") return refuse_proposal(c, who, std::stoull(n), reason);
      auto done = accept_proposal(c, who, std::stoull(n), today(env));
      if (!done) return done.error();
      return ok_status();
    });
    if (!r) return fail(env, r.error());
    std::cout << (env.json ? "{\"ok\":true}" : (sub == "accept" ? "accepted" : "refused")) << "\n";
    return 0;
  }
  if (sub == "run-due") {
    // What the server does every minute: apply what has come due (today or earlier).
    a.max_positionals(1);
    auto rep = run_due(*env.dir, today(env), env.now);
    for (const auto& [n, why] : rep.failed) std::cerr << "congvu: " << n << ": " << why << "\n";
    if (env.json) std::cout << "{\"applied\":" << rep.applied << ",\"failed\":" << rep.failed.size() << "}\n";
    else std::cout << "applied " << rep.applied << ", failed " << rep.failed.size() << "\n";
    return rep.failed.empty() ? 0 : 1;
  }
  if (sub != "apply") throw UsageError("unknown events subcommand '" + sub + "'");
  a.max_positionals(2);
  CsvFile file = read_file(a.positional(1, "the events file"));
  std::string as_of = a.get("--as-of", today(env));
  bool stop = a.flag("--stop-on-error");
  auto r = env.dir->write(env.actor, env.now, [&](Change& c) { return apply_events(c, file, as_of, stop); });
  if (!r) return fail(env, r.error());
  const auto& rep = r.value();
  if (env.json) {
    std::cout << events_json(rep) << "\n";
  } else {
    for (const auto& f : rep.failed) std::cerr << file.name << ": seq " << f.seq << ": " << f.message << "\n";
    std::cout << "applied " << rep.applied << ", pending " << rep.pending << " (after " << as_of << "), already applied "
              << rep.already_applied << ", failed " << rep.failed.size() << "\n";
  }
  return rep.failed.empty() ? 0 : 1;
}

int cmd_person(const Argv& argv) {
  Args a(argv,
         with(kCommonValued, {"--unit", "--status", "--limit", "--name", "--staff-no", "--position", "--decision",
                              "--date", "--to", "--reason", "--gender", "--birth-date", "--successor"}),
         with(kCommonFlags, {"--no-subtree", "--rotation", "--password-stdin"}));
  std::string sub = a.positional(0, "a subcommand: show, find, hire, transfer, appoint, suspend, resume, retire, passwd");
  Env env = open_env(a);
  auto print = [&](const Person& p) { print_person(env, p); };
  std::string date = a.get("--date", today(env));

  if (sub == "show") {
    a.max_positionals(2);
    print(must_resolve(env, a.positional(1, "WHO")));
    return 0;
  }
  if (sub == "find") {
    a.max_positionals(2);
    SearchQuery q;
    q.text = a.positional(1, "the QUERY (use \"\" to list)");
    q.unit = a.get("--unit");
    q.subtree = !a.flag("--no-subtree");
    std::string st = a.get("--status", "active");
    if (st == "any") q.status.reset();
    else if (auto s = parse_status(st)) q.status = *s;
    else throw UsageError("--status must be active, suspended, retired or any");
    try {
      q.limit = std::stoul(a.get("--limit", "50"));
    } catch (...) {
      throw UsageError("--limit must be a number");
    }
    if (!q.unit.empty() && !env.dir->read([&](Snapshot& s) { return s.unit(q.unit).has_value(); }))
      return fail(env, make_error(Errc::not_found, "unit " + q.unit + " does not exist"));
    auto people = env.dir->read([&](Snapshot& s) { return s.search(q); });
    if (env.json) {
      std::cout << people_json(people) << "\n";
    } else {
      for (const auto& p : people)
        std::cout << p.staff_no << "  " << p.address << "  " << p.full_name << "  " << p.unit << "  " << p.position
                  << (p.status == PersonStatus::active ? "" : std::string("  [") + status_name(p.status) + "]") << "\n";
    }
    return 0;
  }
  if (sub == "hire") {
    a.max_positionals(1);
    HireSpec h;
    h.full_name = a.require("--name");
    h.staff_no = a.require("--staff-no");
    h.unit = a.require("--unit");
    h.position = a.require("--position");
    h.decision = a.get("--decision");
    h.gender = a.get("--gender");
    h.birth_date = a.get("--birth-date");
    h.date = date;
    if (!text::valid_utf8(h.full_name)) throw UsageError("--name is not valid UTF-8");
    return report<Person>(env, env.dir->write(env.actor, env.now, [&](Change& c) { return c.hire(h); }), print);
  }
  if (sub == "transfer" || sub == "appoint" || sub == "suspend" || sub == "resume" || sub == "retire") {
    // Through directory/hr.hpp, as the admin page and SCIM do: a later --date schedules it.
    a.max_positionals(2);
    LifeChange lc;
    lc.person = must_resolve(env, a.positional(1, "WHO")).id;
    lc.date = date;
    lc.reason = a.get("--reason");
    if (sub == "transfer") {
      lc.kind = a.flag("--rotation") ? LifeKind::rotation : LifeKind::transfer;
      lc.to_unit = a.require("--to");
      lc.position = a.get("--position");
      lc.decision = a.require("--decision");
    } else if (sub == "appoint") {
      lc.kind = LifeKind::appointment;
      lc.to_unit = a.get("--unit");
      lc.position = a.require("--position");
      lc.decision = a.require("--decision");
    } else if (sub == "retire") {
      lc.kind = LifeKind::retire;
      lc.decision = a.require("--decision");
      lc.successor = a.get("--successor");
    } else {
      lc.kind = sub == "suspend" ? LifeKind::suspend : LifeKind::resume;
      lc.decision = a.get("--decision");
    }
    auto who = Authority::root(env.actor.name);
    auto r = env.dir->write(env.actor, env.now, [&](Change& c) { return apply_change(c, who, lc, today(env)); });
    if (!r) return fail(env, r.error());
    if (r->scheduled) {
      if (env.json) std::cout << "{\"scheduled\":" << r->number << ",\"date\":\"" << lc.date << "\"}\n";
      else std::cout << "scheduled as change " << r->number << " for " << lc.date << " (congvu events pending)\n";
      return 0;
    }
    print(*r->person);
    return 0;
  }
  if (sub == "passwd") {
    a.max_positionals(2);
    if (!a.flag("--password-stdin"))
      throw UsageError("passwd reads the new password from standard input: give --password-stdin");
    auto id = must_resolve(env, a.positional(1, "WHO")).id;
    std::string pw;
    std::getline(std::cin, pw);
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
    if (auto s = check_new_password(pw); !s) return fail(env, s.error());
    auto r = env.dir->write(env.actor, env.now, [&](Change& c) { return c.set_password(id, pw); });
    if (!r) return fail(env, r.error());
    if (env.json) std::cout << "{\"ok\":true}\n";
    else std::cout << "password changed\n";
    return 0;
  }
  throw UsageError("unknown person subcommand '" + sub + "'");
}

int cmd_unit(const Argv& argv) {
  Args a(argv, with(kCommonValued, {"--code", "--parent", "--kind", "--name", "--slug", "--depth", "--decision", "--date", "--reason", "--into"}),
         with(kCommonFlags, {"--dry-run"}));
  std::string sub = a.positional(0, "a subcommand: show, add, tree, reorganise, merge, rename, recode, reparent");
  Env env = open_env(a);
  if (sub == "reorganise" || sub == "merge" || sub == "rename" || sub == "recode" || sub == "reparent")
    return cmd_unit_reorganise(env, a, sub);
  if (sub == "show") {
    a.max_positionals(2);
    std::string code = a.positional(1, "the unit CODE");
    auto [u, holders, members] = env.dir->read([&](Snapshot& s) {
      return std::make_tuple(s.unit(code), s.role_holders(code), s.members(code, false).size());
    });
    if (!u) return fail(env, make_error(Errc::not_found, "unit " + code + " does not exist"));
    if (env.json) {
      std::cout << unit_json(*u, &holders) << "\n";
    } else {
      std::cout << u->name << "  (" << u->code << ", " << kind_name(u->kind) << ")\n"
                << "  parent        " << (u->parent.empty() ? "-" : u->parent) << "\n"
                << "  role mailbox  " << u->role_address << "\n"
                << "  members       " << members << "\n";
      if (!u->dissolved.empty())
        std::cout << "  dissolved     " << u->dissolved << " by " << u->dissolved_by << ", succeeded by " << u->successor << "\n";
      for (const auto& p : holders) std::cout << "  holder        " << p.address << "  " << p.full_name << "  " << p.position << "\n";
    }
    return 0;
  }
  if (sub == "add") {
    a.max_positionals(1);
    NewUnit nu;
    nu.code = a.require("--code");
    nu.parent = a.get("--parent");
    auto kind = parse_kind(a.require("--kind"));
    if (!kind) throw UsageError("--kind must be province, department, district, division or commune");
    nu.kind = *kind;
    nu.name = a.require("--name");
    nu.slug = a.require("--slug");
    return report<Unit>(env, env.dir->write(env.actor, env.now, [&](Change& c) { return c.add_unit(nu); }),
                        [&](const Unit& u) {
                          if (env.json) std::cout << unit_json(u, nullptr) << "\n";
                          else std::cout << "added " << u.code << " " << u.name << " <" << u.role_address << ">\n";
                        });
  }
  if (sub == "tree") {
    a.max_positionals(2);
    std::string root = a.positionals().size() > 1 ? a.positionals()[1] : "";
    int depth = std::stoi(a.get("--depth", "99"));
    env.dir->read([&](Snapshot& s) {
      std::function<void(const Unit&, int)> walk = [&](const Unit& u, int d) {
        if (env.json) std::cout << unit_json(u, nullptr) << "\n";
        else std::cout << std::string(static_cast<std::size_t>(d) * 2, ' ') << u.code << "  " << u.name << "\n";
        if (d + 1 < depth)
          for (const auto& c : s.children(u.code)) walk(c, d + 1);
      };
      if (!root.empty()) {
        auto u = s.unit(root);
        if (!u) throw std::runtime_error("unit " + root + " does not exist");
        walk(*u, 0);
      } else {
        for (const auto& u : s.children("")) walk(u, 0);
      }
      return 0;
    });
    return 0;
  }
  throw UsageError("unknown unit subcommand '" + sub + "'");
}

int cmd_group(const Argv& argv) {
  Args a(argv, with(kCommonValued, {"--title", "--unit", "--position", "--posting", "--sender"}), with(kCommonFlags, {"--static", "--no-subtree"}));
  std::string sub = a.positional(0, "a subcommand: add, show, list, add-member");
  Env env = open_env(a);
  if (sub == "add") {
    a.max_positionals(2);
    Group g;
    g.name = a.positional(1, "the group NAME");
    g.title = a.get("--title");
    g.kind = a.flag("--static") ? GroupKind::static_members : GroupKind::unit_derived;
    g.unit = a.get("--unit");
    g.subtree = !a.flag("--no-subtree");
    g.positions = a.all("--position");
    if (a.has("--posting")) {
      auto p = parse_posting(a.get("--posting"));
      if (!p) throw UsageError("--posting must be members, staff or anyone");
      g.posting = *p;
    }
    for (const auto& who : a.all("--sender")) {
      auto person = env.dir->read([&](Snapshot& s) { return s.resolve(who); });
      if (!person) return fail(env, make_error(Errc::not_found, "--sender " + who + ": no such person"));
      g.senders.push_back(person->id.str());
    }
    return report<Group>(env, env.dir->write(env.actor, env.now, [&](Change& c) { return c.add_group(g); }),
                         [&](const Group& out) { std::cout << "added group " << out.name << "@" << env.cfg.directory.domain << "\n"; });
  }
  if (sub == "list") {
    auto groups = env.dir->read([](Snapshot& s) { return s.groups(); });
    if (env.json) {
      std::cout << groups_json(groups) << "\n";
      return 0;
    }
    for (const auto& g : groups)
      std::cout << g.name << "  " << g.title << "  " << (g.kind == GroupKind::static_members ? "static" : "derived") << "\n";
    return 0;
  }
  if (sub == "show") {
    std::string name = a.positional(1, "the group NAME");
    auto members = env.dir->read([&](Snapshot& s) -> std::optional<std::vector<Person>> {
      auto g = s.group(name);
      if (!g) return std::nullopt;
      return s.group_members(*g);
    });
    if (!members) return fail(env, make_error(Errc::not_found, "group " + name + " does not exist"));
    if (env.json) std::cout << people_json(*members) << "\n";
    else
      for (const auto& p : *members) std::cout << p.address << "  " << p.full_name << "  " << p.unit << "  " << p.position << "\n";
    return 0;
  }
  if (sub == "add-member") {
    std::string name = a.positional(1, "the group NAME");
    auto id = must_resolve(env, a.positional(2, "WHO")).id;
    auto r = env.dir->write(env.actor, env.now, [&](Change& c) { return c.add_group_member(name, id); });
    if (!r) return fail(env, r.error());
    std::cout << "added\n";
    return 0;
  }
  throw UsageError("unknown group subcommand '" + sub + "'");
}

int cmd_audit(const Argv& argv) {
  Args a(argv, with(kCommonValued, {"--target", "--limit"}), kCommonFlags);
  std::string sub = a.positional(0, "a subcommand: verify, log");
  Env env = open_env(a);
  if (sub == "verify") {
    auto rep = env.dir->read([](Snapshot& s) { return s.verify_audit(); });
    if (!rep.ok) {
      std::cerr << "congvu: audit chain broken at record " << rep.first_bad << ": " << rep.problem << "\n";
      if (env.json) std::cout << "{\"ok\":false,\"record\":" << rep.first_bad << "}\n";
      return 1;
    }
    if (env.json) std::cout << "{\"ok\":true,\"records\":" << rep.records << "}\n";
    else std::cout << "audit chain intact: " << rep.records << " records\n";
    return 0;
  }
  if (sub == "log") {
    std::string target = a.get("--target");
    if (!target.empty())
      if (auto p = env.dir->read([&](Snapshot& s) { return s.resolve(target); })) target = p->id.str();
    auto recs = env.dir->read([&](Snapshot& s) { return s.audit_log(target, std::stoul(a.get("--limit", "100"))); });
    if (env.json) {
      std::cout << audit_json(recs) << "\n";
    } else {
      for (const auto& r : recs)
        std::cout << r.seq << "  " << rfc3339(r.time) << "  " << r.actor << "  " << r.action << "  " << r.target << "  "
                  << r.reason << "  " << r.detail << "\n";
    }
    return 0;
  }
  throw UsageError("unknown audit subcommand '" + sub + "'");
}

int cmd_check(const Argv& argv) {
  Args a(argv, kCommonValued, kCommonFlags);
  a.max_positionals(0);
  Env env = open_env(a);
  auto [problems, people, units] = env.dir->read([](Snapshot& s) {
    return std::make_tuple(s.check(), s.count_people(), s.count_units());
  });
  for (const auto& p : problems) std::cerr << "congvu: " << p << "\n";
  if (env.json)
    std::cout << "{\"ok\":" << (problems.empty() ? "true" : "false") << ",\"people\":" << people << ",\"units\":" << units
              << ",\"problems\":" << problems.size() << "}\n";
  else if (problems.empty())
    std::cout << "consistent: " << people << " people, " << units << " units\n";
  return problems.empty() ? 0 : 1;
}

}  // namespace congvu::app
