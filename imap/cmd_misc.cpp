// NAMESPACE (RFC 2342) and ENABLE (RFC 5161).

#include "imap/session_impl.hpp"

namespace congvu::imap {

using proto::Parser;
using proto::ParseError;

void Session::cmd_namespace(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  p.end();
  untagged("NAMESPACE ((\"\" \"/\")) ((\"Users/\" \"/\")) ((\"Shared/\" \"/\"))");
  tagged(tag, "OK", "NAMESPACE completed");
}

void Session::cmd_enable(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  std::string enabled;
  while (p.try_sp()) {
    std::string c = p.keyword();
    bool on = false;
    if (c == "CONDSTORE") on = !std::exchange(condstore_, true);
    else if (c == "QRESYNC") {
      on = !std::exchange(qresync_, true);
      condstore_ = true;
    } else if (c == "IMAP4REV2") on = !std::exchange(rev2_, true);
    else if (c == "UTF8=ACCEPT") on = !std::exchange(utf8_, true);
    if (on) enabled += " " + c;
  }
  p.end();
  untagged("ENABLED" + enabled);
  tagged(tag, "OK", "ENABLE completed");
}

}  // namespace congvu::imap
