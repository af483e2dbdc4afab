// GETQUOTA, GETQUOTAROOT and SETQUOTA (RFC 9208).

#include "imap/session_impl.hpp"

namespace congvu::imap {

using proto::Parser;
using proto::ParseError;

void Session::cmd_quota(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const std::string& name = c.name;
  p.sp();
  std::string arg = p.astring();
  if (name == "SETQUOTA") {
    p.sp();
    p.expect('(');
    while (!p.try_char(')')) {
      p.try_sp();
      p.atom();
    }
    p.end();
    return tagged(tag, "NO", "[NOPERM] quotas are set by the administrators");
  }
  p.end();
  std::string account;
  std::string root;
  if (name == "GETQUOTAROOT") {
    auto n = decode_name(arg);
    auto m = n ? resolve(*n) : std::nullopt;
    if (!m || !m->record) return tagged(tag, "NO", "[NONEXISTENT] no such mailbox");
    account = m->account;
    root = account == account_ ? "" : visible(account, "INBOX");
    untagged("QUOTAROOT " + encode_name(m->visible) + " " + proto::quoted_or_literal(root, true));
  } else {
    root = arg;
    if (root.empty()) {
      account = account_;
    } else {
      auto m = resolve(root);
      if (!m || !m->record || m->account == account_) return tagged(tag, "NO", "[NONEXISTENT] no such quota root");
      account = m->account;
    }
  }
  auto u = ctx_.store.usage(account);
  auto q = ctx_.store.quota(account);
  untagged("QUOTA " + proto::quoted_or_literal(root, true) + " (STORAGE " + std::to_string((u.bytes + 1023) / 1024) +
           " " + std::to_string(q / 1024) + ")");
  tagged(tag, "OK", name + " completed");
}

}  // namespace congvu::imap
