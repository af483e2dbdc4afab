// The IMAP command reader and parser over arbitrary bytes: commands cut from any split of the
// input with small limits, then walked with every parser primitive until a ParseError. No
// crash, no hang, and the reader's invariants: a command ends with CRLF, an error names at most
// a tag. SEARCH/SORT/THREAD/FETCH read into their typed forms; IMAP URLs (CATENATE) parse or
// are refused. Modified UTF-7 round-trips every valid UTF-8 string.
#include <cstdint>
#include <string>

#include "common/text.hpp"
#include "imap/proto/command.hpp"
#include "imap/proto/fetch.hpp"
#include "imap/proto/search.hpp"
#include "imap/proto/url.hpp"

using namespace congvu::imap::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 65536) return 0;
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  CommandReader r(Limits{256, 512, 2048});
  std::size_t cut = data[0] % (in.size() + 1);
  int guard = 0;
  for (std::string_view part : {std::string_view(in).substr(0, cut), std::string_view(in).substr(cut)}) {
    r.feed(part);
    for (;;) {
      if (++guard > 100000) __builtin_trap();
      auto e = r.next();
      if (e.kind == CommandReader::Kind::need_more) break;
      if (e.kind == CommandReader::Kind::error && e.tag.size() > 64) __builtin_trap();
      if (e.kind != CommandReader::Kind::command) continue;
      if (!e.text.ends_with("\r\n")) __builtin_trap();
      Parser p(e.text);
      try {
        p.tag();
        p.sp();
        p.keyword();
        for (int step = 0; step < 64 && !p.at_end(); ++step) {
          p.try_sp();
          std::size_t before = p.pos();
          switch ((data[0] + step) % 6) {
            case 0: p.astring(); break;
            case 1: p.sequence_set().expand(50); break;
            case 2: p.fetch_att(); break;
            case 3: p.flag_list(); break;
            case 4: (void)p.nstring(); break;
            default: p.number64(); break;
          }
          if (p.pos() == before) break;
        }
      } catch (const ParseError&) {
      }
      // The typed commands from the same line: any of them, whatever the name said.
      Parser q(e.text);
      try {
        q.tag();
        q.sp();
        q.keyword();
        switch (data[0] % 4) {
          case 0: {
            auto c = parse_search(q);
            if (c.ret.partial && c.ret.partial->within(5) && c.ret.partial->within(5)->second >= 5) __builtin_trap();
            break;
          }
          case 1: (void)parse_sort(q); break;
          case 2: (void)parse_thread(q); break;
          default: (void)parse_fetch(q); break;
        }
      } catch (const ParseError&) {
      }
    }
  }
  if (auto u = parse_imap_url(in); u && u->uid == 0) __builtin_trap();
  if (congvu::text::valid_utf8(in)) {
    auto back = mutf7_decode(mutf7_encode(in));
    if (!back || *back != in) __builtin_trap();
  }
  (void)mutf7_decode(in);
  (void)parse_date_time(in);
  return 0;
}
