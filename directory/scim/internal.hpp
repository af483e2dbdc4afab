// Shared by the SCIM service's files (service.cpp, users.cpp, groups.cpp, schemas.cpp).
#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "directory/hr.hpp"
#include "directory/scim/filter.hpp"

namespace congvu::directory::scim {

namespace json = boost::json;

inline constexpr const char* kErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";
inline constexpr const char* kListSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

// One operation's answer, before it becomes HTTP (or a Bulk operation's response).
struct Reply {
  int status = 200;
  json::value body;      // null: no body (204, 304)
  std::string location;  // for 201 and Bulk
  std::string version;   // the ETag of the resource
  std::string challenge; // WWW-Authenticate, for refused tokens
};

Reply error_reply(int status, const std::string& detail, const std::string& scim_type = {});
// invalid_argument 400 invalidValue, not_found 404, conflict 409, forbidden 403, others 500.
Reply from_error(const Error& e);

// What every operation knows.
struct Ctx {
  const Authority& who;
  std::string base;   // "https://host:port/scim/v2"
  std::string today;  // YYYY-MM-DD in Asia/Ho_Chi_Minh
  UnixMs now = 0;
  std::string activation_url;  // where a new hire sets the first password
};

struct ListParams {
  std::string filter, sort_by;
  bool descending = false;
  std::size_t start = 1, count = 100;
  std::vector<std::string> attributes, excluded;
};
// From the query string (GET) or a SearchRequest body (POST .search).
Result<ListParams> list_params_from_query(std::string_view query);
Result<ListParams> list_params_from_body(const json::object& body);
// The filter and sort attribute a listing asks for, or the 400 that refuses them.
std::optional<Reply> parse_listing(const ListParams& lp, Resource r, std::unique_ptr<Filter>& filter,
                                   std::optional<Attr>& sort);
// Applies attributes/excludedAttributes to one resource (id and schemas always stay).
void project(json::object& o, const ListParams& p);
json::object list_response(std::size_t total, std::size_t start, json::array items);
// The requested page of `found` as a ListResponse, each item rendered and projected.
template <class T, class Render>
Reply list_page(const std::vector<T>& found, const ListParams& lp, Render render) {
  json::array items;
  for (std::size_t i = lp.start - 1; i < found.size() && items.size() < lp.count; ++i) {
    json::object o = render(found[i]);
    project(o, lp);
    items.push_back(std::move(o));
  }
  Reply r;
  r.body = list_response(found.size(), lp.start, std::move(items));
  return r;
}

// If-Match: "*" or a list of entity tags, weak or strong; true when `version` is among them.
bool etag_matches(std::string_view header, std::string_view version);

// Users (users.cpp)
std::string user_version(const Person& p);
json::object render_user(Snapshot& s, const Ctx& ctx, const Person& p);
Reply users_list(Snapshot& s, const Ctx& ctx, const ListParams& p);
Reply user_get(Snapshot& s, const Ctx& ctx, std::string_view id);
Reply user_create(Change& c, const Ctx& ctx, const json::value& body);
Reply user_replace(Change& c, const Ctx& ctx, std::string_view id, const json::value& body, std::string_view if_match);
Reply user_patch(Change& c, const Ctx& ctx, std::string_view id, const json::value& body, std::string_view if_match);

// Groups (groups.cpp)
Reply groups_list(Snapshot& s, const Ctx& ctx, const ListParams& p);
Reply group_get(Snapshot& s, const Ctx& ctx, std::string_view id);
Reply group_create(Change& c, const Ctx& ctx, const json::value& body);
Reply group_replace(Change& c, const Ctx& ctx, std::string_view id, const json::value& body, std::string_view if_match);
Reply group_patch(Change& c, const Ctx& ctx, std::string_view id, const json::value& body, std::string_view if_match);

// Discovery documents (schemas.cpp), relative to `base`.
json::value service_provider_config(const std::string& base);
json::value resource_types(const std::string& base);
json::value schemas(const std::string& base);

// Helpers for reading request bodies.
const json::object* as_object(const json::value& v);
std::string lower(std::string_view s);
// Splits "urn:...:User:attr.sub" into the schema URN ("" for the core schema) and the
// lowercased attribute path.
std::pair<std::string, std::string> split_path(std::string_view path);

}  // namespace congvu::directory::scim
