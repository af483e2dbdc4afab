#include "admin/console.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <unordered_map>

#include "admin/pages.hpp"
#include "admin/session.hpp"
#include "common/crypto.hpp"
#include "common/text.hpp"
#include "common/web.hpp"
#include "directory/clients.hpp"
#include "directory/hr.hpp"
#include "directory/import.hpp"
#include "directory/jose.hpp"
#include "idp/provider.hpp"
#include "idp/store.hpp"

namespace congvu::admin {

using directory::Authority;
using directory::Change;
using directory::Person;
using directory::Snapshot;

namespace {

// Personal data in an audit record's detail (Decree 13/2023/NĐ-CP): the staff number, birth
// date and gender are shown only to an administrator who manages the person the record is
// about; anyone else (auditors, other units) sees them masked.
std::string released_detail(directory::Snapshot& s, const directory::Authority& who, const directory::AuditRecord& r) {
  if (auto pid = PersonId::parse(r.target))
    if (auto p = s.person(*pid); p && who.writes_person(s, *p)) return r.detail;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.detail, ec);
  if (ec || !v.is_object()) return r.detail;
  bool masked = false;
  for (auto& [k, val] : v.as_object())
    if ((k == "staff_no" || k == "birth_date" || k == "gender" || k == "staffNo") && val.is_string()) {
      val = "***";
      masked = true;
    }
  return masked ? boost::json::serialize(v) : r.detail;
}

constexpr const char* kCookie = "__Host-congvu-admin";
constexpr const char* kIdpCookie = "__Host-congvu";
constexpr UnixMs kLoginWindow = 10 * 60 * 1000;  // from /admin/login to /admin/callback
constexpr UnixMs kTouchEvery = 60 * 1000;        // last_seen is written at most this often
constexpr std::size_t kAuditPage = 100;
constexpr std::uint64_t kAuditWindow = 5000;      // records examined per audit page

const char* kCsp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                   "base-uri 'none'";

net::HttpResponse page(int status, std::string body) {
  return net::HttpResponse{status,
                           "text/html; charset=utf-8",
                           {{"Content-Security-Policy", kCsp},
                            {"X-Frame-Options", "DENY"},
                            {"Cache-Control", "no-store"},
                            {"Referrer-Policy", "same-origin"}},
                           std::move(body)};
}

net::HttpResponse see_other(const std::string& location, std::string cookie = {}) {
  net::HttpResponse r{303, "text/plain; charset=utf-8", {{"Location", location}, {"Cache-Control", "no-store"}}, ""};
  if (!cookie.empty()) r.headers["Set-Cookie"] = std::move(cookie);
  return r;
}

std::string cookie_header(std::string_view value, UnixMs max_age_ms) {
  return std::string(kCookie) + "=" + std::string(value) + "; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=" +
         std::to_string(max_age_ms / 1000);
}

int http_status(Errc e) {
  switch (e) {
    case Errc::invalid_argument: return 400;
    case Errc::not_found: return 404;
    case Errc::conflict: return 409;
    case Errc::unauthorized: return 401;
    case Errc::forbidden: return 403;
    case Errc::unavailable: return 503;
    default: return 500;
  }
}

// A return path inside the console, or /admin.
std::string console_path(std::string_view p) {
  if (!web::local_path(p) || (p != "/admin" && p.rfind("/admin/", 0) != 0 && p.rfind("/admin?", 0) != 0) ||
      p.find_first_of("\r\n") != std::string_view::npos || p.size() > 1000)
    return "/admin";
  return std::string(p);
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

bool reads_everything(Snapshot& s, const Authority& a) {
  for (const auto& root : a.read_roots()) {
    if (root.empty()) return true;
    auto u = s.unit(root);
    if (u && u->parent.empty()) return true;
  }
  return false;
}

std::string roles_text(Snapshot& s, const PersonId& id) {
  std::string out;
  for (const auto& g : directory::grants_of(s, id))
    out += (out.empty() ? "" : ", ") + std::string(directory::role_name(g.role)) + " " + g.unit;
  return out;
}

// Unit names by code, read once per request.
class UnitNames {
 public:
  explicit UnitNames(Snapshot& s) : s_(s) {}
  const std::string& operator()(const std::string& code) {
    auto it = names_.find(code);
    if (it != names_.end()) return it->second;
    auto u = code.empty() ? std::nullopt : s_.unit(code);
    return names_.emplace(code, u ? u->name : std::string()).first->second;
  }

 private:
  Snapshot& s_;
  std::unordered_map<std::string, std::string> names_;
};

PersonRow row_of(const Person& p, UnitNames& names) {
  return PersonRow{p.id.str(), p.full_name, p.login, p.address, p.unit, names(p.unit), p.position,
                   directory::status_name(p.status)};
}

std::vector<directory::Unit> all_units(Snapshot& s) {
  std::vector<directory::Unit> out;
  s.scan(directory::schema::unit, "", [&](std::string_view, std::string_view v) {
    auto u = directory::decode_unit(v);
    if (u.dissolved.empty()) out.push_back(std::move(u));  // dissolved units left the tree
    return true;
  });
  return out;
}

}  // namespace

struct Console::Impl {
  directory::Directory& dir;
  idp::Provider& idp;
  ConsoleConfig cfg;

  // One request, with the signed-in admin once established.
  struct Ctx {
    const net::HttpRequest& http;
    std::string path;
    std::map<std::string, std::string> params;  // query (GET) or form (POST)
    bool params_ok = true;
    std::string cookie;
    ConsoleSession session;
    Person admin;
    std::string roles;
    std::string get(const std::string& name) const {
      auto it = params.find(name);
      return it == params.end() ? std::string() : it->second;
    }
  };

  std::string derive(std::string_view purpose, std::string_view secret) const {
    return directory::jose::b64url(crypto::hmac_sha256(cfg.csrf_key, "admin " + std::string(purpose) + "\n" + std::string(secret)));
  }
  std::string csrf(const Ctx& c) const { return derive("csrf", c.cookie); }
  std::string redirect_uri() const { return cfg.issuer + "/admin/callback"; }

  Frame frame(const Ctx& c, std::string section, std::string vi, std::string en) const {
    return Frame{std::move(vi), std::move(en), c.admin.full_name, c.roles, csrf(c), std::move(section)};
  }
  Authority authority(Snapshot& s, const Ctx& c) const { return directory::authority_of(s, c.admin); }

  std::optional<net::HttpResponse> handle(const net::HttpRequest& http, UnixMs now);
  net::HttpResponse login(const Ctx& c);
  net::HttpResponse callback(const Ctx& c, UnixMs now);
  net::HttpResponse logout(const Ctx& c, UnixMs now);
  net::HttpResponse search(const Ctx& c);
  net::HttpResponse person(const Ctx& c, const PersonId& id, UnixMs now, ChangeForm form = {}, std::string error = {},
                           int status = 200);
  net::HttpResponse change(const Ctx& c, const PersonId& id, UnixMs now);
  net::HttpResponse units(const Ctx& c);
  net::HttpResponse pending(const Ctx& c, UnixMs now);
  net::HttpResponse audit(const Ctx& c);
  net::HttpResponse refused(const Ctx* c, int status, std::string_view vi, std::string_view en) const {
    std::optional<Frame> f;
    if (c) f = frame(*c, "", "", "");
    return page(status, message_html(f ? &*f : nullptr, status == 403 ? "Không được phép" : "Không thực hiện được",
                                     status == 403 ? "Not allowed" : "Cannot continue", vi, en));
  }
};

Console::Console(directory::Directory& dir, idp::Provider& idp, ConsoleConfig cfg)
    : impl_(std::make_unique<Impl>(Impl{dir, idp, std::move(cfg)})) {}
Console::~Console() = default;

std::optional<net::HttpResponse> Console::handle(const net::HttpRequest& req, UnixMs now) { return impl_->handle(req, now); }

Status Console::register_client(directory::Directory& dir, const std::string& issuer, UnixMs now) {
  directory::Client want;
  want.id = kClientId;
  want.name = "Quản trị nhân sự Congvu";
  want.confidential = false;
  want.auth = directory::ClientAuth::none;
  want.redirect_uris = {issuer + "/admin/callback"};
  want.post_logout_redirect_uris = {issuer + "/admin"};
  want.grants = {"authorization_code"};
  want.scopes = {"openid"};
  want.first_party = true;
  want.require_mfa = true;
  want.logout_events = {};
  auto done = dir.write(directory::Actor{"system"}, now, [&](Change& c) -> Status {
    auto have = directory::find_client(c, kClientId);
    if (have && have->redirect_uris == want.redirect_uris && have->post_logout_redirect_uris == want.post_logout_redirect_uris &&
        !have->confidential && have->first_party && have->require_mfa && have->grants == want.grants &&
        have->scopes == want.scopes)
      return ok_status();
    if (have)
      if (auto st = directory::remove_client(c, kClientId); !st) return st;
    auto added = directory::add_client(c, want);
    if (!added) return added.error();
    return ok_status();
  });
  return done;
}

std::optional<net::HttpResponse> Console::Impl::handle(const net::HttpRequest& http, UnixMs now) {
  std::string path(web::path_of(http.target));
  if (path != "/admin" && path.rfind("/admin/", 0) != 0) return std::nullopt;
  if (path == "/admin/style.css")
    return net::HttpResponse{200, "text/css; charset=utf-8", {{"Cache-Control", "max-age=86400"}}, std::string(style_css())};
  bool post = http.method == "POST";
  if (!post && http.method != "GET" && http.method != "HEAD")
    return net::HttpResponse{405, "text/plain; charset=utf-8", {{"Allow", "GET, POST"}}, "method not allowed\n"};
  Ctx c{http, path, {}, true, {}, {}, {}, {}};
  if (post) {
    auto ct = http.headers.count("content-type") ? http.headers.at("content-type") : std::string();
    if (ct.rfind("application/x-www-form-urlencoded", 0) != 0)
      return page(415, message_html(nullptr, "Không thực hiện được", "Cannot continue",
                                    "Biểu mẫu phải gửi dạng application/x-www-form-urlencoded.",
                                    "The form must be sent as application/x-www-form-urlencoded."));
  }
  auto decoded = web::decode_form(post ? std::string_view(http.body) : web::query_of(http.target));
  if (decoded) c.params = std::move(*decoded);
  else c.params_ok = false;
  auto cookies = web::cookies(http);
  if (auto it = cookies.find(kCookie); it != cookies.end()) c.cookie = it->second;

  if (path == "/admin/login") return login(c);
  if (path == "/admin/callback") return callback(c, now);

  // Everything else needs a session.
  std::optional<ConsoleSession> session;
  std::optional<Person> admin;
  std::string roles;
  bool allowed = false;
  if (c.cookie.rfind("S.", 0) == 0) {
    dir.read([&](Snapshot& s) {
      try {
        session = find_console_session(s, c.cookie, now, cfg.idle);
      } catch (const std::exception&) {
        session.reset();
      }
      if (!session) return;
      admin = s.person(session->person);
      if (!admin) return;
      allowed = directory::authority_of(s, *admin).any();
      roles = roles_text(s, admin->id);
    });
  }
  if (!session || !admin) {
    if (post)
      return page(403, message_html(nullptr, "Phiên đã hết hạn", "Session expired",
                                    "Phiên quản trị đã kết thúc. Hãy đăng nhập lại; thay đổi chưa được lưu.",
                                    "The admin session ended. Sign in again; the change was not saved."));
    std::string back = path + (web::query_of(http.target).empty() ? "" : "?" + std::string(web::query_of(http.target)));
    return see_other(web::with_params("/admin/login", {{"return_to", console_path(back)}}));
  }
  c.session = *session;
  c.admin = *admin;
  c.roles = roles;
  if (!allowed) return refused(nullptr, 403, "Tài khoản này không còn quyền quản trị.", "This account holds no admin role any more.");
  if (now - c.session.last_seen >= kTouchEvery) {
    c.session.last_seen = now;
    // Best effort: a failed touch only makes the session look idle sooner.
    [[maybe_unused]] auto touched = dir.write(directory::Actor{c.admin.login}, now, [&](Change& ch) -> Status {
      ch.put(directory::schema::admin_session, session_key(c.cookie), encode(c.session));
      return ok_status();
    });
  }
  if (post) {
    if (!c.params_ok || !crypto::equal_constant_time(c.get("csrf"), csrf(c)))
      return refused(&c, 403, "Biểu mẫu đã hết hạn hoặc không hợp lệ. Hãy tải lại trang.", "The form expired or is not valid.");
    auto origin = http.headers.find("origin");
    if (origin != http.headers.end() && origin->second != cfg.issuer)
      return refused(&c, 403, "Yêu cầu đến từ trang khác.", "The request came from another site.");
  } else if (!c.params_ok) {
    return refused(&c, 400, "Địa chỉ có tham số không hợp lệ.", "The address has malformed parameters.");
  }

  if (path == "/admin/logout") {
    if (!post) return net::HttpResponse{405, "text/plain; charset=utf-8", {{"Allow", "POST"}}, "method not allowed\n"};
    return logout(c, now);
  }
  if (path == "/admin" || path == "/admin/") {
    if (post) return net::HttpResponse{405, "text/plain; charset=utf-8", {{"Allow", "GET"}}, "method not allowed\n"};
    return search(c);
  }
  if (path.rfind("/admin/person/", 0) == 0) {
    auto id = PersonId::parse(path.substr(14));
    if (!id) return refused(&c, 404, "Không có cán bộ này.", "No such person.");
    if (post) return change(c, *id, now);
    return person(c, *id, now);
  }
  if (path == "/admin/units") return units(c);
  if (path == "/admin/pending") return pending(c, now);
  if (path == "/admin/audit") return audit(c);
  return refused(&c, 404, "Không có trang này.", "No such page.");
}

net::HttpResponse Console::Impl::login(const Ctx& c) {
  std::string r = idp::new_secret();
  std::string return_to = console_path(c.get("return_to"));
  std::string challenge = directory::jose::b64url(crypto::sha256_raw(derive("pkce", r)));
  std::string url = web::with_params("/oidc/authorize", {{"response_type", "code"},
                                                         {"client_id", kClientId},
                                                         {"redirect_uri", redirect_uri()},
                                                         {"scope", "openid"},
                                                         {"state", derive("state", r)},
                                                         {"nonce", derive("nonce", r)},
                                                         {"code_challenge", challenge},
                                                         {"code_challenge_method", "S256"}});
  return see_other(url, cookie_header("L." + r + "." + directory::jose::b64url(return_to), kLoginWindow));
}

net::HttpResponse Console::Impl::callback(const Ctx& c, UnixMs now) {
  auto fail = [&](int status, std::string_view vi, std::string_view en) {
    auto r = refused(nullptr, status, vi, en);
    r.headers["Set-Cookie"] = cookie_header("", 0);
    return r;
  };
  // The cookie set by /admin/login: "L." + r + "." + base64url(return path).
  std::string r, return_to = "/admin";
  if (c.cookie.rfind("L.", 0) == 0) {
    auto dot = c.cookie.find('.', 2);
    r = c.cookie.substr(2, dot == std::string::npos ? std::string::npos : dot - 2);
    if (dot != std::string::npos)
      if (auto rt = directory::jose::b64url_decode(c.cookie.substr(dot + 1))) return_to = console_path(*rt);
  }
  if (r.empty() || !c.params_ok || !crypto::equal_constant_time(c.get("state"), derive("state", r)))
    return fail(400, "Phiên đăng nhập không hợp lệ hoặc đã quá 10 phút. Hãy mở lại trang quản trị.",
                "The sign-in is not valid or took longer than 10 minutes. Open the admin page again.");
  if (!c.get("error").empty())
    return fail(403, "Đăng nhập không thành công: " + c.get("error_description"),
                "Sign-in failed: " + c.get("error") + " " + c.get("error_description"));
  auto login = idp.redeem_code(kClientId, c.get("code"), redirect_uri(), derive("pkce", r), now);
  if (!login) return fail(400, "Mã đăng nhập không dùng được: " + login.error().message, login.error().message);
  if (!crypto::equal_constant_time(login->nonce, derive("nonce", r)))
    return fail(400, "Mã đăng nhập không thuộc phiên này.", "The code belongs to another sign-in.");
  if (login->amr.find("otp") == std::string::npos)
    return fail(403, "Quản trị viên phải đăng nhập bằng mật khẩu và mã xác thực hai lớp (TOTP).",
                "Administrators must sign in with a second factor.");
  auto cookies = web::cookies(c.http);
  auto sso_cookie = cookies.count(kIdpCookie) ? cookies.at(kIdpCookie) : std::string();
  std::string secret = "S." + idp::new_secret();
  std::string refusal;
  auto written = dir.write(directory::Actor{"admin:" + login->person.login}, now, [&](Change& ch) -> Status {
    auto sso = idp::find_session(ch, sso_cookie, now);
    if (!sso || sso->sid != login->sid || sso->person != login->person.id) {
      refusal = "sso";
      return ok_status();
    }
    if (!directory::authority_of(ch, login->person).any()) {
      refusal = "role";
      return ok_status();
    }
    sweep(ch, now, cfg.idle);
    ConsoleSession s{login->person.id, idp::secret_key(sso_cookie), login->sid, login->amr, now, now,
                     std::min(now + cfg.ttl, sso->expires)};
    ch.put(directory::schema::admin_session, session_key(secret), encode(s));
    ch.audit("admin.login", login->person.id.str(), "", "{\"amr\":\"" + login->amr + "\"}");
    return ok_status();
  });
  if (!written) return fail(500, "Không lưu được phiên: " + written.error().message, written.error().message);
  if (refusal == "sso")
    return fail(400, "Trình duyệt không còn phiên đăng nhập. Hãy mở lại trang quản trị.",
                "The browser has no sign-in session any more. Open the admin page again.");
  if (refusal == "role")
    return fail(403, "Tài khoản " + login->person.login + " không có quyền quản trị.",
                "The account " + login->person.login + " holds no admin role.");
  return see_other(return_to, cookie_header(secret, cfg.ttl));
}

net::HttpResponse Console::Impl::logout(const Ctx& c, UnixMs now) {
  auto dropped = dir.write(directory::Actor{"admin:" + c.admin.login}, now, [&](Change& ch) -> Status {
    ch.del(directory::schema::admin_session, session_key(c.cookie));
    return ok_status();
  });
  if (!dropped) return refused(&c, 500, "Không đăng xuất được: " + dropped.error().message, dropped.error().message);
  // The console's session is gone; the IdP asks whether to end the single sign-on as well.
  return see_other(web::with_params("/oidc/logout", {{"client_id", kClientId}, {"post_logout_redirect_uri", cfg.issuer + "/admin"}}),
                   cookie_header("", 0));
}

net::HttpResponse Console::Impl::search(const Ctx& c) {
  SearchView v;
  v.q = trim(c.get("q"));
  v.unit = trim(c.get("unit"));
  v.any_status = c.get("status") == "all";
  v.searched = !v.q.empty() || !v.unit.empty();
  int status = 200;
  if (v.q.size() > 200) {
    v.error = "Nội dung tìm kiếm quá dài (tối đa 200 ký tự).";
    v.searched = false;
    status = 400;
  }
  if (std::string done = c.get("done"); !done.empty())
    v.notice = std::string(kind_vi(done)) + ": đã thực hiện và ghi nhật ký. Người này nay thuộc đơn vị ngoài phạm vi "
               "quản lý của bạn.";
  dir.read([&](Snapshot& s) {
    auto who = authority(s, c);
    if (!v.unit.empty()) {
      auto u = s.unit(v.unit);
      if (!u) {
        v.error = "Không có đơn vị mã " + v.unit + ".";
        status = 404;
      } else if (!who.reads_unit(s, v.unit)) {
        v.error = "Đơn vị " + u->name + " nằm ngoài phạm vi được giao.";
        status = 403;
      } else {
        v.unit_name = u->name;
      }
      if (status != 200) v.searched = false;
    }
    if (!v.searched) return;
    std::vector<std::string> roots;
    if (!v.unit.empty()) roots = {v.unit};
    else if (reads_everything(s, who)) roots = {""};
    else roots = who.read_roots();
    UnitNames names(s);
    std::set<std::string> seen;
    auto add = [&](const Person& p) {
      if (v.rows.size() > cfg.search_limit) return;
      if (!v.any_status && p.status != directory::PersonStatus::active) return;
      if (!seen.insert(std::string(p.id.bytes())).second) return;
      v.rows.push_back(row_of(p, names));
    };
    // Whether a person found outside the unit walk belongs here: readable, and in `unit`'s
    // subtree when the search is restricted to it (retired people: the unit they left).
    std::set<std::string> tree;
    if (!v.unit.empty())
      for (auto& u : s.subtree(v.unit)) tree.insert(std::move(u));
    auto belongs = [&](const Person& p) {
      return who.reads_person(s, p) && (v.unit.empty() || tree.count(directory::scope_unit(s, p)) > 0);
    };
    // An exact login, address, staff number or id first.
    if (!v.q.empty())
      if (auto exact = s.resolve(v.q); exact && belongs(*exact)) add(*exact);
    for (const auto& root : roots) {
      directory::SearchQuery q(v.q);
      q.unit = root;
      q.status = v.any_status ? std::nullopt : std::optional(directory::PersonStatus::active);
      q.limit = cfg.search_limit + 1;
      for (const auto& p : s.search(q)) add(p);
    }
    // Retired people belong to no unit any more: they are judged by the unit they left.
    if (v.any_status && !roots.empty() && !roots[0].empty() && v.rows.size() <= cfg.search_limit && !v.q.empty()) {
      directory::SearchQuery q(v.q);
      q.status = directory::PersonStatus::retired;
      q.limit = 10 * cfg.search_limit;
      for (const auto& p : s.search(q))
        if (belongs(p)) add(p);
    }
    v.more = v.rows.size() > cfg.search_limit;
    if (v.more) v.rows.resize(cfg.search_limit);
  });
  Frame f = frame(c, "search", "Tìm cán bộ", "Find people");
  return page(status, frame_html(f, search_html(v)));
}

net::HttpResponse Console::Impl::person(const Ctx& c, const PersonId& id, UnixMs now, ChangeForm form, std::string error,
                                        int status) {
  PersonView v;
  bool found = false, visible = false;
  dir.read([&](Snapshot& s) {
    auto p = s.person(id);
    if (!p) return;
    found = true;
    auto who = authority(s, c);
    if (!who.reads_person(s, *p)) return;
    visible = true;
    UnitNames names(s);
    v.p = row_of(*p, names);
    v.can_write = who.writes_person(s, *p);
    v.personal = v.can_write;
    if (v.personal) {
      v.staff_no = p->staff_no;
      v.gender = p->gender;
      v.birth_date = p->birth_date;
    }
    v.aliases = p->aliases;
    std::vector<std::string> path;
    for (std::string code = p->unit; !code.empty() && path.size() < 64;) {
      auto u = s.unit(code);
      if (!u) break;
      path.push_back(u->name);
      code = u->parent;
    }
    v.unit_path.assign(path.rbegin(), path.rend());
    if (p->status == directory::PersonStatus::active)
      if (auto m = directory::manager_of(s, *p)) {
        v.manager = m->full_name + " (" + m->position + ")";
        if (who.reads_person(s, *m)) v.manager_href = "/admin/person/" + m->id.str();
      }
    v.groups = s.groups_of(*p);
    if (auto r = directory::retirement_of(s, p->id)) {
      v.keep_until = r->keep_until;
      if (auto succ = PersonId::parse(r->successor))
        if (auto sp = s.person(*succ)) {
          v.successor = sp->full_name + " <" + sp->address + ">";
          v.successor_href = "/admin/person/" + sp->id.str();
        }
    }
    for (const auto& a : s.history(p->id))
      v.history.push_back(HistoryRow{a.from, a.to, directory::assignment_kind_name(a.kind), a.unit, names(a.unit), a.position,
                                     a.decision, a.closed_by});
    std::reverse(v.history.begin(), v.history.end());
    for (const auto& sc : directory::scheduled_changes(s, p->id)) {
      std::string summary;
      if (!sc.change.to_unit.empty()) summary = names(sc.change.to_unit);
      if (!sc.change.position.empty()) summary += (summary.empty() ? "" : ", ") + sc.change.position;
      v.scheduled.push_back(ScheduledRow{sc.number, sc.change.date, directory::life_kind_name(sc.change.kind), p->full_name, "",
                                         summary, sc.change.decision, sc.actor, v.can_write});
    }
    auto log = s.audit_log(p->id.str(), 50);
    for (auto it = log.rbegin(); it != log.rend(); ++it)
      v.audit.push_back(AuditRow{it->seq, vn_time(it->time), it->actor, it->action, "", "", it->reason,
                                 released_detail(s, who, *it)});
    if (v.can_write)
      for (const auto& u : all_units(s)) v.units.emplace_back(u.code, u.name);
    std::sort(v.units.begin(), v.units.end());
  });
  if (!found) return refused(&c, 404, "Không có cán bộ này.", "No such person.");
  if (!visible) return refused(&c, 403, "Cán bộ này thuộc đơn vị nằm ngoài phạm vi được giao.", "This person is outside your units.");
  v.csrf = csrf(c);
  v.today = vn_date(now);
  v.form = std::move(form);
  v.error = std::move(error);
  std::string done = c.http.method == "GET" ? c.get("done") : std::string();
  if (!done.empty()) {
    std::string n = c.get("n");
    if (done == "proposed" && !n.empty() && std::all_of(n.begin(), n.end(), ::isdigit))
      v.notice = "Đơn vị nhận nằm ngoài phạm vi của bạn: đã gửi đề nghị số " + n +
                 "; thay đổi có hiệu lực khi quản trị viên của đơn vị nhận chấp nhận (xem Chờ hiệu lực).";
    else if (!n.empty() && std::all_of(n.begin(), n.end(), ::isdigit))
      v.notice = std::string(kind_vi(done)) + ": đã lên lịch (số " + n + "), sẽ có hiệu lực vào ngày " + c.get("date") + ".";
    else if (done == "cancelled")
      v.notice = "Đã hủy thay đổi chờ hiệu lực.";
    else
      v.notice = std::string(kind_vi(done)) + ": đã thực hiện và ghi nhật ký.";
  }
  Frame f = frame(c, "search", v.p.name, "Person");
  return page(status, frame_html(f, person_html(v)));
}

net::HttpResponse Console::Impl::change(const Ctx& c, const PersonId& id, UnixMs now) {
  ChangeForm form{trim(c.get("action")), trim(c.get("to_unit")), trim(c.get("position")), trim(c.get("date")),
                  trim(c.get("decision")), trim(c.get("reason")), trim(c.get("successor"))};
  auto kind = directory::parse_life_kind(form.action);
  if (!kind || *kind == directory::LifeKind::hire)
    return person(c, id, now, {}, "Thao tác không hợp lệ.", 400);
  bool needs_decision = *kind == directory::LifeKind::transfer || *kind == directory::LifeKind::rotation ||
                        *kind == directory::LifeKind::appointment || *kind == directory::LifeKind::retire;
  // The fields first, with messages in the page's language; then the rules of hr.hpp.
  std::string problem;
  if (!form.date.empty() && !valid_date(form.date))
    problem = "Ngày hiệu lực phải là một ngày có thật, dạng NNNN-TT-NN.";
  else if (needs_decision && form.decision.empty())
    problem = "Cần ghi số quyết định.";
  else if ((*kind == directory::LifeKind::transfer || *kind == directory::LifeKind::rotation) && form.to_unit.empty())
    problem = "Cần chọn đơn vị mới.";
  else if (*kind == directory::LifeKind::appointment && form.position.empty())
    problem = "Cần ghi chức vụ được bổ nhiệm.";
  else if (form.decision.size() > 100 || form.position.size() > 200 || form.reason.size() > 1000 || form.successor.size() > 200)
    problem = "Nội dung quá dài.";
  if (!problem.empty()) return person(c, id, now, form, problem, 400);

  directory::LifeChange lc;
  lc.kind = *kind;
  lc.person = id;
  lc.to_unit = form.to_unit;
  lc.position = form.position;
  lc.date = form.date;
  lc.decision = form.decision;
  lc.reason = form.reason;
  lc.successor = form.successor;
  // The unit the admin saw: a change made meanwhile by someone else is refused, not overridden.
  lc.expect_from = trim(c.get("from"));
  std::string today = vn_date(now);
  std::optional<directory::LifeOutcome> outcome;
  std::string actor = "admin:" + c.admin.login;
  auto done = dir.write(directory::Actor{actor}, now, [&](Change& ch) -> Status {
    if (lc.kind == directory::LifeKind::transfer || lc.kind == directory::LifeKind::rotation)
      if (!ch.unit(lc.to_unit)) return make_error(Errc::not_found, "Không có đơn vị mã " + lc.to_unit + ".");
    auto who = directory::authority_of(ch, c.admin);
    auto r = directory::apply_change(ch, who, lc, today);
    if (!r) return r.error();
    outcome = std::move(*r);
    return ok_status();
  });
  if (!done) {
    std::string msg = done.error().message;
    if (done.error().code == Errc::forbidden) msg = "Không được phép: " + msg;
    else if (done.error().code == Errc::conflict) msg = "Không thực hiện được (xung đột): " + msg;
    else if (done.error().code != Errc::not_found) msg = "Không thực hiện được: " + msg;
    return person(c, id, now, form, msg, http_status(done.error().code));
  }
  std::vector<std::pair<std::string, std::string>> q = {{"done", form.action}};
  if (outcome && outcome->proposed) q = {{"done", "proposed"}, {"n", std::to_string(outcome->number)}};
  if (outcome && outcome->scheduled) {
    q.emplace_back("n", std::to_string(outcome->number));
    q.emplace_back("date", form.date);
  }
  // Transferred out of the admin's units: the person's page is no longer theirs to see.
  bool still_visible = dir.read([&](Snapshot& s) {
    auto p = s.person(id);
    return p && authority(s, c).reads_person(s, *p);
  });
  return see_other(web::with_params(still_visible ? "/admin/person/" + id.str() : std::string("/admin"), q));
}

net::HttpResponse Console::Impl::units(const Ctx& c) {
  std::vector<UnitNode> roots;
  dir.read([&](Snapshot& s) {
    auto who = authority(s, c);
    std::unordered_map<std::string, std::uint64_t> count;
    s.scan(directory::schema::member, "", [&](std::string_view k, std::string_view v) {
      auto nul = k.find('\0');
      if (nul != std::string_view::npos && !v.empty() && v[0] != static_cast<char>(directory::PersonStatus::retired))
        ++count[std::string(k.substr(0, nul))];
      return true;
    });
    std::function<UnitNode(const directory::Unit&, int)> build = [&](const directory::Unit& u, int depth) {
      UnitNode n{u.code, u.name, directory::kind_name(u.kind), count[u.code], count[u.code], {}};
      if (depth < 32)
        for (const auto& ch : s.children(u.code)) {
          n.children.push_back(build(ch, depth + 1));
          n.total += n.children.back().total;
        }
      return n;
    };
    std::vector<std::string> codes;
    if (reads_everything(s, who)) {
      for (const auto& u : s.children("")) codes.push_back(u.code);
    } else {
      codes = who.read_roots();
    }
    for (const auto& code : codes)
      if (auto u = s.unit(code)) roots.push_back(build(*u, 0));
  });
  Frame f = frame(c, "units", "Đơn vị", "Units");
  return page(200, frame_html(f, units_html(roots)));
}

net::HttpResponse Console::Impl::pending(const Ctx& c, UnixMs now) {
  PendingView v;
  int status = 200;
  if (c.http.method == "POST" && !c.get("proposal").empty()) {
    // A proposal: accepted by an administrator over the target, refused (or withdrawn) with a reason.
    std::string n = c.get("proposal");
    bool numeric = n.size() < 20 && std::all_of(n.begin(), n.end(), ::isdigit);
    bool accept = c.get("decide") == "accept";
    std::string today = vn_date(now);
    auto done = !numeric ? Status(make_error(Errc::invalid_argument, "không có số đề nghị"))
                         : dir.write(directory::Actor{"admin:" + c.admin.login}, now, [&](Change& ch) -> Status {
                             auto who = directory::authority_of(ch, c.admin);
                             if (!accept) return directory::refuse_proposal(ch, who, std::stoull(n), trim(c.get("reason")));
                             auto r = directory::accept_proposal(ch, who, std::stoull(n), today);
                             if (!r) return r.error();
                             return ok_status();
                           });
    if (done) return see_other(std::string("/admin/pending?done=") + (accept ? "accepted" : "refused"));
    v.error = "Không xử lý được đề nghị số " + n + ": " + done.error().message;
    status = http_status(done.error().code);
  } else if (c.http.method == "POST") {
    std::string n = c.get("cancel");
    std::string back = console_path(c.get("return_to"));
    std::uint64_t number = 0;
    bool numeric = !n.empty() && n.size() < 20 && std::all_of(n.begin(), n.end(), ::isdigit);
    if (numeric) number = std::stoull(n);
    auto done = numeric ? dir.write(directory::Actor{"admin:" + c.admin.login}, now, [&](Change& ch) -> Status {
      return directory::cancel_scheduled(ch, directory::authority_of(ch, c.admin), number);
    })
                        : Status(make_error(Errc::invalid_argument, "không có số thay đổi"));
    if (done) {
      std::string sep = back.find('?') == std::string::npos ? "?" : "&";
      return see_other(back + sep + "done=cancelled");
    }
    v.error = "Không hủy được thay đổi số " + n + ": " + done.error().message;
    status = http_status(done.error().code);
  } else if (c.get("done") == "cancelled") {
    v.notice = "Đã hủy thay đổi chờ hiệu lực.";
  } else if (c.get("done") == "accepted") {
    v.notice = "Đã chấp nhận đề nghị.";
  } else if (c.get("done") == "refused") {
    v.notice = "Đã từ chối đề nghị; người đề nghị đọc lý do trong nhật ký của người được đề nghị.";
  }
  dir.read([&](Snapshot& s) {
    auto who = authority(s, c);
    bool everything = reads_everything(s, who);
    UnitNames names(s);
    for (const auto& pr : directory::proposals(s)) {
      if (!directory::sees_proposal(s, who, pr)) continue;
      auto p = s.person(pr.change.person);
      v.proposals.push_back(ProposalRow{pr.number, pr.change.date, directory::life_kind_name(pr.change.kind),
                                        p ? p->full_name : std::string(),
                                        p && who.reads_person(s, *p) ? "/admin/person/" + p->id.str() : std::string(),
                                        names(pr.change.expect_from), names(pr.change.to_unit), pr.change.position,
                                        pr.change.decision, pr.actor, directory::may_accept(s, who, pr)});
    }
    for (const auto& sc : directory::scheduled_changes(s)) {
      std::string name, href;
      bool visible = everything, writable = false;
      if (sc.change.kind == directory::LifeKind::hire) {
        name = sc.change.hire.full_name;
        visible = visible || who.reads_unit(s, sc.change.hire.unit);
        writable = who.writes_unit(s, sc.change.hire.unit);
      } else if (auto p = s.person(sc.change.person)) {
        name = p->full_name;
        href = "/admin/person/" + p->id.str();
        visible = visible || who.reads_person(s, *p);
        writable = who.writes_person(s, *p);
      }
      if (!visible) continue;
      std::string summary;
      std::string to = sc.change.kind == directory::LifeKind::hire ? sc.change.hire.unit : sc.change.to_unit;
      if (!to.empty()) summary = names(to);
      std::string pos = sc.change.kind == directory::LifeKind::hire ? sc.change.hire.position : sc.change.position;
      if (!pos.empty()) summary += (summary.empty() ? "" : ", ") + pos;
      v.scheduled.push_back(ScheduledRow{sc.number, sc.change.date, directory::life_kind_name(sc.change.kind), name, href,
                                         summary, sc.change.decision, sc.actor, writable});
    }
    for (const auto& e : directory::pending_events(s)) {
      if (!everything && !(who.reads_unit(s, e.from_unit) || who.reads_unit(s, e.to_unit))) continue;
      v.events.push_back(PendingEventRow{e.seq, e.date, e.staff_no, e.full_name, e.kind, e.from_unit, e.to_unit, e.position,
                                         e.decision});
    }
  });
  v.csrf = csrf(c);
  Frame f = frame(c, "pending", "Chờ hiệu lực", "Pending");
  return page(status, frame_html(f, pending_html(v)));
}

net::HttpResponse Console::Impl::audit(const Ctx& c) {
  AuditView v;
  v.csrf = csrf(c);
  // Records (start, end] are examined, newest first; "older" continues below what was shown.
  std::string before = c.get("before");
  std::optional<std::uint64_t> below;
  if (!before.empty() && before.size() < 20 && std::all_of(before.begin(), before.end(), ::isdigit))
    below = std::stoull(before);
  dir.read([&](Snapshot& s) {
    auto who = authority(s, c);
    bool everything = reads_everything(s, who);
    std::uint64_t head = s.audit_head_seq();
    std::uint64_t end = below && *below > 0 ? std::min(*below - 1, head) : head;
    std::uint64_t start = end > kAuditWindow ? end - kAuditWindow : 0;
    auto records = s.audit_after(start, static_cast<std::size_t>(end - start));
    std::string mine = "admin:" + c.admin.login;
    for (auto it = records.rbegin(); it != records.rend() && v.rows.size() < kAuditPage; ++it) {
      std::string href;
      bool visible = everything || it->actor == mine;
      if (auto pid = PersonId::parse(it->target)) {
        if (auto p = s.person(*pid)) {
          visible = visible || who.reads_person(s, *p);
          if (who.reads_person(s, *p)) href = "/admin/person/" + p->id.str();
        }
      } else if (!it->target.empty() && s.unit(it->target)) {
        visible = visible || who.reads_unit(s, it->target);
      }
      if (!visible) continue;
      v.rows.push_back(AuditRow{it->seq, vn_time(it->time), it->actor, it->action, it->target, href, it->reason,
                                released_detail(s, who, *it)});
      v.older = it->seq;
    }
    if (v.rows.size() < kAuditPage) v.older = start + 1;  // the window ran out: continue below it
    if (v.older <= 1) v.older = 0;
    if (c.http.method == "POST") {
      auto rep = s.verify_audit();
      v.verified = true;
      v.ok = rep.ok;
      v.records = rep.records;
      v.first_bad = rep.first_bad;
      v.problem = rep.problem;
    }
  });
  Frame f = frame(c, "audit", "Nhật ký", "Audit log");
  return page(200, frame_html(f, audit_html(v)));
}

}  // namespace congvu::admin
