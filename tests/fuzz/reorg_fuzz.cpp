// Reorganisation plans (directory/reorg.hpp) against the demo province in the in-memory store:
// any plan file either fails with a message, leaving the audit chain where it was, or applies;
// either way the directory stays consistent (every index, the tree, dissolved units'
// successors, the audit chain), and a second application of the same plan cannot break it.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "directory/demo.hpp"
#include "directory/reorg.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace congvu::directory;
  auto steps = parse_plan(std::string_view(reinterpret_cast<const char*>(data), size), "plan.csv");
  if (!steps) {
    if (steps.error().message.rfind("plan.csv", 0) != 0) std::abort();  // errors name the file
    return 0;
  }
  auto store = congvu::kv::open_memory(schema::table_names());
  Settings settings;
  settings.argon2 = {1, 64, 1};
  Directory dir(*store, settings);
  if (!dir.write(Actor{"fuzz"}, 1, [](Change& c) { return seed_demo(c, "2026-01-01"); })) std::abort();
  Reorganisation r{"1/NQ", "2026-11-22", "", *steps};
  for (int round = 0; round < 2; ++round) {
    auto head = dir.read([](Snapshot& s) { return s.audit_head_seq(); });
    auto done = dir.write(Actor{"fuzz"}, 2, [&](Change& c) { return reorganise(c, Authority::root("fuzz"), r); });
    auto after = dir.read([](Snapshot& s) { return s.audit_head_seq(); });
    if (!done && after != head) std::abort();
    if (done && after != head + done->changes.size()) std::abort();
    if (!dir.read([](Snapshot& s) { return s.check(); }).empty()) std::abort();
  }
  return 0;
}
