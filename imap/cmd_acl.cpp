// GETACL, SETACL, DELETEACL, LISTRIGHTS and MYRIGHTS (RFC 4314).

#include "imap/session_impl.hpp"

namespace congvu::imap {

using proto::Parser;
using proto::ParseError;

void Session::cmd_acl(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const std::string& name = c.name;
  p.sp();
  std::string wire = mailbox_arg(p);
  std::string ident, rights;
  if (name == "SETACL" || name == "DELETEACL" || name == "LISTRIGHTS") {
    p.sp();
    ident = p.astring();
  }
  if (name == "SETACL") {
    p.sp();
    rights = p.astring();
  }
  p.end();
  auto n = decode_name(wire);
  auto m = n ? resolve(*n) : std::nullopt;
  if (!m || !m->record) return tagged(tag, "NO", "[NONEXISTENT] no such mailbox");
  const std::string wire_name = encode_name(m->visible);
  if (name == "MYRIGHTS") {
    untagged("MYRIGHTS " + wire_name + " " + proto::astring(m->rights));
    return tagged(tag, "OK", "MYRIGHTS completed");
  }
  if (m->rights.find('a') == std::string::npos) return tagged(tag, "NO", "[NOPERM] no right to administer this mailbox");
  // Identifiers are logins (and "anyone"); stored by account so that they survive renames.
  auto to_account = [&](const std::string& id) -> std::optional<std::string> {
    if (id == "anyone") return id;
    auto p2 = ctx_.dir.read([&](directory::Snapshot& s) { return s.resolve(id); });
    if (!p2) return std::nullopt;
    return mailstore::person_account(p2->id);
  };
  auto to_login = [&](const std::string& acc) -> std::string {
    if (acc == "anyone" || !acc.starts_with("p:")) return acc;
    auto id = PersonId::parse(acc.substr(2));
    auto p2 = id ? ctx_.dir.read([&](directory::Snapshot& s) { return s.person(*id); }) : std::nullopt;
    return p2 ? p2->login : acc;
  };
  if (name == "GETACL") {
    std::string line = "ACL " + wire_name + " " + proto::astring(login_) + " " + mailstore::kOwnerRights;
    for (const auto& [id, r] : ctx_.store.acl(m->record->id))
      if (!id.starts_with("$")) line += " " + proto::astring(to_login(id)) + " " + proto::astring(r);
    untagged(line);
    return tagged(tag, "OK", "GETACL completed");
  }
  auto acc = to_account(ident);
  if (name == "LISTRIGHTS") {
    untagged("LISTRIGHTS " + wire_name + " " + proto::astring(ident) + " \"\" l r s w i p k x t e a");
    return tagged(tag, "OK", "LISTRIGHTS completed");
  }
  if (!acc) return tagged(tag, "NO", "[NONEXISTENT] no such person: " + ident);
  if (*acc == account_) return tagged(tag, "NO", "[CANNOT] the owner's rights cannot change");
  std::string current;
  for (const auto& [id, r] : ctx_.store.acl(m->record->id))
    if (id == *acc) current = r;
  std::string next;
  if (name == "SETACL") {
    std::string letters = rights;
    char mode = 0;
    if (!letters.empty() && (letters[0] == '+' || letters[0] == '-')) mode = letters[0], letters.erase(0, 1);
    // Obsolete RFC 2086 rights: c = k x, d = t e.
    std::string expanded;
    for (char c : letters) expanded += c == 'c' ? std::string("kx") : c == 'd' ? std::string("te") : std::string(1, c);
    for (char c : expanded)
      if (std::string_view(mailstore::kOwnerRights).find(c) == std::string_view::npos)
        return tagged(tag, "BAD", std::string("unknown right '") + c + "'");
    if (mode == '+') {
      next = current;
      for (char c : expanded)
        if (next.find(c) == std::string::npos) next += c;
    } else if (mode == '-') {
      for (char c : current)
        if (expanded.find(c) == std::string::npos) next += c;
    } else {
      next = expanded;
    }
  }
  auto r = ctx_.store.set_acl(m->record->id, *acc, next);
  if (!r) return tagged(tag, "NO", r.error().message);
  tagged(tag, "OK", name + " completed");
}

}  // namespace congvu::imap
