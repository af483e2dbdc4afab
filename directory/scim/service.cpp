// The SCIM service: routing, bearer-token authentication, list parameters, Bulk.
#include <algorithm>
#include <map>

#include "common/text.hpp"
#include "common/web.hpp"
#include "directory/factors.hpp"
#include "directory/scim/internal.hpp"
#include "directory/scim/scim.hpp"

namespace congvu::directory::scim {

namespace {

constexpr std::size_t kMaxCount = 1000;
constexpr std::size_t kMaxBulkOps = 1000;
constexpr const char* kPrefix = "/scim/v2";

net::HttpResponse to_http(Reply r) {
  net::HttpResponse h;
  h.status = r.status;
  h.content_type = "application/scim+json";
  if (!r.body.is_null()) h.body = json::serialize(r.body);
  if (!r.location.empty()) h.headers["Location"] = r.location;
  if (!r.version.empty()) h.headers["ETag"] = r.version;
  if (!r.challenge.empty()) h.headers["WWW-Authenticate"] = r.challenge;
  return h;
}

std::string header(const net::HttpRequest& req, const char* name) {
  auto it = req.headers.find(name);
  return it == req.headers.end() ? std::string() : it->second;
}

Result<json::value> parse_body(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return make_error(Errc::invalid_argument, "the body is not JSON: " + ec.message());
  if (!v.is_object()) return make_error(Errc::invalid_argument, "the body must be a JSON object");
  return v;
}

std::size_t parse_count(std::string_view s, bool& ok) {
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // Negative or junk: RFC 7644 3.4.2.4 treats a negative count as 0 and a bad startIndex as 1.
    ok = !s.empty() && s[0] == '-' && s.size() < 10 &&
         std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
    return 0;
  }
  ok = true;
  return std::stoul(std::string(s));
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    auto j = s.find(',', i);
    if (j == std::string_view::npos) j = s.size();
    std::string item = text::squeeze(s.substr(i, j - i));
    if (!item.empty()) out.push_back(item);
    i = j + 1;
  }
  return out;
}

Result<ListParams> finish(ListParams p, std::string_view order) {
  if (!order.empty()) {
    std::string o = lower(order);
    if (o != "ascending" && o != "descending") return make_error(Errc::invalid_argument, "sortOrder must be ascending or descending");
    p.descending = o == "descending";
  }
  if (p.start < 1) p.start = 1;
  if (p.count > kMaxCount) p.count = kMaxCount;
  return p;
}

}  // namespace

std::string lower(std::string_view s) { return text::ascii_lower(s); }

const json::object* as_object(const json::value& v) { return v.is_object() ? &v.get_object() : nullptr; }

std::pair<std::string, std::string> split_path(std::string_view path) {
  for (const char* urn : {kEnterpriseSchema, kCongvuUserSchema, kUserSchema, kCongvuGroupSchema, kGroupSchema}) {
    std::string_view u(urn);
    if (path.size() >= u.size() && lower(path.substr(0, u.size())) == lower(u)) {
      if (path.size() == u.size()) return {u == kUserSchema || u == kGroupSchema ? "" : std::string(urn), ""};
      if (path[u.size()] == ':')
        return {u == kUserSchema || u == kGroupSchema ? "" : std::string(urn), lower(path.substr(u.size() + 1))};
    }
  }
  return {"", lower(path)};
}

Reply error_reply(int status, const std::string& detail, const std::string& scim_type) {
  json::object o;
  o["schemas"] = json::array{kErrorSchema};
  o["status"] = std::to_string(status);
  if (!scim_type.empty()) o["scimType"] = scim_type;
  // Details quote the request; what is not UTF-8 there would make the answer invalid JSON.
  std::string safe = detail;
  if (!text::valid_utf8(safe))
    for (auto& ch : safe)
      if (static_cast<unsigned char>(ch) >= 0x80) ch = '?';
  o["detail"] = safe;
  Reply r;
  r.status = status;
  r.body = std::move(o);
  return r;
}

Reply from_error(const Error& e) {
  switch (e.code) {
    case Errc::invalid_argument: return error_reply(400, e.message, "invalidValue");
    case Errc::not_found: return error_reply(404, e.message);
    case Errc::conflict: return error_reply(409, e.message, "uniqueness");
    case Errc::forbidden: return error_reply(403, e.message);
    case Errc::unauthorized: return error_reply(401, e.message);
    case Errc::unavailable: return error_reply(503, e.message);
    case Errc::corrupt:
    case Errc::io: break;
  }
  return error_reply(500, e.message);
}

Result<ListParams> list_params_from_query(std::string_view query) {
  auto form = web::decode_form(query);
  if (!form) return make_error(Errc::invalid_argument, "the query string is malformed (a parameter repeats or an escape is bad)");
  ListParams p;
  std::string order;
  for (const auto& [k, v] : *form) {
    std::string key = lower(k);
    bool ok = true;
    if (key == "filter") p.filter = v;
    else if (key == "sortby") p.sort_by = v;
    else if (key == "sortorder") order = v;
    else if (key == "startindex") p.start = parse_count(v, ok);
    else if (key == "count") p.count = parse_count(v, ok);
    else if (key == "attributes") p.attributes = split_list(v);
    else if (key == "excludedattributes") p.excluded = split_list(v);
    else return make_error(Errc::invalid_argument, "unknown query parameter '" + k + "'");
    if (!ok) return make_error(Errc::invalid_argument, k + " must be an integer");
  }
  return finish(std::move(p), order);
}

Result<ListParams> list_params_from_body(const json::object& body) {
  ListParams p;
  std::string order;
  auto text_of = [](const json::value& v, std::string& out) {
    if (!v.is_string()) return false;
    out = std::string(v.get_string());
    return true;
  };
  for (const auto& [k, v] : body) {
    std::string key = lower(k);
    bool ok = true;
    if (key == "schemas") continue;
    if (key == "filter") ok = text_of(v, p.filter);
    else if (key == "sortby") ok = text_of(v, p.sort_by);
    else if (key == "sortorder") ok = text_of(v, order);
    else if (key == "startindex" || key == "count") {
      if (!v.is_int64() && !v.is_uint64()) {
        ok = false;
      } else {
        auto n = v.is_int64() ? v.get_int64() : static_cast<std::int64_t>(std::min<std::uint64_t>(v.get_uint64(), 1u << 30));
        (key == "count" ? p.count : p.start) = n < 0 ? 0 : static_cast<std::size_t>(n);
      }
    } else if (key == "attributes" || key == "excludedattributes") {
      auto& out = key == "attributes" ? p.attributes : p.excluded;
      if (!v.is_array()) {
        ok = false;
      } else {
        for (const auto& a : v.get_array()) {
          if (!a.is_string()) ok = false;
          else out.emplace_back(a.get_string());
        }
      }
    } else {
      return make_error(Errc::invalid_argument, "unknown SearchRequest attribute '" + std::string(k) + "'");
    }
    if (!ok) return make_error(Errc::invalid_argument, "SearchRequest attribute '" + std::string(k) + "' has the wrong type");
  }
  return finish(std::move(p), order);
}

std::optional<Reply> parse_listing(const ListParams& lp, Resource r, std::unique_ptr<Filter>& filter,
                                   std::optional<Attr>& sort) {
  if (!lp.filter.empty()) {
    auto f = parse_filter(lp.filter, r);
    if (!f) return error_reply(400, f.error().message, "invalidFilter");
    filter = std::move(f.value());
  }
  if (!lp.sort_by.empty()) {
    sort = resolve_attr(lp.sort_by, r);
    if (!sort || *sort == Attr::group_members) return error_reply(400, "cannot sort by '" + lp.sort_by + "'", "invalidValue");
  }
  return std::nullopt;
}

void project(json::object& o, const ListParams& p) {
  if (p.attributes.empty() && p.excluded.empty()) return;
  // (container key, sub-attribute) pairs, lowercased; the container is a schema URN for
  // extension attributes.
  auto parse = [](const std::vector<std::string>& paths) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& path : paths) {
      auto [urn, rest] = split_path(path);
      if (!urn.empty()) {
        out.emplace_back(lower(urn), rest);
      } else {
        auto dot = rest.find('.');
        out.emplace_back(rest.substr(0, dot), dot == std::string::npos ? "" : rest.substr(dot + 1));
      }
    }
    return out;
  };
  auto keep_sub = [](json::value& v, const std::vector<std::string>& subs, bool keep) {
    auto* obj = v.if_object();
    if (!obj) return;
    std::vector<std::string> drop;
    for (const auto& [k, _] : *obj) {
      bool listed = std::find(subs.begin(), subs.end(), lower(k)) != subs.end();
      if (listed != keep) drop.emplace_back(k);
    }
    for (const auto& k : drop) obj->erase(k);
  };
  if (!p.attributes.empty()) {
    auto want = parse(p.attributes);
    std::vector<std::string> drop;
    for (auto& [k, v] : o) {
      std::string key = lower(k);
      if (key == "id" || key == "schemas") continue;
      std::vector<std::string> subs;
      bool whole = false, any = false;
      for (const auto& [c, s] : want)
        if (c == key) {
          any = true;
          if (s.empty()) whole = true;
          else subs.push_back(s);
        }
      if (!any) drop.emplace_back(k);
      else if (!whole) keep_sub(v, subs, true);
    }
    for (const auto& k : drop) o.erase(k);
  }
  if (!p.excluded.empty()) {
    auto skip = parse(p.excluded);
    std::vector<std::string> drop;
    for (auto& [k, v] : o) {
      std::string key = lower(k);
      if (key == "id" || key == "schemas") continue;
      std::vector<std::string> subs;
      for (const auto& [c, s] : skip)
        if (c == key) {
          if (s.empty()) drop.emplace_back(k);
          else subs.push_back(s);
        }
      if (!subs.empty()) keep_sub(v, subs, false);
    }
    for (const auto& k : drop) o.erase(k);
  }
}

json::object list_response(std::size_t total, std::size_t start, json::array items) {
  json::object o;
  o["schemas"] = json::array{kListSchema};
  o["totalResults"] = total;
  o["startIndex"] = start;
  o["itemsPerPage"] = items.size();
  o["Resources"] = std::move(items);
  return o;
}

bool etag_matches(std::string_view header, std::string_view version) {
  auto strip = [](std::string_view t) {
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    if (t.substr(0, 2) == "W/") t.remove_prefix(2);
    return t;
  };
  std::string_view mine = strip(version);
  std::size_t i = 0;
  while (i <= header.size()) {
    auto j = header.find(',', i);
    if (j == std::string_view::npos) j = header.size();
    auto tag = strip(header.substr(i, j - i));
    if (tag == "*" || tag == mine) return true;
    i = j + 1;
  }
  return false;
}

struct Service::Impl {
  Directory& dir;
  std::string base_url;

  // The caller's authority, or the reply that refuses it.
  std::variant<Authority, Reply> authenticate(const net::HttpRequest& req, bool write, UnixMs now) {
    auto token = web::bearer(req);
    const char* scope = write ? "scim:write" : "scim:read";
    auto refuse = [](int status, const std::string& error, const std::string& detail) {
      Reply r = error_reply(status, detail);
      r.challenge = "Bearer realm=\"scim\"" + (error.empty() ? std::string() : ", error=\"" + error + "\"");
      return r;
    };
    if (!token) return refuse(401, "", "a bearer token (audience scim) is required");
    auto at = dir.verify_token(*token, kAudScim, "", now);
    if (!at) return refuse(401, "invalid_token", at.error().message);
    if (!at->has_scope(scope)) return refuse(403, "insufficient_scope", std::string("the token lacks the scope ") + scope);
    return dir.read([&](Snapshot& s) -> std::variant<Authority, Reply> {
      Authority who;
      if (at->person) {
        auto p = s.person(*at->person);
        if (!p || p->status != PersonStatus::active) return refuse(401, "invalid_token", "the token's person is not active");
        who = authority_of(s, *p);
        if (who.any()) {
          auto f = find_factor(s, p->id);
          if (!f || !f->confirmed) return error_reply(403, "administrators must enrol a second factor (TOTP) first");
        }
      } else {
        who = authority_of_client(s, at->client_id);
      }
      if (!who.any()) return error_reply(403, who.actor() + " holds no administrative role");
      if (write && !who.can_write()) return error_reply(403, who.actor() + " may read but not change the directory");
      return who;
    });
  }

  Reply write_op(const Ctx& ctx, const std::string& method, const std::string& path, const json::value& body,
                 const std::string& if_match, Change& c) {
    auto slash = path.find('/', 1);
    std::string coll = path.substr(0, slash);
    std::string id = slash == std::string::npos ? "" : path.substr(slash + 1);
    if (coll == "/Users") {
      if (method == "POST" && id.empty()) return user_create(c, ctx, body);
      if (method == "PUT" && !id.empty()) return user_replace(c, ctx, id, body, if_match);
      if (method == "PATCH" && !id.empty()) return user_patch(c, ctx, id, body, if_match);
      if (method == "DELETE" && !id.empty())
        return error_reply(405, "people are never deleted: retire them (PATCH " + std::string(kCongvuUserSchema) +
                                    ":change with kind retire and the decision)");
    } else if (coll == "/Groups") {
      if (method == "POST" && id.empty()) return group_create(c, ctx, body);
      if (method == "PUT" && !id.empty()) return group_replace(c, ctx, id, body, if_match);
      if (method == "PATCH" && !id.empty()) return group_patch(c, ctx, id, body, if_match);
      if (method == "DELETE" && !id.empty())
        return error_reply(405, "groups are kept (their address is never reused); remove their members instead");
    }
    return error_reply(405, method + " is not supported on " + path);
  }

  Reply bulk(const Ctx& ctx, const json::value& body) {
    const auto* o = as_object(body);
    const json::value* ops_v = o ? o->if_contains("Operations") : nullptr;
    if (!ops_v || !ops_v->is_array()) return error_reply(400, "a BulkRequest needs an Operations array", "invalidSyntax");
    const auto& ops = ops_v->get_array();
    if (ops.size() > kMaxBulkOps) return error_reply(413, "at most 1000 operations per Bulk request", "tooMany");
    std::int64_t fail_on = 0;
    if (const auto* f = o->if_contains("failOnErrors")) {
      if (!f->is_int64() || f->get_int64() < 1) return error_reply(400, "failOnErrors must be a positive integer", "invalidValue");
      fail_on = f->get_int64();
    }
    std::map<std::string, std::string> ids;  // bulkId -> created id
    // Replaces "bulkId:x" references in strings with the ids created earlier in the request.
    std::function<bool(json::value&)> resolve = [&](json::value& v) -> bool {
      if (v.is_string()) {
        std::string_view s = v.get_string();
        if (s.substr(0, 7) == "bulkId:") {
          auto it = ids.find(std::string(s.substr(7)));
          if (it == ids.end()) return false;
          v = it->second;
        }
      } else if (v.is_array()) {
        for (auto& e : v.get_array())
          if (!resolve(e)) return false;
      } else if (v.is_object()) {
        for (auto& [k, e] : v.get_object())
          if (!resolve(e)) return false;
      }
      return true;
    };
    json::array results;
    std::int64_t errors = 0;
    auto r = dir.write(Actor{ctx.who.actor()}, ctx.now, [&](Change& c) -> Status {
      for (const auto& op_v : ops) {
        json::object res;
        const auto* op = as_object(op_v);
        auto str = [&](const char* k) {
          const json::value* v = op ? op->if_contains(k) : nullptr;
          return v && v->is_string() ? std::string(v->get_string()) : std::string();
        };
        std::string method = text::ascii_upper(str("method")), path = str("path"), bulk_id = str("bulkId");
        res["method"] = method;
        if (!bulk_id.empty()) res["bulkId"] = bulk_id;
        Reply rep;
        json::value data = op && op->contains("data") ? op->at("data") : json::value();
        if (!op || method.empty() || path.empty()) {
          rep = error_reply(400, "each operation needs method and path", "invalidSyntax");
        } else if (method == "POST" && bulk_id.empty()) {
          rep = error_reply(400, "a POST operation needs a bulkId", "invalidSyntax");
        } else {
          bool path_ok = true;
          if (auto at = path.find("bulkId:"); at != std::string::npos) {
            auto it = ids.find(path.substr(at + 7));
            if (it == ids.end()) path_ok = false;
            else path = path.substr(0, at) + it->second;
          }
          if (!path_ok || !resolve(data)) {
            rep = error_reply(409, "a bulkId reference names no operation that succeeded before it", "invalidValue");
          } else if (method != "DELETE" && !data.is_object()) {
            rep = error_reply(400, "operation data must be a JSON object", "invalidSyntax");
          } else {
            auto before = c.writes();
            rep = write_op(ctx, method, path, data, str("version"), c);
            // Each operation validates before it writes; one that failed after writing would
            // leave this shared transaction half-applied: give up on the whole request.
            if (rep.status >= 300 && c.writes() != before)
              return make_error(Errc::corrupt, "a failed operation had written; the Bulk request was rolled back");
          }
        }
        res["status"] = std::to_string(rep.status);
        if (!rep.location.empty()) res["location"] = rep.location;
        if (!rep.version.empty()) res["version"] = rep.version;
        if (rep.status >= 300) {
          res["response"] = rep.body;
          ++errors;
        } else if (method == "POST" && rep.body.is_object()) {
          if (const auto* id = rep.body.get_object().if_contains("id"); id && id->is_string())
            ids[bulk_id] = std::string(id->get_string());
        }
        results.push_back(std::move(res));
        if (fail_on > 0 && errors >= fail_on) break;
      }
      return ok_status();
    });
    if (!r) return from_error(r.error());
    json::object out;
    out["schemas"] = json::array{"urn:ietf:params:scim:api:messages:2.0:BulkResponse"};
    out["Operations"] = std::move(results);
    Reply rep;
    rep.body = std::move(out);
    return rep;
  }

  net::HttpResponse handle(const net::HttpRequest& req, UnixMs now) {
    std::string path = std::string(web::path_of(req.target)).substr(std::string_view(kPrefix).size());
    std::string query(web::query_of(req.target));
    const std::string& m = req.method;
    std::string base = base_url + kPrefix;
    // Discovery needs no token (RFC 7644 4: it describes the service, not the people).
    if (m == "GET" && (path == "/ServiceProviderConfig" || path.rfind("/ResourceTypes", 0) == 0 || path.rfind("/Schemas", 0) == 0)) {
      json::value doc = path == "/ServiceProviderConfig" ? service_provider_config(base)
                        : path.rfind("/ResourceTypes", 0) == 0 ? resource_types(base)
                                                                : schemas(base);
      if (path == "/ServiceProviderConfig" || path == "/ResourceTypes" || path == "/Schemas") {
        if (path != "/ServiceProviderConfig") {
          auto items = doc.get_array();
          std::size_t n = items.size();
          doc = list_response(n, 1, std::move(items));
        }
        return to_http(Reply{200, std::move(doc), {}, {}, {}});
      }
      std::string name = path.substr(path.find('/', 1) + 1);
      for (const auto& d : doc.get_array()) {
        const auto& o = d.get_object();
        if (o.at("id").get_string() == name) return to_http(Reply{200, d, {}, {}, {}});
      }
      return to_http(error_reply(404, "no " + path.substr(1, path.find('/', 1) - 1) + " named " + name));
    }
    bool write = m != "GET" && !(m == "POST" && (path == "/Users/.search" || path == "/Groups/.search" || path == "/.search"));
    auto auth = authenticate(req, write, now);
    if (auto* refused = std::get_if<Reply>(&auth)) return to_http(std::move(*refused));
    const Authority& who = std::get<Authority>(auth);
    Ctx ctx{who, base, vn_date(now), now, base_url + "/login/reset"};
    auto slash = path.find('/', 1);
    std::string coll = path.substr(0, slash);
    std::string id = slash == std::string::npos ? "" : path.substr(slash + 1);
    if (coll != "/Users" && coll != "/Groups" && coll != "/Bulk")
      return to_http(error_reply(404, "no SCIM endpoint " + path));
    if (id.find('/') != std::string::npos) return to_http(error_reply(404, "no SCIM endpoint " + path));
    std::string ctype = lower(header(req, "content-type"));
    bool has_body = m == "POST" || m == "PUT" || m == "PATCH";
    if (has_body && !ctype.empty() && ctype.rfind("application/scim+json", 0) != 0 && ctype.rfind("application/json", 0) != 0)
      return to_http(error_reply(415, "send application/scim+json"));
    json::value body;
    if (has_body) {
      auto parsed = parse_body(req.body);
      if (!parsed) return to_http(error_reply(400, parsed.error().message, "invalidSyntax"));
      body = std::move(parsed.value());
    }
    if (m == "GET" || (m == "POST" && id == ".search")) {
      if (!id.empty() && id != ".search") {
        Reply r = dir.read([&](Snapshot& s) { return coll == "/Users" ? user_get(s, ctx, id) : group_get(s, ctx, id); });
        std::string inm = header(req, "if-none-match");
        if (r.status == 200 && !inm.empty() && etag_matches(inm, r.version)) return to_http(Reply{304, {}, {}, r.version, {}});
        auto q = list_params_from_query(query);
        if (!q) return to_http(error_reply(400, q.error().message, "invalidValue"));
        if (r.status == 200 && r.body.is_object()) project(r.body.get_object(), *q);
        return to_http(std::move(r));
      }
      auto params = m == "GET" ? list_params_from_query(query) : list_params_from_body(body.get_object());
      if (!params) return to_http(error_reply(400, params.error().message, "invalidValue"));
      if (coll == "/Bulk") return to_http(error_reply(405, "Bulk takes POST"));
      return to_http(dir.read([&](Snapshot& s) {
        return coll == "/Users" ? users_list(s, ctx, *params) : groups_list(s, ctx, *params);
      }));
    }
    if (coll == "/Bulk") {
      if (m != "POST" || !id.empty()) return to_http(error_reply(405, "Bulk takes POST /Bulk"));
      return to_http(bulk(ctx, body));
    }
    std::string if_match = header(req, "if-match");
    Reply out;
    auto r = dir.write(Actor{who.actor()}, now, [&](Change& c) -> Status {
      out = write_op(ctx, m, coll + (id.empty() ? "" : "/" + id), body, if_match, c);
      // A refused operation wrote nothing (each validates first); roll back regardless.
      if (out.status >= 300) return make_error(Errc::conflict, "refused");
      return ok_status();
    });
    if (!r && out.status < 300) return to_http(from_error(r.error()));
    auto h = to_http(std::move(out));
    if (h.status == 405) h.headers["Allow"] = id.empty() ? "GET, POST" : "GET, PUT, PATCH";
    return h;
  }
};

Service::Service(Directory& dir, std::string base_url) : impl_(std::make_unique<Impl>(Impl{dir, std::move(base_url)})) {}
Service::~Service() = default;

std::optional<net::HttpResponse> Service::handle(const net::HttpRequest& req, UnixMs now) {
  auto path = web::path_of(req.target);
  if (path != kPrefix && path.rfind(std::string(kPrefix) + "/", 0) != 0) return std::nullopt;
  return impl_->handle(req, now);
}

}  // namespace congvu::directory::scim
