#include "app/router.hpp"

namespace congvu::app {

net::HttpHandler make_router(directory::Directory& dir) {
  return [&dir](const net::HttpRequest& req) {
    std::string path = req.target.substr(0, req.target.find('?'));
    if (req.method != "GET" && req.method != "HEAD")
      return net::HttpResponse{405, "text/plain; charset=utf-8", {{"Allow", "GET, HEAD"}}, "method not allowed\n"};
    if (path == "/healthz") {
      auto [people, units] = dir.read([](directory::Snapshot& s) {
        return std::make_pair(s.count_people(), s.count_units());
      });
      return net::HttpResponse{200, "application/json", {},
                               "{\"status\":\"ok\",\"people\":" + std::to_string(people) +
                                   ",\"units\":" + std::to_string(units) + "}\n"};
    }
    if (path == "/") {
      return net::HttpResponse{200, "text/html; charset=utf-8", {{"Content-Security-Policy", "default-src 'none'"}},
                               "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Congvu</title></head>"
                               "<body><h1>Congvu</h1><p>Hệ thống thư công vụ, danh bạ và đăng nhập một lần.</p>"
                               "<p>Official mail, directory and single sign-on.</p></body></html>\n"};
    }
    return net::HttpResponse{404, "text/plain; charset=utf-8", {}, "not found\n"};
  };
}

}  // namespace congvu::app
