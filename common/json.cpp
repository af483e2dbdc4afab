#include "common/json.hpp"

#include <unicode/utf8.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace congvu {

namespace {
// `s` with every ill-formed UTF-8 sequence replaced by U+FFFD, so that what Boost.JSON writes
// is always valid JSON text (RFC 8259 8.1), whatever a form field or a header carried.
std::string well_formed(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto* b = reinterpret_cast<const uint8_t*>(s.data());
  std::int32_t i = 0, n = static_cast<std::int32_t>(s.size());
  while (i < n) {
    std::int32_t start = i;
    UChar32 c;
    U8_NEXT(b, i, n, c);
    if (c < 0)
      out += "\xEF\xBF\xBD";
    else
      out.append(s.substr(static_cast<std::size_t>(start), static_cast<std::size_t>(i - start)));
  }
  return out;
}
}  // namespace

std::string json_quote(std::string_view s) {
  return boost::json::serialize(boost::json::string(well_formed(s)));
}

std::string json_object(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out = "{";
  for (const auto& [k, v] : fields) {
    if (out.size() > 1) out += ',';
    out += json_quote(k) + ':' + json_quote(v);
  }
  return out + "}";
}

}  // namespace congvu
