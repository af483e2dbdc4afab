// Replay of HR events (events.csv). Each event's seq is recorded in the `event` table as
// applied ('A') or pending ('P') with its row, so that a replay skips what it already did and
// a seq reused for a different event is caught.
#include <algorithm>
#include <set>

#include "common/codec.hpp"
#include "common/csv.hpp"
#include "common/json.hpp"
#include "common/text.hpp"
#include "directory/import.hpp"

namespace congvu::directory {
namespace {

struct EventRow {
  std::size_t line = 0;
  std::uint64_t seq = 0;
  std::string date, staff_no, kind, from_unit, to_unit, position, decision, full_name;
};

std::string encode_row(const EventRow& e) {
  codec::Writer w;
  w.u8(1).str(e.date).str(e.staff_no).str(e.kind).str(e.from_unit).str(e.to_unit).str(e.position)
      .str(e.decision).str(e.full_name);
  return w.take();
}

const char* const kKinds[] = {"dieu_dong", "luan_chuyen", "bo_nhiem", "nghi_huu", "tiep_nhan"};

Status apply_one(Change& c, const EventRow& e) {
  if (e.kind == "tiep_nhan") {
    HireSpec h;
    h.staff_no = e.staff_no;
    h.full_name = e.full_name;
    h.unit = e.to_unit;
    h.position = e.position;
    h.date = e.date;
    h.decision = e.decision;
    h.kind = AssignmentKind::hire;
    if (h.full_name.empty()) return make_error(Errc::invalid_argument, "a hire needs full_name");
    auto r = c.hire(h);
    if (!r) return r.error();
    return ok_status();
  }
  auto p = c.by_staff_no(e.staff_no);
  if (!p) return make_error(Errc::not_found, "unknown person " + e.staff_no);
  if (p->status == PersonStatus::retired) return make_error(Errc::conflict, e.staff_no + " is retired");
  if (e.kind == "nghi_huu") {
    if (!e.from_unit.empty() && e.from_unit != p->unit)
      return make_error(Errc::conflict, e.staff_no + " is in unit " + p->unit + ", not " + e.from_unit);
    auto r = c.retire(p->id, e.date, e.decision);
    if (!r) return r.error();
    return ok_status();
  }
  MoveSpec m;
  m.person = p->id;
  m.to_unit = e.to_unit;
  m.position = e.position;
  m.expect_from = e.from_unit;
  m.date = e.date;
  m.decision = e.decision;
  m.kind = e.kind == "dieu_dong" ? AssignmentKind::transfer
           : e.kind == "luan_chuyen" ? AssignmentKind::rotation
                                     : AssignmentKind::appointment;
  if (m.to_unit.empty() && m.kind != AssignmentKind::appointment)
    return make_error(Errc::invalid_argument, "a transfer needs to_unit");
  auto r = c.move(m);
  if (!r) return r.error();
  return ok_status();
}

}  // namespace

namespace {

EventRow decode_row(std::uint64_t seq, std::string_view body) {
  codec::Reader r(body);
  if (r.u8() != 1) throw codec::DecodeError("unknown event record version");
  EventRow e;
  e.seq = seq;
  e.date = r.str();
  e.staff_no = r.str();
  e.kind = r.str();
  e.from_unit = r.str();
  e.to_unit = r.str();
  e.position = r.str();
  e.decision = r.str();
  e.full_name = r.str();
  return e;
}

}  // namespace

std::vector<PendingEvent> pending_events(Snapshot& s) {
  std::vector<PendingEvent> out;
  s.scan(schema::event, "", [&](std::string_view k, std::string_view v) {
    if (v.empty() || v[0] != 'P') return true;
    EventRow e = decode_row(codec::get_be64(k), v.substr(1));
    out.push_back({e.seq, e.date, e.staff_no, e.kind, e.from_unit, e.to_unit, e.position, e.decision, e.full_name});
    return true;
  });
  return out;
}

Status apply_pending_event(Change& c, std::uint64_t seq) {
  std::string key;
  codec::put_be64(key, seq);
  auto v = c.get_raw(schema::event, key);
  if (!v || v->empty() || (*v)[0] != 'P') return make_error(Errc::not_found, "event " + std::to_string(seq) + " is not pending");
  std::string body(v->substr(1));
  auto s = apply_one(c, decode_row(seq, body));
  if (s) {
    c.put(schema::event, key, "A" + body);
    return s;
  }
  // Dropped: a later `events apply` of the file tries it again and reports it.
  c.del(schema::event, key);
  c.audit("event.failed", "", "", json_object({{"seq", std::to_string(seq)}, {"error", s.error().message}}));
  return s;
}

Result<EventsReport> apply_events(Change& c, const CsvFile& f, const std::string& as_of, bool stop_on_error) {
  if (!valid_date(as_of)) return make_error(Errc::invalid_argument, "--as-of '" + as_of + "' is not a date YYYY-MM-DD");
  auto table = CsvTable::parse(f.text, {"seq", "effective_date", "staff_no", "kind", "from_unit", "to_unit",
                                        "position", "decision_no"},
                               f.name);
  if (!table) return table.error();
  auto bad = [&](std::size_t line, const std::string& why) {
    return make_error(Errc::invalid_argument, f.name + ":" + std::to_string(line) + ": " + why);
  };
  std::vector<EventRow> rows;
  for (const auto& r : table->rows()) {
    EventRow e;
    e.line = r.line;
    const auto& seq = table->get(r, "seq");
    if (seq.empty() || seq.size() > 18 || !std::all_of(seq.begin(), seq.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      return bad(r.line, "seq '" + seq + "' is not a positive integer");
    e.seq = std::stoull(seq);
    e.date = table->get(r, "effective_date");
    if (!valid_date(e.date)) return bad(r.line, "effective_date '" + e.date + "' is not a date YYYY-MM-DD");
    e.staff_no = table->get(r, "staff_no");
    e.kind = table->get(r, "kind");
    if (std::find(std::begin(kKinds), std::end(kKinds), e.kind) == std::end(kKinds))
      return bad(r.line, "kind '" + e.kind + "' is not one of dieu_dong, luan_chuyen, bo_nhiem, nghi_huu, tiep_nhan");
    e.from_unit = table->get(r, "from_unit");
    e.to_unit = table->get(r, "to_unit");
    e.position = table->get(r, "position");
    e.decision = table->get(r, "decision_no");
    if (table->has_column("full_name")) e.full_name = table->get(r, "full_name");
    for (const auto& field : r.fields)
      if (!text::valid_utf8(field)) return bad(r.line, "not valid UTF-8 (save the file as UTF-8)");
    rows.push_back(std::move(e));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const EventRow& a, const EventRow& b) {
    return a.date != b.date ? a.date < b.date : a.seq < b.seq;
  });
  std::set<std::uint64_t> seqs;
  for (const auto& e : rows)
    if (!seqs.insert(e.seq).second) return bad(e.line, "seq " + std::to_string(e.seq) + " appears twice in the file");

  EventsReport rep;
  for (const auto& e : rows) {
    std::string key;
    codec::put_be64(key, e.seq);
    std::string body = encode_row(e);
    auto prior = c.get_raw(schema::event, key);
    if (prior && !prior->empty() && prior->substr(1) != body) {
      EventOutcome o{e.seq, "seq " + std::to_string(e.seq) + " was already recorded for a different event"};
      if (stop_on_error) return make_error(Errc::conflict, "seq " + std::to_string(e.seq) + ": " + o.message);
      rep.failed.push_back(std::move(o));
      continue;
    }
    if (prior && (*prior)[0] == 'A') {
      ++rep.already_applied;
      continue;
    }
    if (e.date > as_of) {
      if (!prior) c.put(schema::event, key, "P" + body);
      ++rep.pending;
      continue;
    }
    auto s = apply_one(c, e);
    if (!s) {
      if (stop_on_error) return make_error(s.error().code, "seq " + std::to_string(e.seq) + ": " + s.error().message);
      rep.failed.push_back({e.seq, s.error().message});
      continue;
    }
    c.put(schema::event, key, "A" + body);
    ++rep.applied;
  }
  return rep;
}

}  // namespace congvu::directory
