// JSON string quoting for log lines and audit details, by Boost.JSON (its header stays out of
// this one). Ill-formed UTF-8 becomes U+FFFD, so the output is always valid JSON. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace congvu {

// `s` as a JSON string literal, quotes included; control characters escaped, ill-formed UTF-8
// replaced by U+FFFD.
std::string json_quote(std::string_view s);

// {"k1":"v1","k2":"v2"} from string pairs, in the order given.
std::string json_object(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace congvu
