// The IMAP session over arbitrary client bytes, on the in-memory directory (the demo province)
// and mail store: no crash, no hang, output made of CRLF-ended lines. Half the inputs start
// logged in with INBOX selected (holding a few messages), so the fuzzer reaches FETCH, STORE,
// SEARCH and the rest; the first byte decides that and where the input is split.
#include <cstdint>
#include <memory>
#include <string>

#include "tests/support/demo_world.hpp"
#include "imap/session.hpp"
#include "mailstore/mailstore.hpp"

namespace {
using namespace congvu;

using World = test::DemoWorld;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World w;
  if (size < 1 || size > 32768) return 0;
  // A fresh mail store now and then keeps the fuzzer's appends from piling up.
  static int runs = 0;
  if (++runs % 200 == 0) w.mail = mailstore::open_memory();
  imap::SessionConfig cfg;
  cfg.max_message_bytes = 4096;
  imap::Session s(cfg, imap::Context{*w.dir, *w.mail.store}, imap::Peer{"192.0.2.1", (data[0] & 2) == 0});
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1)
    in = "p1 LOGIN annv CongVu-demo-2026\r\np2 APPEND INBOX {40+}\r\nSubject: seed\r\nFrom: a@b.test\r\n\r\nbody text\r\n"
         "p3 SELECT INBOX\r\n" + in;
  std::size_t cut = data[0] % (in.size() + 1);
  std::string out;
  int guard = 0;
  for (std::string_view part : {std::string_view(in).substr(0, cut), std::string_view(in).substr(cut)}) {
    s.feed(part);
    for (;;) {
      if (++guard > 100000) __builtin_trap();
      imap::Step st = s.next(1795280400000);
      out += st.out;
      if (std::holds_alternative<imap::NeedInput>(st.action) && st.more) continue;
      if (std::holds_alternative<imap::StartTls>(st.action)) {
        s.tls_started();
        continue;
      }
      if (std::holds_alternative<imap::Idle>(st.action)) {
        out += s.idle_poll(1795280400000).out;
        continue;
      }
      break;
    }
    if (s.idling()) out += s.idle_poll(1795280400000).out;
  }
  if (!out.empty() && !out.ends_with("\r\n")) __builtin_trap();
  return 0;
}
