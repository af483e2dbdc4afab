#include "admin/pages.hpp"

#include "common/time.hpp"
#include "common/web.hpp"

namespace congvu::admin {

namespace {

// Markup only from the literals here; every value is escaped by Html (common/html.hpp).
Html hidden(std::string_view name, std::string_view value) {
  return std::move(Html("<input type=\"hidden\" name=\"") << name << "\" value=\"" << value << "\">");
}

Html heading(std::string_view level, std::string_view vi, std::string_view en) {
  return std::move(Html("<") << level << ">" << vi << " <span lang=\"en\">· " << en << "</span></" << level << ">");
}

Html alert(std::string_view text) {
  if (text.empty()) return {};
  return std::move(Html("<p class=\"error\" role=\"alert\">") << text << "</p>");
}

Html notice(std::string_view text) {
  if (text.empty()) return {};
  return std::move(Html("<p class=\"notice\" role=\"status\">") << text << "</p>");
}

// A name, linked when there is somewhere to go.
Html link(std::string_view href, std::string_view text) {
  if (href.empty()) return Html::text(text);
  return std::move(Html("<a href=\"") << href << "\">" << text << "</a>");
}

Html person_link(const std::string& id, const std::string& name) { return link("/admin/person/" + id, name); }

Html unit_cell(const std::string& code, const std::string& name) {
  if (code.empty()) return "—";
  return std::move(Html() << (name.empty() ? code : name) << " <span class=\"code\">" << code << "</span>");
}

// Items joined by a separator, each escaped.
Html joined(const std::vector<std::string>& items, std::string_view separator) {
  Html h;
  for (std::size_t i = 0; i < items.size(); ++i) h << (i ? separator : std::string_view()) << items[i];
  return h;
}

std::string document(std::string_view title, const Html& inner) {
  Html d("<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>");
  d << title << " — Quản trị Congvu</title><link rel=\"stylesheet\" href=\"/admin/style.css\"></head><body>" << inner
    << "</body></html>\n";
  return std::move(d).str();
}

// One labelled field of a change form; `attrs` is markup (the input's type and limits).
Html field(std::string_view id, std::string_view name, std::string_view label, std::string_view value, const Html& attrs,
           std::string_view hint = {}) {
  Html f("<div class=\"field\"><label for=\"");
  f << id << "\">" << label << "</label>";
  if (!hint.empty()) f << "<span class=\"hint\" id=\"" << id << "-hint\">" << hint << "</span>";
  f << "<input id=\"" << id << "\" name=\"" << name << "\" value=\"" << value << "\" " << attrs;
  if (!hint.empty()) f << " aria-describedby=\"" << id << "-hint\"";
  return std::move(f << "></div>");
}

Html scheduled_table(const std::vector<ScheduledRow>& rows, std::string_view csrf, bool with_person,
                     std::string_view return_to) {
  Html t("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Số</th><th scope=\"col\">Ngày hiệu lực</th>");
  if (with_person) t << "<th scope=\"col\">Cán bộ</th>";
  t << "<th scope=\"col\">Thay đổi</th><th scope=\"col\">Quyết định</th><th scope=\"col\">Người lập</th>"
       "<th scope=\"col\"><span class=\"visually-hidden\">Thao tác</span></th></tr></thead><tbody>";
  for (const auto& r : rows) {
    t << "<tr><td>" << static_cast<long long>(r.number) << "</td><td>" << r.date << "</td>";
    if (with_person) t << "<td>" << link(r.person_href, r.person_name) << "</td>";
    t << "<td>" << kind_vi(r.kind);
    if (!r.summary.empty()) t << ": " << r.summary;
    t << "</td><td>" << r.decision << "</td><td>" << r.actor << "</td><td>";
    if (r.cancellable)
      t << "<form method=\"post\" action=\"/admin/pending\">" << hidden("csrf", csrf)
        << hidden("cancel", std::to_string(r.number)) << hidden("return_to", return_to)
        << "<button type=\"submit\" class=\"secondary\">Hủy <span class=\"visually-hidden\">thay đổi số "
        << static_cast<long long>(r.number) << "</span></button></form>";
    t << "</td></tr>";
  }
  return std::move(t << "</tbody></table></div>");
}

Html audit_table(const std::vector<AuditRow>& rows) {
  Html t("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">#</th><th scope=\"col\">Thời gian</th>"
         "<th scope=\"col\">Người thực hiện</th><th scope=\"col\">Hành động</th><th scope=\"col\">Đối tượng</th>"
         "<th scope=\"col\">Lý do / quyết định</th><th scope=\"col\">Chi tiết</th></tr></thead><tbody>");
  for (const auto& r : rows)
    t << "<tr><td>" << static_cast<long long>(r.seq) << "</td><td>" << r.time << "</td><td>" << r.actor
      << "</td><td><code>" << r.action << "</code></td><td>" << link(r.target_href, r.target) << "</td><td>" << r.reason
      << "</td><td class=\"detail\"><code>" << r.detail << "</code></td></tr>";
  return std::move(t << "</tbody></table></div>");
}

}  // namespace

std::string vn_time(std::int64_t unix_ms) {
  std::string t = rfc3339(unix_ms + 7LL * 3600 * 1000);  // Asia/Ho_Chi_Minh has no daylight saving
  t = t.substr(0, 16);
  if (t.size() > 10) t[10] = ' ';
  return t;
}

std::string_view kind_vi(std::string_view kind) {
  if (kind == "hire") return "Tuyển dụng";
  if (kind == "transfer") return "Điều động";
  if (kind == "rotation") return "Luân chuyển";
  if (kind == "appointment") return "Bổ nhiệm";
  if (kind == "suspend") return "Tạm đình chỉ";
  if (kind == "resume") return "Khôi phục";
  if (kind == "retire") return "Nghỉ hưu";
  if (kind == "import") return "Nhập dữ liệu";
  return kind;
}

std::string_view status_vi(std::string_view status) {
  if (status == "active") return "Đang công tác";
  if (status == "suspended") return "Tạm đình chỉ";
  if (status == "retired") return "Đã nghỉ hưu";
  return status;
}

std::string frame_html(const Frame& f, const Html& body) {
  auto nav = [&](std::string_view section, std::string_view href, std::string_view label) {
    Html a("<a href=\"");
    a << href << "\"";
    if (f.section == section) a << " aria-current=\"page\"";
    return std::move(a << ">" << label << "</a>");
  };
  Html s("<header><p class=\"brand\">Congvu · Quản trị nhân sự</p><nav aria-label=\"Chính\">");
  s << nav("search", "/admin", "Tìm cán bộ") << nav("units", "/admin/units", "Đơn vị")
    << nav("pending", "/admin/pending", "Chờ hiệu lực") << nav("audit", "/admin/audit", "Nhật ký")
    << "</nav><div class=\"who\"><span>" << f.who << "</span> <span class=\"roles\">" << f.roles
    << "</span><form method=\"post\" action=\"/admin/logout\">" << hidden("csrf", f.csrf)
    << "<button type=\"submit\" class=\"link\">Đăng xuất</button></form></div></header><main>"
    << heading("h1", f.title_vi, f.title_en) << body << "</main>";
  return document(f.title_vi, s);
}

std::string message_html(const Frame* frame, std::string_view title_vi, std::string_view title_en,
                         std::string_view text_vi, std::string_view text_en) {
  Html body("<p>");
  body << text_vi << "</p><p lang=\"en\">" << text_en << "</p>";
  if (frame) {
    Frame f = *frame;
    f.title_vi = std::string(title_vi);
    f.title_en = std::string(title_en);
    return frame_html(f, body);
  }
  return document(title_vi, Html("<header><p class=\"brand\">Congvu · Quản trị nhân sự</p></header><main>")
                                << heading("h1", title_vi, title_en) << body
                                << "<p><a href=\"/admin\">Trang quản trị</a></p></main>");
}

Html search_html(const SearchView& v) {
  Html s = notice(v.notice);
  s << "<form method=\"get\" action=\"/admin\" role=\"search\" class=\"search\">"
       "<div class=\"field\"><label for=\"q\">Họ tên, tài khoản, địa chỉ thư hoặc mã cán bộ</label>"
       "<span class=\"hint\" id=\"q-hint\">Gõ có dấu hoặc không dấu, ví dụ: nguyen van an</span>"
       "<input id=\"q\" name=\"q\" type=\"search\" value=\""
    << v.q << "\" aria-describedby=\"q-hint\" autocomplete=\"off\"></div>";
  if (!v.unit.empty()) s << hidden("unit", v.unit);
  s << "<div class=\"field check\"><input type=\"checkbox\" id=\"all\" name=\"status\" value=\"all\""
    << (v.any_status ? Html(" checked") : Html())
    << "><label for=\"all\">Gồm cả người tạm đình chỉ, đã nghỉ hưu</label></div>"
       "<button type=\"submit\">Tìm <span lang=\"en\">· Search</span></button></form>";
  if (!v.unit.empty())
    s << "<p>Trong đơn vị: <strong>" << unit_cell(v.unit, v.unit_name)
      << "</strong> và các đơn vị trực thuộc. <a href=\"/admin?q=" << web::percent_encode(v.q)
      << "\">Tìm trong mọi đơn vị được giao</a></p>";
  s << alert(v.error);
  if (!v.searched) return s;
  s << "<h2 id=\"results\">Kết quả <span lang=\"en\">· Results</span></h2>";
  if (v.rows.empty()) return std::move(s << "<p role=\"status\">Không tìm thấy cán bộ nào.</p>");
  s << "<p role=\"status\">" << v.rows.size();
  if (v.more)
    s << "+ cán bộ — hãy gõ thêm để thu hẹp.</p>";
  else
    s << " cán bộ.</p>";
  s << "<div class=\"scroll\"><table aria-labelledby=\"results\"><thead><tr><th scope=\"col\">Họ tên</th><th scope=\"col\">Tài khoản</th>"
       "<th scope=\"col\">Đơn vị</th><th scope=\"col\">Chức vụ</th><th scope=\"col\">Trạng thái</th></tr></thead><tbody>";
  for (const auto& r : v.rows)
    s << "<tr><td>" << person_link(r.id, r.name) << "</td><td>" << r.address << "</td><td>"
      << unit_cell(r.unit_code, r.unit_name) << "</td><td>" << r.position << "</td><td>" << status_vi(r.status)
      << "</td></tr>";
  return std::move(s << "</tbody></table></div>");
}

Html person_html(const PersonView& v) {
  const auto& p = v.p;
  Html s = notice(v.notice);
  if (v.form.action.empty()) s << alert(v.error);
  s << "<dl class=\"facts\"><dt>Tài khoản</dt><dd>" << p.login << "</dd><dt>Địa chỉ thư</dt><dd>" << p.address << "</dd>";
  if (!v.aliases.empty()) s << "<dt>Bí danh</dt><dd>" << joined(v.aliases, ", ") << "</dd>";
  s << "<dt>Trạng thái</dt><dd>" << status_vi(p.status) << "</dd><dt>Đơn vị</dt><dd>" << unit_cell(p.unit_code, p.unit_name);
  if (v.unit_path.size() > 1) s << "<br><span class=\"muted\">" << joined(v.unit_path, " › ") << "</span>";
  s << "</dd><dt>Chức vụ</dt><dd>" << (p.position.empty() ? std::string_view("—") : std::string_view(p.position)) << "</dd>";
  if (!v.manager.empty()) s << "<dt>Thủ trưởng</dt><dd>" << link(v.manager_href, v.manager) << "</dd>";
  if (v.personal) {
    s << "<dt>Mã cán bộ</dt><dd>" << v.staff_no << "</dd>";
    if (!v.gender.empty())
      s << "<dt>Giới tính</dt><dd>"
        << (v.gender == "F" ? std::string_view("Nữ") : v.gender == "M" ? std::string_view("Nam") : std::string_view(v.gender))
        << "</dd>";
    if (!v.birth_date.empty()) s << "<dt>Ngày sinh</dt><dd>" << v.birth_date << "</dd>";
  }
  if (!v.keep_until.empty()) {
    s << "<dt>Thư chuyển tới</dt><dd>";
    if (v.successor.empty())
      s << "— (trả lời tự động)";
    else
      s << link(v.successor_href, v.successor);
    s << "</dd><dt>Giữ hộp thư đến</dt><dd>" << v.keep_until << "</dd>";
  }
  if (!v.groups.empty()) s << "<dt>Nhóm</dt><dd>" << joined(v.groups, ", ") << "</dd>";
  s << "</dl>";

  if (v.can_write) {
    s << heading("h2", "Thay đổi", "Changes");
    // The transfer form's radio buttons choose transfer or rotation: its group is "move".
    auto opened = [&](std::string_view group) {
      return v.form.action == group || (group == "move" && (v.form.action == "transfer" || v.form.action == "rotation"));
    };
    const ChangeForm empty;
    auto val = [&](std::string_view group, const std::string ChangeForm::*m) -> const std::string& {
      return opened(group) ? v.form.*m : empty.*m;
    };
    auto form = [&](std::string_view group, std::string_view summary, std::string_view submit, const Html& fields) {
      bool open = opened(group);
      Html f("<details class=\"dialog\"");
      f << (open ? Html(" open") : Html()) << "><summary>" << summary << "</summary><form method=\"post\" action=\"/admin/person/"
        << p.id << "\">" << hidden("csrf", v.csrf) << hidden("from", p.unit_code);
      if (group != "move") f << hidden("action", group);
      if (open) f << alert(v.error);
      return std::move(f << fields << "<button type=\"submit\">" << submit << "</button></form></details>");
    };
    std::string date_hint = "Để trống: có hiệu lực ngay hôm nay (" + v.today + "). Ngày sau sẽ được lên lịch.";
    auto common = [&](std::string_view group, bool decision_required) {
      std::string id(group);
      return std::move(
          Html() << field(id + "-date", "date", "Ngày hiệu lực", val(group, &ChangeForm::date),
                          "type=\"date\" min=\"1900-01-01\"", date_hint)
                 << field(id + "-decision", "decision", decision_required ? "Số quyết định (bắt buộc)" : "Số quyết định",
                          val(group, &ChangeForm::decision),
                          decision_required ? Html("type=\"text\" maxlength=\"100\" autocomplete=\"off\" required")
                                            : Html("type=\"text\" maxlength=\"100\" autocomplete=\"off\""),
                          "Ví dụ: 123/QĐ-UBND")
                 << "<div class=\"field\"><label for=\"" << id << "-reason\">Lý do</label><textarea id=\"" << id
                 << "-reason\" name=\"reason\" rows=\"2\" maxlength=\"1000\">" << val(group, &ChangeForm::reason)
                 << "</textarea></div>");
    };
    auto retire = [&] {
      return form("retire", "Nghỉ hưu", "Cho nghỉ hưu",
                  Html() << field("retire-successor", "successor", "Người nhận thư thay", val("retire", &ChangeForm::successor),
                                  "type=\"text\" maxlength=\"200\" autocomplete=\"off\"",
                                  "Tài khoản hoặc địa chỉ thư; để trống: thư đến được trả lời tự động")
                         << common("retire", true));
    };
    if (p.status == "active") {
      bool rotation = v.form.action == "rotation";
      Html list("<datalist id=\"units\">");
      for (const auto& [code, name] : v.units) list << "<option value=\"" << code << "\">" << name << "</option>";
      list << "</datalist>";
      s << form("move", "Điều động / luân chuyển", "Điều động",
                Html("<fieldset><legend>Hình thức</legend><div class=\"check\"><input type=\"radio\" id=\"kind-transfer\" "
                     "name=\"action\" value=\"transfer\"")
                    << (rotation ? Html() : Html(" checked"))
                    << "><label for=\"kind-transfer\">Điều động</label></div><div class=\"check\"><input type=\"radio\" "
                       "id=\"kind-rotation\" name=\"action\" value=\"rotation\""
                    << (rotation ? Html(" checked") : Html())
                    << "><label for=\"kind-rotation\">Luân chuyển</label></div></fieldset>" << list
                    << field("move-unit", "to_unit", "Đơn vị mới (mã đơn vị)", val("move", &ChangeForm::to_unit),
                             "type=\"text\" list=\"units\" required autocomplete=\"off\"",
                             "Gõ tên hoặc mã đơn vị và chọn trong danh sách")
                    << field("move-position", "position", "Chức vụ mới", val("move", &ChangeForm::position),
                             "type=\"text\" maxlength=\"200\"", "Để trống: giữ chức vụ hiện tại")
                    << common("move", true));
      s << form("appointment", "Bổ nhiệm", "Bổ nhiệm",
                Html() << field("appointment-position", "position", "Chức vụ được bổ nhiệm (bắt buộc)",
                                val("appointment", &ChangeForm::position), "type=\"text\" maxlength=\"200\" required")
                       << common("appointment", true));
      s << form("suspend", "Tạm đình chỉ", "Tạm đình chỉ", common("suspend", false));
      s << retire();
    } else if (p.status == "suspended") {
      s << form("resume", "Khôi phục", "Khôi phục", common("resume", false));
      s << retire();
    } else {
      s << "<p class=\"muted\">Người đã nghỉ hưu: không còn thay đổi nào.</p>";
    }
  }

  if (!v.scheduled.empty())
    s << heading("h2", "Chờ hiệu lực", "Scheduled") << scheduled_table(v.scheduled, v.csrf, false, "/admin/person/" + p.id);
  s << heading("h2", "Quá trình công tác", "Assignment history")
    << "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Từ ngày</th><th scope=\"col\">Đến ngày</th>"
       "<th scope=\"col\">Hình thức</th><th scope=\"col\">Đơn vị</th><th scope=\"col\">Chức vụ</th>"
       "<th scope=\"col\">Quyết định</th></tr></thead><tbody>";
  for (const auto& h : v.history) {
    s << "<tr><td>" << (h.from.empty() ? std::string_view("—") : std::string_view(h.from)) << "</td><td>"
      << (h.to.empty() ? std::string_view("nay") : std::string_view(h.to)) << "</td><td>" << kind_vi(h.kind) << "</td><td>"
      << unit_cell(h.unit_code, h.unit_name) << "</td><td>" << h.position << "</td><td>" << h.decision;
    if (!h.closed_by.empty()) s << "<br><span class=\"muted\">kết thúc: " << h.closed_by << "</span>";
    s << "</td></tr>";
  }
  s << "</tbody></table></div>" << heading("h2", "Nhật ký thay đổi", "Audit trail");
  if (v.audit.empty())
    s << "<p>Chưa có bản ghi.</p>";
  else
    s << audit_table(v.audit);
  return s;
}

namespace {
void unit_tree(Html& s, const UnitNode& n, int depth) {
  Html label("<a href=\"/admin?unit=");
  label << web::percent_encode(n.code) << "\">" << n.name << "</a> <span class=\"code\">" << n.code
        << "</span> <span class=\"count\">" << static_cast<long long>(n.members) << " người";
  if (!n.children.empty()) label << " · " << static_cast<long long>(n.total) << " cả đơn vị trực thuộc";
  label << "</span>";
  if (n.children.empty()) {
    s << "<li>" << label << "</li>";
    return;
  }
  s << "<li><details" << (depth < 1 ? Html(" open") : Html()) << "><summary>" << label << "</summary><ul>";
  for (const auto& c : n.children) unit_tree(s, c, depth + 1);
  s << "</ul></details></li>";
}
}  // namespace

Html units_html(const std::vector<UnitNode>& roots) {
  Html s("<p class=\"muted\">Số người: đang công tác và tạm đình chỉ, tại đơn vị · và cả các đơn vị trực thuộc. "
         "Chọn tên đơn vị để xem danh sách.</p><ul class=\"tree\">");
  for (const auto& r : roots) unit_tree(s, r, 0);
  return std::move(s << "</ul>");
}

Html pending_html(const PendingView& v) {
  Html s = notice(v.notice);
  s << alert(v.error) << heading("h2", "Đề nghị điều động chờ đơn vị nhận", "Proposals awaiting the receiving unit");
  if (v.proposals.empty()) {
    s << "<p>Không có đề nghị nào.</p>";
  } else {
    s << "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">#</th><th scope=\"col\">Ngày hiệu lực</th>"
         "<th scope=\"col\">Họ tên</th><th scope=\"col\">Thay đổi</th><th scope=\"col\">Từ đơn vị</th><th scope=\"col\">Đến đơn vị</th>"
         "<th scope=\"col\">Chức vụ</th><th scope=\"col\">Quyết định</th><th scope=\"col\">Người đề nghị</th>"
         "<th scope=\"col\">Quyết định của đơn vị nhận</th></tr></thead><tbody>";
    for (const auto& p : v.proposals) {
      std::string n = std::to_string(p.number);
      s << "<tr><td>" << n << "</td><td>" << p.date << "</td><td>" << link(p.person_href, p.person_name) << "</td><td>"
        << p.kind << "</td><td>" << p.from << "</td><td>" << p.to << "</td><td>" << p.position << "</td><td>" << p.decision
        << "</td><td>" << p.proposer << "</td><td><form method=\"post\" action=\"/admin/pending\">" << hidden("csrf", v.csrf)
        << hidden("proposal", n);
      if (p.acceptable) s << "<button type=\"submit\" name=\"decide\" value=\"accept\">Chấp nhận</button> ";
      s << "<label for=\"reason-" << n << "\">Lý do</label><input id=\"reason-" << n
        << "\" name=\"reason\" type=\"text\" maxlength=\"1000\"><button type=\"submit\" name=\"decide\" value=\"refuse\">"
        << (p.acceptable ? std::string_view("Từ chối") : std::string_view("Rút đề nghị")) << "</button></form></td></tr>";
    }
    s << "</tbody></table></div>";
  }
  s << heading("h2", "Thay đổi đã lên lịch", "Scheduled changes");
  if (v.scheduled.empty())
    s << "<p>Không có thay đổi nào chờ hiệu lực.</p>";
  else
    s << scheduled_table(v.scheduled, v.csrf, true, "/admin/pending");
  s << heading("h2", "Sự kiện nhân sự chờ hiệu lực", "Pending personnel events");
  if (v.events.empty()) return std::move(s << "<p>Không có sự kiện nào.</p>");
  s << "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">#</th><th scope=\"col\">Ngày</th><th scope=\"col\">Mã cán bộ</th>"
       "<th scope=\"col\">Họ tên</th><th scope=\"col\">Thay đổi</th><th scope=\"col\">Từ đơn vị</th><th scope=\"col\">Đến đơn vị</th>"
       "<th scope=\"col\">Chức vụ</th><th scope=\"col\">Quyết định</th></tr></thead><tbody>";
  for (const auto& e : v.events)
    s << "<tr><td>" << static_cast<long long>(e.seq) << "</td><td>" << e.date << "</td><td>" << e.staff_no << "</td><td>"
      << e.name << "</td><td>" << e.kind << "</td><td>" << e.from_unit << "</td><td>" << e.to_unit << "</td><td>"
      << e.position << "</td><td>" << e.decision << "</td></tr>";
  return std::move(s << "</tbody></table></div>");
}

Html audit_html(const AuditView& v) {
  Html s("<form method=\"post\" action=\"/admin/audit\">");
  s << hidden("csrf", v.csrf)
    << "<button type=\"submit\">Kiểm tra toàn vẹn chuỗi nhật ký <span lang=\"en\">· audit verify</span></button></form>";
  if (v.verified) {
    if (v.ok)
      s << "<p class=\"notice\" role=\"status\">Chuỗi nhật ký toàn vẹn: " << static_cast<long long>(v.records)
        << " bản ghi, mỗi bản ghi khớp với mã băm của bản ghi trước.</p>";
    else
      s << "<p class=\"error\" role=\"alert\">Chuỗi nhật ký bị hỏng từ bản ghi số " << static_cast<long long>(v.first_bad)
        << ": " << v.problem << "</p>";
  }
  s << heading("h2", "Bản ghi gần nhất", "Latest records");
  if (v.rows.empty())
    s << "<p>Không có bản ghi nào trong phạm vi được giao.</p>";
  else
    s << audit_table(v.rows);
  if (v.older) s << "<p><a href=\"/admin/audit?before=" << static_cast<long long>(v.older) << "\">Cũ hơn</a></p>";
  return s;
}

std::string_view style_css() {
  return R"css(*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;font-size:100%;line-height:1.5;color:#1b1b1b;background:#f4f5f7}
body{margin:0}
header{background:#9b1c1c;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center}
header a,header button.link{color:#fff}
.brand{margin:0;font-weight:600}
nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem}
nav a{padding:.25rem 0}
nav a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
.who{margin-left:auto;display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.who form{display:inline}
.roles{font-size:.875rem;opacity:.9}
main{max-width:72rem;margin:1rem auto;padding:1rem;background:#fff;border:1px solid #d0d4da;border-radius:.5rem}
h1{font-size:1.4rem;margin:0 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
[lang=en]{color:#4a4f57;font-weight:400}
header [lang=en],button [lang=en]{color:inherit}
.field{margin-bottom:.9rem}
.field.check,.check{display:flex;gap:.5rem;align-items:center}
.check label{font-weight:400;margin:0}
label,legend{display:block;font-weight:600;margin-bottom:.25rem}
fieldset{border:0;padding:0;margin:0 0 .9rem;display:flex;flex-wrap:wrap;gap:.25rem 1.5rem}
.hint{display:block;font-size:.875rem;color:#4a4f57;margin-bottom:.25rem}
input[type=text],input[type=search],input[type=date],textarea{width:100%;max-width:36rem;font-size:1rem;padding:.5rem;border:1px solid #6b7280;border-radius:.3rem;font-family:inherit}
input:focus,button:focus,textarea:focus,summary:focus,a:focus{outline:3px solid #1d4ed8;outline-offset:2px}
button{font-size:1rem;padding:.5rem 1.1rem;border:0;border-radius:.3rem;background:#1d4ed8;color:#fff;cursor:pointer;min-height:2.5rem}
button.secondary{background:#fff;color:#1b1b1b;border:1px solid #6b7280;min-height:2rem;padding:.25rem .75rem}
button.link{background:none;border:0;padding:0;min-height:0;text-decoration:underline;cursor:pointer}
.error{background:#fdecec;border-left:4px solid #9b1c1c;padding:.5rem .75rem;color:#7f1d1d}
.notice{background:#ecfdf3;border-left:4px solid #166534;padding:.5rem .75rem}
.muted,.code,.count{color:#4a4f57}
.code{font-size:.875rem;white-space:nowrap}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{border-bottom:1px solid #d0d4da;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f5f7}
td.detail code{font-size:.8rem;word-break:break-all}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 1rem}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0}
details.dialog{border:1px solid #d0d4da;border-radius:.4rem;margin:.5rem 0;padding:.5rem .75rem}
details.dialog[open]{background:#fafbfc}
details.dialog summary{font-weight:600;cursor:pointer}
details.dialog form{margin-top:.75rem}
ul.tree,ul.tree ul{list-style:none;padding-left:1.1rem;margin:0}
ul.tree>li{margin:.25rem 0}
ul.tree summary{cursor:pointer}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
form.search{margin-bottom:1rem}
@media (max-width:40rem){dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.5rem}.who{margin-left:0}}
)css";
}

}  // namespace congvu::admin
