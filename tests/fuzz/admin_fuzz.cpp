// The admin console over arbitrary requests, on the in-memory demo province, as a signed-in HR
// admin of Sở Nội vụ: search parameters, the change forms (with a valid CSRF token, so the
// validation and apply_change are reached), pending cancellations, audit paging, the sign-in
// callback. No crash; every answer is a redirect or an HTML page (or the stylesheet); nothing
// reflected unescaped (no "<script" or "<img" anywhere); a refused request (status 400 and
// above) leaves the audit chain as it was. The first byte picks the request.
#include <cstdint>
#include <string>

#include "common/web.hpp"
#include "tests/support/console_world.hpp"

namespace {

using namespace congvu;

struct World {
  test::ConsoleWorld cw;
  std::string someone, csrf_field;
  World() {
    someone = cw.person("annv2").id.str();
    csrf_field = "csrf=" + web::percent_encode(cw.csrf) + "&";
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  auto& cw = world.cw;
  if (size < 1 || size > 65536) return 0;
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  net::HttpRequest r;
  switch (data[0] & 7) {
    case 0: r = cw.get("/admin?" + in); break;
    case 1: r = cw.get("/admin/person/" + world.someone + "?" + in); break;
    case 2: r = cw.post("/admin/person/" + world.someone, world.csrf_field + in); break;
    case 3: r = cw.post("/admin/pending", world.csrf_field + in); break;
    case 4: r = cw.get("/admin/audit?" + in); break;
    case 5: r = cw.get("/admin/callback?" + in, "L.fuzz-secret.L2FkbWlu"); break;
    case 6: r = cw.get("/admin/" + in); break;
    default: r = cw.post("/admin/person/" + in, world.csrf_field + "action=transfer&to_unit=000.00.03.H99&decision=1"); break;
  }
  auto head = cw.audit_head();
  auto res = cw.console->handle(r, test::ConsoleWorld::kNow + 1000);
  if (!res) {
    if (r.target.rfind("/admin/", 0) == 0 || r.target.rfind("/admin?", 0) == 0) __builtin_trap();
    return 0;
  }
  bool redirect = res->status == 303 && res->body.empty() && res->headers.count("Location");
  bool page = res->content_type == "text/html; charset=utf-8" && res->body.rfind("<!doctype html>", 0) == 0;
  bool other = res->content_type.rfind("text/css", 0) == 0 || res->status == 405;
  if (!redirect && !page && !other) __builtin_trap();
  if (res->body.find("<script") != std::string::npos || res->body.find("<img") != std::string::npos) __builtin_trap();
  if (res->status >= 400 && cw.audit_head() != head) __builtin_trap();
  return 0;
}
