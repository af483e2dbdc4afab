// The SMTP session state machine over arbitrary client bytes, on the in-memory directory (the
// demo province) and mail store: no crash, no hang, every reply line is a well-formed SMTP
// reply, and the session ends cleanly. The first byte picks the listener (MX or submission
// over TLS, where AUTH runs through Cyrus SASL) and where the input is split.
#include <cstdint>
#include <memory>
#include <string>

#include "tests/support/demo_world.hpp"
#include "directory/sasl.hpp"
#include "mailstore/mailstore.hpp"
#include "smtp/session.hpp"

namespace {
using namespace congvu;

struct World : test::DemoWorld {
  std::unique_ptr<smtp::Recipients> recipients = std::make_unique<smtp::Recipients>(*dir, *mail.store);
};

void check_reply(const std::string& out) {
  std::size_t pos = 0;
  while (pos < out.size()) {
    auto e = out.find("\r\n", pos);
    if (e == std::string::npos) __builtin_trap();  // every reply line ends in CRLF
    std::string_view line(out.data() + pos, e - pos);
    if (line.size() < 4 || line[0] < '2' || line[0] > '5' || (line[3] != ' ' && line[3] != '-')) __builtin_trap();
    pos = e + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World w;
  if (size < 1 || size > 65536) return 0;
  smtp::SessionConfig cfg;
  cfg.kind = data[0] & 1 ? smtp::Listener::submissions : smtp::Listener::mx;
  cfg.max_message_bytes = 4096;
  smtp::Session s(cfg, *w.recipients, smtp::Peer{"192.0.2.1", cfg.kind == smtp::Listener::submissions});
  std::unique_ptr<directory::SaslConn> sasl;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t split = in.empty() ? 0 : data[0] % (in.size() + 1);
  for (auto chunk : {in.substr(0, split), in.substr(split)}) {
    s.feed(chunk);
    for (int guard = 0; guard < 10000; ++guard) {
      auto st = s.next(1795280400000);
      check_reply(st.reply);
      if (std::holds_alternative<smtp::NeedInput>(st.action)) break;
      if (std::holds_alternative<smtp::Close>(st.action)) return 0;
      if (std::holds_alternative<smtp::StartTls>(st.action)) {
        s.tls_started();
      } else if (auto* d = std::get_if<smtp::Deliver>(&st.action)) {
        s.delivered(w.mail.store->deliver(*d->delivery));
      } else if (auto* c = std::get_if<smtp::CheckAuth>(&st.action)) {
        static const smtp::StaticDns dns;
        s.auth_checked(smtp::check_inbound(dns, {c->client_ip, c->helo, c->mail_from, *c->message, 1795280400000}), 1795280400000);
      } else if (auto* a = std::get_if<smtp::SaslStart>(&st.action)) {
        sasl = directory::SaslEngine::get().connect(*w.dir, "smtp", "mail.tinhmau.test");
        auto r = sasl->start(a->mechanism, a->initial, 1795280400000);
        s.sasl_result(r);
      } else if (auto* a = std::get_if<smtp::SaslStep>(&st.action)) {
        auto r = sasl->step(a->response, 1795280400000);
        s.sasl_result(r);
      }
      if (guard == 9999) __builtin_trap();  // the session must wait for input eventually
    }
  }
  return 0;
}
