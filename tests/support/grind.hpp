// grind(): feeds an input to a fresh parser whole, split in two at every index, and one byte
// at a time, and returns the event sequences, so a test can require that every split yields
// the same events (STYLE.md habit 1). `run(feed, drain)` is given the chunks and returns the
// events as strings.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace congvu::test {

using Chunks = std::vector<std::string_view>;
using Runner = std::function<std::vector<std::string>(const Chunks&)>;

// Returns the events of the whole input; records a gtest failure for any split that differs.
inline std::vector<std::string> grind(std::string_view input, const Runner& run) {
  auto whole = run({input});
  for (std::size_t i = 1; i < input.size(); ++i) {
    auto split = run({input.substr(0, i), input.substr(i)});
    EXPECT_EQ(split, whole) << "split at " << i;
    if (split != whole) break;
  }
  Chunks bytes;
  for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  EXPECT_EQ(run(bytes), whole) << "byte by byte";
  return whole;
}

}  // namespace congvu::test
