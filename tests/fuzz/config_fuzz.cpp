// The config loader over arbitrary TOML: errors, never crashes.
#include <cstdint>
#include <string_view>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = congvu::config::parse_config(in, "fuzz.toml");
  (void)r;
  (void)congvu::config::parse_listen(in);
  return 0;
}
