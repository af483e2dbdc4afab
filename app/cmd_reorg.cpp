// `congvu unit reorganise|merge|rename|recode|reparent`: reorganisations under one decision
// (directory/reorg.hpp), previewed with --dry-run, then the role mailboxes' mail moved
// (app/reorg_mail.hpp).
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>

#include "app/commands.hpp"
#include "app/output.hpp"
#include "app/reorg_mail.hpp"
#include "common/time.hpp"
#include "directory/reorg.hpp"

namespace congvu::app {
using namespace directory;
namespace json = boost::json;

namespace {

std::vector<ReorgStep> steps_of(Args& a, const std::string& sub) {
  const auto& pos = a.positionals();
  std::vector<ReorgStep> steps;
  if (sub == "reorganise") {
    a.max_positionals(2);
    std::string path = a.positional(1, "the PLAN file (CSV: op,unit,target,name,slug,kind,people,position)");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot read the file (check the path and permissions)");
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = parse_plan(ss.str(), path);
    if (!parsed) throw std::runtime_error(parsed.error().message);
    return *parsed;
  }
  if (sub == "merge") {
    if (pos.size() < 2) throw UsageError("merge needs the UNIT codes to merge and --into CODE");
    std::string into = a.require("--into");
    if (a.has("--name") || a.has("--slug")) {  // into a new unit
      ReorgStep add;
      add.op = ReorgOp::add;
      add.unit = into;
      add.target = a.require("--parent");
      add.name = a.require("--name");
      add.slug = a.require("--slug");
      auto kind = parse_kind(a.require("--kind"));
      if (!kind) throw UsageError("--kind must be department, district, division or commune");
      add.kind = *kind;
      steps.push_back(add);
    }
    for (std::size_t i = 1; i < pos.size(); ++i) {
      ReorgStep st;
      st.op = ReorgOp::merge;
      st.unit = pos[i];
      st.target = into;
      steps.push_back(st);
    }
    return steps;
  }
  a.max_positionals(2);
  ReorgStep st;
  st.unit = a.positional(1, "the unit CODE");
  if (sub == "rename") {
    st.op = ReorgOp::rename;
    st.name = a.require("--name");
  } else if (sub == "recode") {
    st.op = ReorgOp::recode;
    st.target = a.require("--code");
  } else {
    st.op = ReorgOp::reparent;
    st.target = a.require("--parent");
  }
  steps.push_back(st);
  return steps;
}

struct Preview {
  ReorgOutcome outcome;
  std::vector<RoleMailMove> mail;
  std::map<std::string, std::string> logins;  // person id -> login, for the listing
};

}  // namespace

int cmd_unit_reorganise(Env& env, Args& a, const std::string& sub) {
  Reorganisation r;
  r.steps = steps_of(a, sub);
  r.decision = a.require("--decision");
  r.date = a.get("--date", vn_date(env.now));
  r.reason = a.get("--reason");
  bool dry = a.flag("--dry-run");
  if (!dry && valid_date(r.date) && r.date > vn_date(env.now))
    return fail(env, make_error(Errc::invalid_argument, "the reorganisation takes effect on " + r.date +
                                                            ": preview it now with --dry-run and apply it on that date"));
  auto mail = mailstore::open(env.cfg.data_dir, env.cfg.mail.map_size_mb, {}, dry);
  auto who = Authority::root(env.actor.name);
  auto run = [&](Change& c) -> Result<Preview> {
    auto out = reorganise(c, who, r);
    if (!out) return out.error();
    Preview p{std::move(*out), {}, {}};
    for (const auto& code : p.outcome.dissolved) {
      auto from = c.unit(code);
      auto to = c.unit(current_unit(c, code));
      if (from && to) p.mail.push_back(plan_role_mail(*mail.store, *from, *to));
    }
    for (const auto& rec : p.outcome.changes)
      if (auto id = PersonId::parse(rec.target))
        if (auto person = c.person(*id)) p.logins[rec.target] = person->login;
    return p;
  };
  auto res = dry ? env.dir->preview(env.actor, env.now, run) : env.dir->write(env.actor, env.now, run);
  if (!res) return fail(env, res.error());
  RoleMailReport moved;
  if (!dry) moved = move_role_mail(*env.dir, *mail.store, env.now);
  const Preview& p = *res;
  json::array mail_rows;
  if (!env.json)
    for (const auto& rec : p.outcome.changes) {
      auto login = p.logins.find(rec.target);
      std::cout << rec.action << "\t" << (login == p.logins.end() ? rec.target : login->second) << "\t" << rec.detail << "\n";
    }
  for (const auto& m : dry ? p.mail : moved.moved) {
    if (env.json)
      mail_rows.emplace_back(json::object{{"from", m.from_unit}, {"to", m.to_unit}, {"folder", m.folder}, {"messages", m.messages}});
    else
      std::cout << "mail.move\t" << m.from_unit << "\t" << m.messages << " messages into the role mailbox of " << m.to_unit
                << ", folder " << m.folder << "\n";
  }
  if (env.json) {
    json::array dissolved;
    for (const auto& d : p.outcome.dissolved) dissolved.emplace_back(json::string(d));
    std::cout << json::serialize(json::object{{"dry_run", dry}, {"decision", r.decision}, {"date", r.date},
                                              {"people_moved", p.outcome.people_moved}, {"dissolved", dissolved},
                                              {"changes", json::parse(audit_json(p.outcome.changes))}, {"mail", mail_rows}})
              << "\n";
  } else {
    std::cout << (dry ? "dry run, nothing changed: " : "done: ") << p.outcome.changes.size() << " changes, "
              << p.outcome.people_moved << " people moved, " << p.outcome.dissolved.size() << " units dissolved under "
              << r.decision << "\n";
  }
  for (const auto& f : moved.failed) std::cerr << "congvu: role mail not moved yet (the server retries every minute): " << f << "\n";
  return moved.failed.empty() ? 0 : 1;
}

}  // namespace congvu::app
