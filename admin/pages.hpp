// The admin console's HTML: Vietnamese first (English beside the headings), no external assets
// (one stylesheet served at /admin/style.css, no scripts), usable at 360 px, labelled form
// controls, errors announced with role="alert". The "dialogs" are <details> disclosures holding
// ordinary forms, so everything works without JavaScript.
// Pure functions over plain views, built with Html (common/html.hpp): every value they put into a
// page is escaped, and a page body can only be Html.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/html.hpp"

namespace congvu::admin {

// The frame around every page: the admin's name and roles, the navigation, sign-out.
struct Frame {
  std::string title_vi, title_en;
  std::string who, roles;  // the signed-in admin; "hr-admin 000.00.02.H99, ..."
  std::string csrf;        // for the sign-out form
  std::string section;     // search | units | pending | audit: marks the current link
};
std::string frame_html(const Frame& f, const Html& body);

struct PersonRow {
  std::string id, name, login, address, unit_code, unit_name, position, status;
};

struct SearchView {
  std::string q, unit, unit_name;  // unit: restricted to this subtree (from the unit tree)
  bool any_status = false;         // include suspended and retired people
  bool searched = false;
  std::vector<PersonRow> rows;
  bool more = false;               // the limit cut the list
  std::string error, notice;
};
Html search_html(const SearchView& v);

struct HistoryRow {
  std::string from, to, kind, unit_code, unit_name, position, decision, closed_by;
};
struct AuditRow {
  std::uint64_t seq = 0;
  std::string time, actor, action, target, target_href, reason, detail;
};
struct ScheduledRow {
  std::uint64_t number = 0;
  std::string date, kind, person_name, person_href, summary, decision, actor;
  bool cancellable = false;
};

// What the change forms hold: after a refused submit, the values come back with the error.
struct ChangeForm {
  std::string action;  // transfer | rotation | appointment | suspend | resume | retire
  std::string to_unit, position, date, decision, reason, successor;
};

struct PersonView {
  PersonRow p;
  std::string staff_no, gender, birth_date;  // personal data: only for those who manage the person
  bool personal = false;
  std::vector<std::string> unit_path, groups, aliases;
  std::string manager, manager_href;
  std::string successor, successor_href, keep_until;  // retired
  std::vector<HistoryRow> history;
  std::vector<ScheduledRow> scheduled;
  std::vector<AuditRow> audit;
  bool can_write = false;
  std::string csrf, today;
  std::vector<std::pair<std::string, std::string>> units;  // code, name: the transfer list
  ChangeForm form;     // the open form after a refusal (empty action: none)
  std::string error;   // why it was refused
  std::string notice;  // what was done
};
Html person_html(const PersonView& v);

struct UnitNode {
  std::string code, name, kind;
  std::uint64_t members = 0, total = 0;  // in the unit itself / in its subtree
  std::vector<UnitNode> children;
};
Html units_html(const std::vector<UnitNode>& roots);

struct PendingEventRow {
  std::uint64_t seq = 0;
  std::string date, staff_no, name, kind, from_unit, to_unit, position, decision;
};
// A proposal: a move into a unit its proposer does not cover (directory/hr.hpp).
struct ProposalRow {
  std::uint64_t number = 0;
  std::string date, kind, person_name, person_href, from, to, position, decision, proposer;
  bool acceptable = false;  // the viewer covers the target unit
};

struct PendingView {
  std::vector<ProposalRow> proposals;
  std::vector<ScheduledRow> scheduled;
  std::vector<PendingEventRow> events;
  std::string csrf, notice, error;
};
Html pending_html(const PendingView& v);

struct AuditView {
  std::vector<AuditRow> rows;
  std::uint64_t older = 0;  // link to records before this seq (0: none)
  std::string csrf;
  bool verified = false;    // a verification ran: its result follows
  bool ok = false;
  std::uint64_t records = 0, first_bad = 0;
  std::string problem;
};
Html audit_html(const AuditView& v);

// A page for a refusal or failure inside the console (no navigation when `frame` is null).
std::string message_html(const Frame* frame, std::string_view title_vi, std::string_view title_en,
                         std::string_view text_vi, std::string_view text_en);

std::string_view style_css();

// "2026-11-22 14:05" in Asia/Ho_Chi_Minh.
std::string vn_time(std::int64_t unix_ms);
// Vietnamese names of the lifecycle kinds and statuses.
std::string_view kind_vi(std::string_view kind);
std::string_view status_vi(std::string_view status);

}  // namespace congvu::admin
