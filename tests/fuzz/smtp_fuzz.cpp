// The SMTP command reader and DATA reader over arbitrary bytes, fed in two chunks at a split
// point taken from the input: every event must be the same as for the whole input, and no
// error may leave the reader unable to go on.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "smtp/proto/command.hpp"

namespace {
using namespace congvu::smtp::proto;

std::string tag(const Event& e) {
  if (std::holds_alternative<NeedMore>(e)) return "m";
  if (auto* err = std::get_if<Error>(&e)) return "e" + std::to_string(err->code);
  const auto& c = std::get<Command>(e);
  return "c" + std::to_string(static_cast<int>(c.verb)) + c.arg + (c.path ? c.path->address() : "");
}

std::vector<std::string> run_commands(std::string_view a, std::string_view b) {
  CommandReader r;
  std::vector<std::string> out;
  for (auto chunk : {a, b}) {
    r.feed(chunk);
    for (int guard = 0; guard < 100000; ++guard) {
      auto e = r.next();
      if (std::holds_alternative<NeedMore>(e)) break;
      out.push_back(tag(e));
      if (auto* err = std::get_if<Error>(&e); err && err->close) return out;
    }
  }
  return out;
}

std::string run_data(std::string_view a, std::string_view b) {
  DataReader r(4096);
  std::string out;
  for (auto chunk : {a, b}) {
    r.feed(chunk);
    auto e = r.next();
    if (auto* m = std::get_if<Message>(&e)) return "m" + m->data;
    if (auto* err = std::get_if<Error>(&e)) return "e" + std::to_string(err->code);
  }
  return "need";
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t split = in.empty() ? 0 : data[0] % (in.size() + 1);
  if (run_commands(in, {}) != run_commands(in.substr(0, split), in.substr(split))) std::abort();
  if (run_data(in, {}) != run_data(in.substr(0, split), in.substr(split))) std::abort();
  (void)parse_path(in, true);
  return 0;
}
