#include "directory/hr.hpp"

#include <algorithm>

#include "common/codec.hpp"
#include "common/json.hpp"
#include "directory/clients.hpp"
#include "directory/factors.hpp"
#include "directory/import.hpp"
#include "directory/reorg.hpp"

namespace congvu::directory {
namespace {

Error forbidden(std::string m) { return make_error(Errc::forbidden, std::move(m)); }
Error invalid(std::string m) { return make_error(Errc::invalid_argument, std::move(m)); }

constexpr const char* kRoleNames[] = {"province-admin", "hr-admin", "auditor"};
constexpr const char* kLifeNames[] = {"hire", "transfer", "rotation", "appointment", "suspend", "resume", "retire"};

PersonId person_from_key(std::string_view raw) {
  auto id = PersonId::from_bytes(raw);
  if (!id) throw codec::DecodeError("a person id is not 16 bytes");
  return *id;
}

std::string grant_key(const PersonId& id, Role role, std::string_view unit) {
  std::string k(id.bytes());
  k += static_cast<char>(role);
  k.append(unit);
  return k;
}

Grant decode_grant(std::string_view key, std::string_view v) {
  if (key.size() < 17) throw codec::DecodeError("grant key too short");
  Grant g;
  g.person = person_from_key(key.substr(0, 16));
  g.role = static_cast<Role>(static_cast<std::uint8_t>(key[16]));
  if (static_cast<std::uint8_t>(g.role) > 2) throw codec::DecodeError("unknown role");
  g.unit = std::string(key.substr(17));
  codec::Reader r(v);
  if (r.u8() != 1) throw codec::DecodeError("unknown grant record version");
  g.decision = r.str();
  g.granted_by = r.str();
  g.created = r.i64();
  return g;
}

std::string top_unit(Snapshot& s) {
  auto top = s.children("");
  return top.empty() ? std::string() : top.front().code;
}

std::string encode_scheduled(const ScheduledChange& sc) {
  const LifeChange& l = sc.change;
  codec::Writer w;
  w.u8(1).u8(static_cast<std::uint8_t>(l.kind)).str(l.person.bytes()).str(l.to_unit).str(l.position)
      .str(l.expect_from).str(l.date).str(l.decision).str(l.reason).str(l.successor).str(sc.actor).i64(sc.created);
  return w.take();
}

ScheduledChange decode_scheduled(std::string_view key, std::string_view v) {
  ScheduledChange sc;
  if (key.size() != 18) throw codec::DecodeError("scheduled key is not date + number");
  sc.number = codec::get_be64(key.substr(10));
  codec::Reader r(v);
  if (r.u8() != 1) throw codec::DecodeError("unknown scheduled record version");
  auto kind = r.u8();
  if (kind > static_cast<std::uint8_t>(LifeKind::retire)) throw codec::DecodeError("unknown change kind");
  LifeChange& l = sc.change;
  l.kind = static_cast<LifeKind>(kind);
  l.person = person_from_key(r.str());
  l.to_unit = r.str();
  l.position = r.str();
  l.expect_from = r.str();
  l.date = r.str();
  l.decision = r.str();
  l.reason = r.str();
  l.successor = r.str();
  sc.actor = r.str();
  sc.created = r.i64();
  return sc;
}

std::string add_years(std::string_view date, int years) {
  int y = std::stoi(std::string(date.substr(0, 4))) + years;
  std::string out = std::to_string(y) + std::string(date.substr(4));
  if (out.substr(5) == "02-29") out = out.substr(0, 5) + "02-28";
  return out;
}

std::string encode_retirement(const Retirement& r) {
  codec::Writer w;
  w.u8(2).str(r.successor).str(r.keep_until).str(r.purged);
  return w.take();
}

bool needs_decision(LifeKind k) { return k != LifeKind::suspend && k != LifeKind::resume; }

// Everything that can be checked without applying: the same checks for now and for later.
Result<Person> check_change(Change& c, const Authority& who, const LifeChange& lc, bool check_target = true) {
  if (needs_decision(lc.kind) && lc.decision.empty())
    return invalid(std::string("a ") + life_kind_name(lc.kind) + " needs the decision number");
  if (lc.decision.size() > 128 || lc.reason.size() > 1024) return invalid("decision or reason too long");
  auto p = c.person(lc.person);
  if (!p) return make_error(Errc::not_found, "no such person");
  if (!who.writes_person(c, *p)) {
    if (who.outranked_by(c, *p))
      return forbidden(p->full_name + " holds an administrative role at or above " + who.actor() +
                       "'s scope; only an administrator over a wider unit may change them");
    return forbidden(p->full_name + " is in unit " + scope_unit(c, *p) + ", outside " + who.actor() + "'s scope");
  }
  // The target of a move must lie in the actor's scope too: an administrator of one unit
  // cannot place anyone in another (its official inbox, its role address).
  if (check_target && !lc.to_unit.empty() && c.unit(lc.to_unit) && !who.writes_unit(c, lc.to_unit))
    return forbidden("unit " + lc.to_unit + " is outside " + who.actor() +
                     "'s scope: an administrator over it must make this " + life_kind_name(lc.kind));
  if (p->status == PersonStatus::retired) return make_error(Errc::conflict, p->staff_no + " is retired");
  if ((lc.kind == LifeKind::transfer || lc.kind == LifeKind::rotation) && lc.to_unit.empty())
    return invalid(std::string("a ") + life_kind_name(lc.kind) + " needs the unit it goes to");
  if (!lc.to_unit.empty() && !c.unit(lc.to_unit)) return make_error(Errc::not_found, "unit " + lc.to_unit + " does not exist");
  if (lc.kind == LifeKind::appointment && lc.position.empty()) return invalid("an appointment needs the position");
  if (lc.kind == LifeKind::retire && !lc.successor.empty()) {
    auto s = c.resolve(lc.successor);
    if (!s) return make_error(Errc::not_found, "successor " + lc.successor + " is not in the directory");
    if (s->id == p->id) return invalid("a person cannot succeed themselves");
  }
  return *p;
}

Result<Person> apply_now(Change& c, const LifeChange& lc) {
  // Moves check the expected unit in Change::move(); status changes here.
  bool is_move = lc.kind == LifeKind::transfer || lc.kind == LifeKind::rotation || lc.kind == LifeKind::appointment;
  if (!is_move && !lc.expect_from.empty())
    if (auto p = c.person(lc.person); p && p->unit != lc.expect_from)
      return make_error(Errc::conflict, p->staff_no + " is in unit " + p->unit + ", not " + lc.expect_from);
  switch (lc.kind) {
    case LifeKind::transfer:
    case LifeKind::rotation:
    case LifeKind::appointment: {
      MoveSpec m;
      m.person = lc.person;
      m.to_unit = lc.to_unit;
      m.position = lc.position;
      m.expect_from = lc.expect_from;
      m.date = lc.date;
      m.decision = lc.decision;
      m.note = lc.reason;
      m.kind = lc.kind == LifeKind::transfer   ? AssignmentKind::transfer
               : lc.kind == LifeKind::rotation ? AssignmentKind::rotation
                                               : AssignmentKind::appointment;
      return c.move(m);
    }
    case LifeKind::suspend:
    case LifeKind::resume: {
      std::string why = lc.decision.empty() ? lc.reason : lc.decision + (lc.reason.empty() ? "" : ": " + lc.reason);
      return c.set_status(lc.person, lc.kind == LifeKind::suspend ? PersonStatus::suspended : PersonStatus::active, why);
    }
    case LifeKind::retire: {
      Retirement r;
      if (!lc.successor.empty()) {
        auto s = c.resolve(lc.successor);
        if (!s) return make_error(Errc::not_found, "successor " + lc.successor + " is not in the directory");
        r.successor = s->id.str();
      }
      if (!valid_date(lc.date)) return invalid("date '" + lc.date + "' is not a calendar date YYYY-MM-DD");
      r.keep_until = add_years(lc.date, static_cast<int>(c.settings().retention_years));
      auto out = c.retire(lc.person, lc.date, lc.decision, lc.reason);
      if (!out) return out;
      c.put(schema::retirement, lc.person.bytes(), encode_retirement(r));
      return out;
    }
    case LifeKind::hire: break;
  }
  return invalid("not a change of an existing person");
}

}  // namespace

const char* role_name(Role r) { return kRoleNames[static_cast<int>(r)]; }

std::optional<Role> parse_role(std::string_view s) {
  for (int i = 0; i < 3; ++i)
    if (s == kRoleNames[i]) return static_cast<Role>(i);
  return std::nullopt;
}

const char* life_kind_name(LifeKind k) { return kLifeNames[static_cast<int>(k)]; }

std::optional<LifeKind> parse_life_kind(std::string_view s) {
  for (int i = 0; i < 7; ++i)
    if (s == kLifeNames[i]) return static_cast<LifeKind>(i);
  return std::nullopt;
}

std::vector<Grant> list_grants(Snapshot& s) {
  std::vector<Grant> out;
  s.scan(schema::admin_grant, "", [&](std::string_view k, std::string_view v) {
    out.push_back(decode_grant(k, v));
    return true;
  });
  return out;
}

std::vector<Grant> grants_of(Snapshot& s, const PersonId& id) {
  std::vector<Grant> out;
  s.scan(schema::admin_grant, id.bytes(), [&](std::string_view k, std::string_view v) {
    out.push_back(decode_grant(k, v));
    return true;
  });
  return out;
}

Result<Grant> grant_role(Change& c, const PersonId& id, Role role, std::string unit, std::string decision) {
  auto p = c.person(id);
  if (!p) return make_error(Errc::not_found, "no such person");
  if (p->status != PersonStatus::active) return make_error(Errc::conflict, p->staff_no + " is not active");
  if (unit.empty()) unit = top_unit(c);
  if (!c.unit(unit)) return make_error(Errc::not_found, "unit " + unit + " does not exist");
  std::string key = grant_key(id, role, unit);
  if (c.get_raw(schema::admin_grant, key))
    return make_error(Errc::conflict, p->login + " is already " + role_name(role) + " of " + unit);
  Grant g{id, role, unit, std::move(decision), "", c.now()};
  codec::Writer w;
  w.u8(1).str(g.decision).str(g.granted_by).i64(g.created);
  c.put(schema::admin_grant, key, w.take());
  c.audit("admin.grant", id.str(), g.decision, json_object({{"role", role_name(role)}, {"unit", unit}, {"login", p->login}}));
  return g;
}

Status revoke_role(Change& c, const PersonId& id, Role role, std::string_view unit) {
  std::string u(unit);
  if (u.empty()) u = top_unit(c);
  std::string key = grant_key(id, role, u);
  if (!c.get_raw(schema::admin_grant, key))
    return make_error(Errc::not_found, std::string("no ") + role_name(role) + " grant over " + u + " for that person");
  c.del(schema::admin_grant, key);
  c.audit("admin.revoke", id.str(), "", json_object({{"role", role_name(role)}, {"unit", u}}));
  return ok_status();
}

Result<Grant> admin_init(Change& c, const PersonId& id) {
  for (const auto& g : list_grants(c))
    if (g.role == Role::province_admin)
      return make_error(Errc::conflict, "a province administrator exists already; use `congvu admin grant`");
  return grant_role(c, id, Role::province_admin, top_unit(c), "admin init");
}

Authority Authority::root(std::string actor) { return Authority(std::move(actor), {{Role::province_admin, ""}}); }

bool Authority::can_write() const {
  return std::any_of(scopes_.begin(), scopes_.end(), [](const Scope& s) { return s.role != Role::auditor; });
}

bool Authority::is_province_admin(Snapshot& s) const {
  for (const auto& sc : scopes_) {
    if (sc.role != Role::province_admin) continue;
    if (sc.unit.empty()) return true;
    auto u = s.unit(sc.unit);
    if (u && u->parent.empty()) return true;
  }
  return false;
}

bool Authority::covers(Snapshot& s, std::string_view unit, bool (*allowed)(Role)) const {
  if (unit.empty()) {
    // No unit (a retired person whose history is gone): only a province-wide role.
    return std::any_of(scopes_.begin(), scopes_.end(), [&](const Scope& sc) { return sc.unit.empty() && allowed(sc.role); });
  }
  std::string u(unit);
  for (int depth = 0; depth < 64 && !u.empty(); ++depth) {
    for (const auto& sc : scopes_)
      if ((sc.unit.empty() || sc.unit == u) && allowed(sc.role)) return true;
    auto rec = s.unit(u);
    if (!rec) return false;
    u = rec->parent;
  }
  return false;
}

namespace {
bool any_role(Role) { return true; }
bool writing_role(Role r) { return r != Role::auditor; }
bool admin_role(Role r) { return r == Role::province_admin; }
}  // namespace

bool Authority::reads_unit(Snapshot& s, std::string_view unit) const { return covers(s, unit, any_role); }
bool Authority::writes_unit(Snapshot& s, std::string_view unit) const { return covers(s, unit, writing_role); }
bool Authority::administers_unit(Snapshot& s, std::string_view unit) const { return covers(s, unit, admin_role); }
bool Authority::reads_person(Snapshot& s, const Person& p) const { return covers(s, scope_unit(s, p), any_role); }
bool Authority::writes_person(Snapshot& s, const Person& p) const {
  return covers(s, scope_unit(s, p), writing_role) && !outranked_by(s, p);
}

namespace {
// Whether `inner` lies strictly below `outer` in the unit tree ("" is above every unit).
bool strictly_below(Snapshot& s, std::string_view inner, std::string_view outer) {
  if (outer.empty()) return !inner.empty();
  std::string u(inner);
  for (int depth = 0; depth < 64 && !u.empty(); ++depth) {
    auto rec = s.unit(u);
    if (!rec) return false;
    u = rec->parent;
    if (u == outer) return true;
  }
  return false;
}
}  // namespace

bool Authority::outranked_by(Snapshot& s, const Person& target) const {
  for (const auto& g : grants_of(s, target.id)) {
    bool above = std::any_of(scopes_.begin(), scopes_.end(), [&](const Scope& sc) {
      return writing_role(sc.role) && strictly_below(s, g.unit, sc.unit);
    });
    if (!above) return true;
  }
  return false;
}

Authority authority_of_actor(Snapshot& s, std::string_view actor) {
  if (actor.rfind("admin:", 0) == 0) {
    auto p = s.by_login(actor.substr(6));
    return p ? authority_of(s, *p) : Authority(std::string(actor), {});
  }
  if (actor.rfind("client:", 0) == 0) return authority_of_client(s, actor.substr(7));
  return Authority::root(std::string(actor));
}

std::vector<std::string> Authority::read_roots() const {
  std::vector<std::string> out;
  for (const auto& sc : scopes_) out.push_back(sc.unit);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string scope_unit(Snapshot& s, const Person& p) {
  if (p.status != PersonStatus::retired || !p.unit.empty()) return p.unit;
  auto h = s.history(p.id);
  if (h.empty()) return {};
  // The unit they left may have been dissolved since: its successor stands for it.
  std::string now = current_unit(s, h.back().unit);
  return now.empty() ? h.back().unit : now;
}

Authority authority_of(Snapshot& s, const Person& p) {
  std::vector<Scope> scopes;
  if (p.status == PersonStatus::active)
    for (const auto& g : grants_of(s, p.id)) scopes.push_back({g.role, g.unit});
  return Authority("admin:" + p.login, std::move(scopes));
}

Authority authority_of_client(Snapshot& s, std::string_view client_id) {
  std::vector<Scope> scopes;
  auto c = find_client(s, client_id);
  if (c && !c->role.empty())
    if (auto r = parse_role(c->role)) scopes.push_back({*r, c->unit.empty() ? top_unit(s) : c->unit});
  return Authority("client:" + std::string(client_id), std::move(scopes));
}

namespace {
std::string be64_key(std::uint64_t n) {
  std::string k;
  codec::put_be64(k, n);
  return k;
}

std::uint64_t next_number(Change& c, std::string_view counter) {
  std::uint64_t n = 1;
  if (auto v = c.get_raw(schema::meta, counter); v && v->size() == 8) n = codec::get_be64(*v);
  c.put(schema::meta, counter, be64_key(n + 1));
  return n;
}

// Keeps `lc` for its date under `actor` (audited schedule.add).
LifeOutcome schedule(Change& c, const LifeChange& lc, const std::string& actor, const Person& p) {
  std::uint64_t n = next_number(c, "scheduled_next");
  std::string key = lc.date;
  codec::put_be64(key, n);
  c.put(schema::scheduled, key, encode_scheduled(ScheduledChange{n, lc, actor, c.now()}));
  c.audit("schedule.add", p.id.str(), lc.decision,
          json_object({{"number", std::to_string(n)}, {"kind", life_kind_name(lc.kind)}, {"date", lc.date},
                       {"to_unit", lc.to_unit}, {"position", lc.position}, {"reason", lc.reason}}));
  LifeOutcome out;
  out.scheduled = true;
  out.number = n;
  out.person = p;
  return out;
}

// The authority a scheduled change is checked under when it comes due: its scheduler's now; for
// an accepted proposal ("accepted:PROPOSER|ACCEPTOR"), the proposer over the person and the
// acceptor over the target.
Result<Person> recheck_scheduled(Change& c, const ScheduledChange& sc) {
  const std::string prefix = "accepted:";
  if (sc.actor.rfind(prefix, 0) != 0) return check_change(c, authority_of_actor(c, sc.actor), sc.change);
  auto bar = sc.actor.find('|');
  std::string proposer = sc.actor.substr(prefix.size(), bar - prefix.size());
  std::string acceptor = bar == std::string::npos ? std::string() : sc.actor.substr(bar + 1);
  auto p = check_change(c, authority_of_actor(c, proposer), sc.change, /*check_target=*/false);
  if (!p) return p;
  if (!sc.change.to_unit.empty() && !authority_of_actor(c, acceptor).writes_unit(c, sc.change.to_unit))
    return forbidden("unit " + sc.change.to_unit + " is no longer in " + acceptor + "'s scope");
  return p;
}
}  // namespace

Result<LifeOutcome> apply_change(Change& c, const Authority& who, const LifeChange& in, std::string_view today,
                                 UnixMs activation_ttl) {
  LifeChange lc = in;
  if (lc.date.empty()) lc.date = std::string(today);
  if (!valid_date(lc.date)) return invalid("effective date '" + lc.date + "' is not a calendar date YYYY-MM-DD");
  if (!who.can_write()) return forbidden(who.actor() + " may read but not change the directory");
  LifeOutcome out;
  if (lc.kind == LifeKind::hire) {
    if (lc.decision.empty()) return invalid("a hire needs the decision number");
    if (!c.unit(lc.hire.unit)) return make_error(Errc::not_found, "unit " + lc.hire.unit + " does not exist");
    if (!who.writes_unit(c, lc.hire.unit)) return forbidden("unit " + lc.hire.unit + " is outside " + who.actor() + "'s scope");
    HireSpec h = lc.hire;
    h.date = lc.date;
    h.decision = lc.decision;
    h.kind = AssignmentKind::hire;
    auto p = c.hire(h);
    if (!p) return p.error();
    auto code = issue_reset_code(c, p->id, activation_ttl);
    if (!code) return code.error();
    out.person = *p;
    out.activation_code = *code;
    return out;
  }
  bool is_move = lc.kind == LifeKind::transfer || lc.kind == LifeKind::rotation || lc.kind == LifeKind::appointment;
  bool propose = is_move && !lc.to_unit.empty() && c.unit(lc.to_unit) && !who.writes_unit(c, lc.to_unit);
  auto p = check_change(c, who, lc, /*check_target=*/!propose);
  if (!p) return p.error();
  if (propose) {
    // The proposer covers the person, not the target: an administrator over the target decides.
    if (lc.expect_from.empty()) lc.expect_from = p->unit;
    std::uint64_t n = next_number(c, "proposal_next");
    c.put(schema::proposal, be64_key(n), encode_scheduled(ScheduledChange{n, lc, who.actor(), c.now()}));
    c.audit("proposal.add", p->id.str(), lc.decision,
            json_object({{"number", std::to_string(n)}, {"kind", life_kind_name(lc.kind)}, {"date", lc.date},
                         {"from_unit", lc.expect_from}, {"to_unit", lc.to_unit}, {"position", lc.position},
                         {"reason", lc.reason}}));
    out.proposed = true;
    out.number = n;
    out.person = *p;
    return out;
  }
  if (lc.date > today) return schedule(c, lc, who.actor(), *p);
  auto done = apply_now(c, lc);
  if (!done) return done.error();
  out.person = *done;
  return out;
}

std::vector<ScheduledChange> proposals(Snapshot& s) {
  std::vector<ScheduledChange> out;
  s.scan(schema::proposal, "", [&](std::string_view k, std::string_view v) {
    auto sc = decode_scheduled(std::string(10, '0') + std::string(k), v);
    out.push_back(std::move(sc));
    return true;
  });
  return out;
}

bool may_accept(Snapshot& s, const Authority& who, const ScheduledChange& p) {
  return who.writes_unit(s, p.change.to_unit);
}

bool sees_proposal(Snapshot& s, const Authority& who, const ScheduledChange& p) {
  if (may_accept(s, who, p) || who.actor() == p.actor) return true;
  auto person = s.person(p.change.person);
  return person && who.writes_person(s, *person);
}

namespace {
std::optional<ScheduledChange> find_proposal(Snapshot& s, std::uint64_t number) {
  auto v = s.get_raw(schema::proposal, be64_key(number));
  if (!v) return std::nullopt;
  return decode_scheduled(std::string(10, '0') + be64_key(number), *v);
}
}  // namespace

Result<LifeOutcome> accept_proposal(Change& c, const Authority& who, std::uint64_t number, std::string_view today) {
  auto sc = find_proposal(c, number);
  if (!sc) return make_error(Errc::not_found, "no proposal " + std::to_string(number));
  if (!may_accept(c, who, *sc))
    return forbidden("only an administrator over unit " + sc->change.to_unit + " may accept proposal " + std::to_string(number));
  // Checked again now: the proposer must still cover the person, who must still be where the
  // proposal found them (apply_now checks expect_from).
  auto p = check_change(c, authority_of_actor(c, sc->actor), sc->change, /*check_target=*/false);
  if (!p) return p.error();
  c.del(schema::proposal, be64_key(number));
  c.audit("proposal.accept", p->id.str(), sc->change.decision,
          json_object({{"number", std::to_string(number)}, {"proposer", sc->actor}, {"to_unit", sc->change.to_unit}}));
  LifeOutcome out;
  if (sc->change.date > today) return schedule(c, sc->change, "accepted:" + sc->actor + "|" + who.actor(), *p);
  auto done = apply_now(c, sc->change);
  if (!done) return done.error();
  out.person = *done;
  return out;
}

Status refuse_proposal(Change& c, const Authority& who, std::uint64_t number, std::string_view reason) {
  auto sc = find_proposal(c, number);
  if (!sc) return make_error(Errc::not_found, "no proposal " + std::to_string(number));
  if (!sees_proposal(c, who, *sc)) return forbidden("proposal " + std::to_string(number) + " is outside your scope");
  if (reason.size() > 1024) return invalid("the reason is too long");
  if (reason.empty() && may_accept(c, who, *sc) && who.actor() != sc->actor)
    return invalid("say why the proposal is refused: the proposer reads it");
  c.del(schema::proposal, be64_key(number));
  c.audit("proposal.refuse", sc->change.person.str(), sc->change.decision,
          json_object({{"number", std::to_string(number)}, {"proposer", sc->actor}, {"by", who.actor()},
                       {"to_unit", sc->change.to_unit}, {"reason", std::string(reason)}}));
  return ok_status();
}

std::vector<ScheduledChange> scheduled_changes(Snapshot& s, const std::optional<PersonId>& person) {
  std::vector<ScheduledChange> out;
  s.scan(schema::scheduled, "", [&](std::string_view k, std::string_view v) {
    auto sc = decode_scheduled(k, v);
    if (!person || sc.change.person == *person) out.push_back(std::move(sc));
    return true;
  });
  return out;
}

std::size_t retarget_scheduled(Change& c, std::string_view from_unit, std::string_view to_unit) {
  std::size_t n = 0;
  std::vector<std::pair<std::string, ScheduledChange>> hit;
  c.scan(schema::scheduled, "", [&](std::string_view k, std::string_view v) {
    auto sc = decode_scheduled(k, v);
    if (sc.change.to_unit == from_unit || sc.change.expect_from == from_unit) hit.emplace_back(std::string(k), std::move(sc));
    return true;
  });
  for (auto& [key, sc] : hit) {
    std::vector<std::pair<std::string, std::string>> detail = {{"number", std::to_string(sc.number)}};
    if (sc.change.to_unit == from_unit) {
      sc.change.to_unit = std::string(to_unit);
      detail.emplace_back("to_unit", sc.change.to_unit);
    }
    if (sc.change.expect_from == from_unit) {
      sc.change.expect_from = std::string(to_unit);
      detail.emplace_back("expect_from", sc.change.expect_from);
    }
    c.put(schema::scheduled, key, encode_scheduled(sc));
    c.audit("schedule.retarget", sc.change.person.str(), "", json_object(detail));
    ++n;
  }
  return n;
}

Status cancel_scheduled(Change& c, const Authority& who, std::uint64_t number) {
  for (const auto& sc : scheduled_changes(c)) {
    if (sc.number != number) continue;
    auto p = c.person(sc.change.person);
    if (p && !who.writes_person(c, *p)) return forbidden("scheduled change " + std::to_string(number) + " is outside your scope");
    std::string key = sc.change.date;
    codec::put_be64(key, number);
    c.del(schema::scheduled, key);
    c.audit("schedule.cancel", sc.change.person.str(), sc.change.decision,
            json_object({{"number", std::to_string(number)}, {"kind", life_kind_name(sc.change.kind)}}));
    return ok_status();
  }
  return make_error(Errc::not_found, "no scheduled change " + std::to_string(number));
}

DueReport run_due(Directory& dir, std::string_view today, UnixMs now) {
  DueReport rep;
  auto due = dir.read([&](Snapshot& s) {
    std::vector<ScheduledChange> out;
    s.scan(schema::scheduled, "", [&](std::string_view k, std::string_view v) {
      if (k.substr(0, 10) > today) return false;
      out.push_back(decode_scheduled(k, v));
      return true;
    });
    return out;
  });
  auto events = dir.read([&](Snapshot& s) {
    std::vector<PendingEvent> out;
    for (auto& e : pending_events(s))
      if (e.date <= today) out.push_back(std::move(e));
    return out;
  });
  // Oldest first across both sources; on the same date, scheduled changes before file events.
  std::size_t i = 0, j = 0;
  while (i < due.size() || j < events.size()) {
    bool take_scheduled = j >= events.size() || (i < due.size() && due[i].change.date <= events[j].date);
    if (take_scheduled) {
      const auto& sc = due[i++];
      std::string failure;
      auto r = dir.write(Actor{sc.actor}, now, [&](Change& c) -> Status {
        std::string key = sc.change.date;
        codec::put_be64(key, sc.number);
        if (!c.get_raw(schema::scheduled, key)) return ok_status();  // cancelled or applied meanwhile
        c.del(schema::scheduled, key);
        // The authority is checked again now: the scheduler may have lost the grant, or the
        // person may have moved out of the scope (or into a role above it) since.
        Result<Person> allowed = recheck_scheduled(c, sc);
        auto applied = allowed ? apply_now(c, sc.change) : Result<Person>(allowed.error());
        if (!applied) {
          failure = applied.error().message;
          c.audit("schedule.failed", sc.change.person.str(), sc.change.decision,
                  json_object({{"number", std::to_string(sc.number)}, {"error", failure}}));
        }
        return ok_status();
      });
      if (!r) failure = r.error().message;
      if (failure.empty()) ++rep.applied;
      else rep.failed.emplace_back(sc.number, failure);
    } else {
      const auto& e = events[j++];
      std::string failure;
      auto r = dir.write(Actor{"events"}, now, [&](Change& c) -> Status {
        auto s = apply_pending_event(c, e.seq);
        if (!s) failure = s.error().message;
        return ok_status();
      });
      if (!r) failure = r.error().message;
      if (failure.empty()) ++rep.applied;
      else rep.failed.emplace_back(e.seq, failure);
    }
  }
  return rep;
}

std::optional<Person> manager_of(Snapshot& s, const Person& p) {
  static const std::string_view kHeads[] = {"Giám đốc", "Chủ tịch", "Trưởng", "Chánh"};
  std::string code = p.unit;
  for (int depth = 0; depth < 64 && !code.empty(); ++depth) {
    std::optional<PersonId> head;
    std::string prefix = schema::join0(code, "");
    s.scan(schema::member, prefix, [&](std::string_view k, std::string_view v) {
      // value: status byte + position + '\0' + ... (schema.hpp)
      if (v.empty() || static_cast<PersonStatus>(v[0]) != PersonStatus::active) return true;
      std::string_view position = v.substr(1, v.find('\0', 1) - 1);
      bool is_head = std::any_of(std::begin(kHeads), std::end(kHeads),
                                 [&](std::string_view h) { return position.substr(0, h.size()) == h; });
      auto id = PersonId::from_bytes(k.substr(prefix.size()));
      if (is_head && id && *id != p.id) {
        head = *id;
        return false;
      }
      return true;
    });
    if (head) return s.person(*head);
    auto u = s.unit(code);
    code = u ? u->parent : std::string();
  }
  return std::nullopt;
}

std::optional<Retirement> retirement_of(Snapshot& s, const PersonId& id) {
  auto v = s.get_raw(schema::retirement, id.bytes());
  if (!v) return std::nullopt;
  return decode_retirement(*v);
}

Retirement decode_retirement(std::string_view v) {
  codec::Reader r(v);
  auto version = r.u8();
  if (version != 1 && version != 2) throw codec::DecodeError("unknown retirement record version");
  Retirement out;
  out.successor = r.str();
  out.keep_until = r.str();
  if (version == 2) out.purged = r.str();
  r.expect_done();
  return out;
}

std::vector<std::pair<PersonId, Retirement>> retention_due(Snapshot& s, std::string_view today) {
  std::vector<std::pair<PersonId, Retirement>> out;
  s.scan(schema::retirement, "", [&](std::string_view k, std::string_view v) {
    auto r = decode_retirement(v);
    auto id = PersonId::from_bytes(k);
    if (id && r.purged.empty() && !r.keep_until.empty() && r.keep_until < today) out.emplace_back(*id, std::move(r));
    return true;
  });
  return out;
}

Status mark_purged(Change& c, const PersonId& id, std::string_view today, std::uint64_t messages) {
  auto r = retirement_of(c, id);
  if (!r) return make_error(Errc::not_found, "no retirement recorded for " + id.str());
  r->purged = std::string(today);
  c.put(schema::retirement, id.bytes(), encode_retirement(*r));
  c.audit("mailbox.purge", id.str(), "", "{\"kept_until\":\"" + r->keep_until + "\",\"messages\":" +
                                             std::to_string(messages) + "}");
  return ok_status();
}

}  // namespace congvu::directory
