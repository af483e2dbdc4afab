// The demo province that `congvu serve` seeds into an empty data folder (unless --no-demo):
// ten units of the fictitious Tỉnh Mẫu and twenty people, names chosen so that the address
// collision rule shows (two Nguyễn Văn An: annv and annv2). The product's own data: nothing
// here comes from ../shared.
#pragma once

#include <string>

#include "directory/directory.hpp"

namespace congvu::directory {

// Every demo person's password. Printed by `congvu serve` when it seeds the demo.
inline constexpr const char* kDemoPassword = "CongVu-demo-2026";

// Imports the demo units and people and sets their passwords. Fails if any already exist.
Status seed_demo(Change& c, const std::string& date);

}  // namespace congvu::directory
