#include "common/result.hpp"

namespace congvu {

const char* errc_name(Errc e) {
  switch (e) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::not_found: return "not_found";
    case Errc::conflict: return "conflict";
    case Errc::unauthorized: return "unauthorized";
    case Errc::forbidden: return "forbidden";
    case Errc::corrupt: return "corrupt";
    case Errc::io: return "io";
    case Errc::unavailable: return "unavailable";
  }
  return "unknown";
}

}  // namespace congvu
