// Minimal JSON string quoting for log lines and audit details, so that modules below app/ do
// not need Boost.JSON. Pure function.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace congvu {

// `s` as a JSON string literal, quotes included; control characters escaped.
std::string json_quote(std::string_view s);

// {"k1":"v1","k2":"v2"} from string pairs, in the order given.
std::string json_object(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace congvu
