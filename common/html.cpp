#include "common/html.hpp"

namespace congvu {

Html& Html::operator<<(std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': s_ += "&amp;"; break;
      case '<': s_ += "&lt;"; break;
      case '>': s_ += "&gt;"; break;
      case '"': s_ += "&quot;"; break;
      case '\'': s_ += "&#39;"; break;
      default: s_ += c;
    }
  }
  return *this;
}

}  // namespace congvu
