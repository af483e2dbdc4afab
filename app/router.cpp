#include "app/router.hpp"

#include "common/text.hpp"

namespace congvu::app {

net::HttpHandler make_router(directory::Directory& dir, std::shared_ptr<const MailEndpoints> mail,
                             std::shared_ptr<const WebServices> services) {
  return [&dir, mail, services](const net::HttpRequest& req) {
    if (services->scim)
      if (auto r = services->scim->handle(req, system_now_ms())) return std::move(*r);
    if (services->admin)
      if (auto r = services->admin->handle(req, system_now_ms())) return std::move(*r);
    if (services->idp)
      if (auto r = services->idp->handle(req, system_now_ms())) return std::move(*r);
    std::string path = req.target.substr(0, req.target.find('?'));
    std::string lower_path = text::ascii_lower(path);
    if (lower_path == "/autodiscover/autodiscover.xml") {
      if (req.method != "POST")
        return net::HttpResponse{405, "text/plain; charset=utf-8", {{"Allow", "POST"}}, "method not allowed\n"};
      auto xml = autodiscover_response(*mail, req.body);
      if (!xml) return net::HttpResponse{404, "text/plain; charset=utf-8", {}, "no such mail address here\n"};
      return net::HttpResponse{200, "application/xml; charset=utf-8", {}, *xml};
    }
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
    if (path == "/.well-known/autoconfig/mail/config-v1.1.xml" || path == "/mail/config-v1.1.xml")
      return net::HttpResponse{200, "application/xml; charset=utf-8", {}, thunderbird_config(*mail)};
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
