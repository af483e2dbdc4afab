// The LDAP session over arbitrary client bytes, on the in-memory directory (the demo province)
// and its DIT: the PDU decoder, the filter decoder and evaluator, paging and sorting controls,
// binds and DN parsing. No crash, no hang, and the output is a sequence of whole BER PDUs.
// The first byte decides whether the session starts over TLS and bound as annv (so searches
// reach the evaluator) and where the input is split.
#include <cstdint>
#include <memory>
#include <string>

#include "directory/ldap/dit.hpp"
#include "directory/ldap/session.hpp"
#include "directory/throttle.hpp"
#include "tests/support/demo_world.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace congvu;
  using namespace congvu::directory::ldap;
  static test::DemoWorld w;
  static Dit dit(*w.dir, DitConfig{"tinhmau.test"});
  if (size < 1 || size > 65536) return 0;
  directory::LoginThrottle throttle;
  SessionConfig cfg;
  Session s(cfg, Context{*w.dir, dit, throttle, [](const std::string&) {}}, "192.0.2.1");
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  (void)normalize_dn(in.substr(0, 512));
  if (data[0] & 1) {
    s.tls_started("");
    // bind as annv: {1, bindRequest {3, dn, simple password}}
    std::string dn = "uid=annv,ou=people,dc=tinhmau,dc=test", pw = "CongVu-demo-2026";
    std::string body = std::string("\x02\x01\x03\x04", 4) + static_cast<char>(dn.size()) + dn + '\x80' +
                       static_cast<char>(pw.size()) + pw;
    std::string op = std::string("\x60", 1) + static_cast<char>(body.size()) + body;
    std::string msg = std::string("\x02\x01\x01", 3) + op;
    in = std::string("\x30", 1) + static_cast<char>(msg.size()) + msg + in;
  }
  std::size_t cut = data[0] % (in.size() + 1);
  std::string out;
  for (std::string_view part : {std::string_view(in).substr(0, cut), std::string_view(in).substr(cut)}) {
    s.feed(part);
    for (int guard = 0;; ++guard) {
      if (guard > 1000) __builtin_trap();
      Step st = s.next(1795280400000);
      out += st.out;
      if (st.action == Step::start_tls) {
        s.tls_started("");
        continue;
      }
      break;
    }
  }
  std::string_view rest = out;
  while (!rest.empty()) {
    Frame f = frame(rest, 64 << 20);
    if (f.kind != Frame::ready) __builtin_trap();
    rest.remove_prefix(f.size);
  }
  return 0;
}
