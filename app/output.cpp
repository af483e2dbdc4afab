#include "app/output.hpp"

#include <boost/json.hpp>

#include "common/crypto.hpp"

namespace congvu::app {
namespace json = boost::json;
using namespace directory;

namespace {
json::object person_obj(const Person& p, bool personal) {
  json::object o;
  o["id"] = p.id.str();
  o["staff_no"] = p.staff_no;
  o["full_name"] = p.full_name;
  o["family"] = p.family;
  o["middle"] = p.middle;
  o["given"] = p.given;
  o["login"] = p.login;
  o["address"] = p.address;
  json::array aliases;
  for (const auto& a : p.aliases) aliases.emplace_back(a);
  o["aliases"] = aliases;
  o["status"] = status_name(p.status);
  o["unit"] = p.unit;
  o["position"] = p.position;
  if (personal) {
    o["gender"] = p.gender;
    o["birth_date"] = p.birth_date;
  }
  o["created"] = rfc3339(p.created);
  o["updated"] = rfc3339(p.updated);
  return o;
}
}  // namespace

std::string person_json(const Person& p, const std::vector<Assignment>* history, bool personal) {
  json::object o = person_obj(p, personal);
  if (history) {
    json::array h;
    for (const auto& a : *history) {
      h.emplace_back(json::object{{"unit", a.unit}, {"position", a.position}, {"from", a.from},
                                  {"to", a.to.empty() ? json::value(nullptr) : json::value(a.to)},
                                  {"decision", a.decision}, {"closed_by", a.closed_by},
                                  {"kind", assignment_kind_name(a.kind)}});
    }
    o["history"] = h;
  }
  return json::serialize(o);
}

std::string person_text(const Person& p, const std::vector<Assignment>& history, const std::string& unit_name) {
  std::string s = p.full_name + " <" + p.address + ">\n";
  auto line = [&](const char* k, const std::string& v) {
    s += "  ";
    s += k;
    s.append(10 - std::string(k).size(), ' ');
    s += v + "\n";
  };
  line("id", p.id.str());
  line("staff no", p.staff_no);
  line("login", p.login);
  line("status", status_name(p.status));
  if (!p.unit.empty()) line("unit", p.unit + "  " + unit_name);
  if (!p.position.empty()) line("position", p.position);
  s += "  history\n";
  for (const auto& a : history) {
    s += "    " + (a.from.empty() ? std::string("?         ") : a.from) + " .. " + (a.to.empty() ? std::string("now       ") : a.to) + "  " + a.unit + "  " +
         a.position + "  (" + assignment_kind_name(a.kind) + (a.decision.empty() ? "" : ", " + a.decision) + ")\n";
  }
  return s;
}

std::string unit_json(const Unit& u, const std::vector<Person>* holders) {
  json::object o{{"code", u.code}, {"parent", u.parent}, {"kind", kind_name(u.kind)}, {"name", u.name},
                 {"slug", u.slug}, {"role_address", u.role_address}};
  if (!u.dissolved.empty()) {
    o["dissolved"] = u.dissolved;
    o["successor"] = u.successor;
    o["dissolved_by"] = u.dissolved_by;
  }
  if (holders) {
    json::array h;
    for (const auto& p : *holders) h.emplace_back(json::object{{"id", p.id.str()}, {"address", p.address},
                                                               {"full_name", p.full_name}, {"position", p.position}});
    o["role_mailbox_holders"] = h;
  }
  return json::serialize(o);
}

std::string people_json(const std::vector<Person>& people) {
  json::array a;
  for (const auto& p : people) a.emplace_back(person_obj(p, false));
  return json::serialize(a);
}

std::string audit_json(const std::vector<AuditRecord>& records) {
  json::array a;
  for (const auto& r : records) {
    json::value detail;
    boost::system::error_code ec;
    detail = json::parse(r.detail, ec);
    if (ec) detail = r.detail;
    a.emplace_back(json::object{{"seq", r.seq}, {"time", rfc3339(r.time)}, {"actor", r.actor},
                                {"action", r.action}, {"target", r.target}, {"reason", r.reason},
                                {"detail", detail}, {"hash", crypto::hex(r.hash)}});
  }
  return json::serialize(a);
}

std::string import_json(const ImportReport& r) {
  json::object o{{"units_added", r.units_added}, {"units_unchanged", r.units_unchanged},
                 {"people_added", r.people_added}, {"credentials", r.credentials}};
  if (r.aliases || r.slugs_changed) {  // a merge import
    o["aliases"] = r.aliases;
    o["addresses_changed"] = r.addresses_changed;
    o["slugs_changed"] = r.slugs_changed;
  }
  return json::serialize(o);
}

std::string events_json(const EventsReport& r) {
  json::array failed;
  for (const auto& f : r.failed) failed.emplace_back(json::object{{"seq", f.seq}, {"reason", f.message}});
  return json::serialize(json::object{{"applied", r.applied}, {"pending", r.pending},
                                      {"already_applied", r.already_applied}, {"failed", failed}});
}

std::string pending_json(const std::vector<PendingEvent>& events) {
  json::array a;
  for (const auto& e : events)
    a.emplace_back(json::object{{"seq", e.seq}, {"effective_date", e.date}, {"staff_no", e.staff_no},
                                {"kind", e.kind}, {"from_unit", e.from_unit}, {"to_unit", e.to_unit},
                                {"position", e.position}, {"decision_no", e.decision}, {"full_name", e.full_name}});
  return json::serialize(a);
}

std::string scheduled_json(const std::vector<ScheduledChange>& changes, const std::vector<std::string>& who) {
  json::array a;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i].change;
    a.emplace_back(json::object{{"number", changes[i].number}, {"effective_date", c.date}, {"person", c.person.str()},
                                {"who", i < who.size() ? who[i] : ""}, {"kind", life_kind_name(c.kind)},
                                {"to_unit", c.to_unit}, {"position", c.position}, {"decision_no", c.decision},
                                {"reason", c.reason}, {"by", changes[i].actor}, {"created", rfc3339(changes[i].created)}});
  }
  return json::serialize(a);
}

std::string groups_json(const std::vector<Group>& groups) {
  json::array a;
  for (const auto& g : groups) {
    json::array positions;
    for (const auto& p : g.positions) positions.emplace_back(p);
    a.emplace_back(json::object{{"name", g.name}, {"title", g.title},
                                {"kind", g.kind == GroupKind::static_members ? "static" : "derived"},
                                {"unit", g.unit}, {"subtree", g.subtree}, {"positions", positions},
                                {"posting", posting_name(g.posting)}, {"senders", json::array(g.senders.begin(), g.senders.end())}});
  }
  return json::serialize(a);
}

std::string error_json(const Error& e) {
  return json::serialize(json::object{{"error", errc_name(e.code)}, {"message", e.message}});
}

}  // namespace congvu::app
