// The MIME structure parser over arbitrary messages: every part lies inside the message and
// inside its parent, BODYSTRUCTURE/ENVELOPE are produced, sections resolve, bodies decode, and
// the stored summary decodes to what was encoded.
#include <cstdint>
#include <string>

#include "mailstore/mime.hpp"

using namespace congvu::mailstore::mime;

namespace {
void check(const Part& p, std::size_t lo, std::size_t hi, std::string_view msg, int depth) {
  if (p.begin < lo || p.begin > p.body || p.body > p.end || p.end > hi) __builtin_trap();
  if (depth > kMaxDepth + 2) __builtin_trap();
  (void)decode_body(msg, p);
  for (const auto& c : p.parts) check(c, p.begin, p.end, msg, depth + 1);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 262144) return 0;
  std::string_view msg(reinterpret_cast<const char*>(data), size);
  Part root = parse(msg);
  check(root, 0, msg.size(), msg, 0);
  (void)bodystructure(msg, root, true);
  (void)envelope(msg, root);
  for (const char* path : {"1", "2", "1.1", "2.1.3", "1.2"}) (void)find(root, path);
  Summary s = summarize(msg);
  Summary back = decode_summary(encode(s));
  if (back.bodystructure != s.bodystructure || back.envelope != s.envelope || back.subject != s.subject) __builtin_trap();
  (void)decode_words(msg.substr(0, 2048));
  (void)base_subject(msg.substr(0, 2048));
  (void)parse_rfc5322_date(msg.substr(0, 200));
  return 0;
}
