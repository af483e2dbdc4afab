// The command table and the dispatcher: which commands exist, in which state each may run and
// whether it has a UID form. A new command is one row here and one cmd_<name>.cpp file; the
// handler finds the parser after the command name and the state already checked. The small
// commands of every state (CAPABILITY, NOOP, LOGOUT, ID, STARTTLS, IDLE, COMPRESS, CHECK)
// are at the end of this file.
#include <algorithm>
#include <array>

#include "imap/session_impl.hpp"

namespace congvu::imap {

using proto::Parser;
using proto::ParseError;

const Session::CommandSpec* Session::find_command(std::string_view name) {
  using S = Session;
  using N = CommandSpec;
  constexpr unsigned sel = N::selected | N::auth;
  constexpr unsigned msg = sel | N::rights | N::uid_form;  // commands on messages
  static const std::array<CommandSpec, 41> table{{
      {"APPEND", &S::cmd_append, N::auth},
      {"AUTHENTICATE", &S::cmd_authenticate, N::before_auth},
      {"CAPABILITY", &S::cmd_capability, N::any_state},
      {"CHECK", &S::cmd_check, sel},
      {"CLOSE", &S::cmd_close, sel},
      {"COMPRESS", &S::cmd_compress, N::auth},
      {"COPY", &S::cmd_copy, msg},
      {"CREATE", &S::cmd_create, N::auth},
      {"DELETE", &S::cmd_delete, N::auth},
      {"DELETEACL", &S::cmd_acl, N::auth},
      {"ENABLE", &S::cmd_enable, N::auth},
      {"EXAMINE", &S::cmd_select, N::auth},
      {"EXPUNGE", &S::cmd_expunge, msg},
      {"FETCH", &S::cmd_fetch, msg},
      {"GETACL", &S::cmd_acl, N::auth},
      {"GETQUOTA", &S::cmd_quota, N::auth},
      {"GETQUOTAROOT", &S::cmd_quota, N::auth},
      {"ID", &S::cmd_id, N::any_state},
      {"IDLE", &S::cmd_idle, N::auth},
      {"LIST", &S::cmd_list, N::auth},
      {"LISTRIGHTS", &S::cmd_acl, N::auth},
      {"LOGIN", &S::cmd_login, N::before_auth},
      {"LOGOUT", &S::cmd_logout, N::any_state},
      {"LSUB", &S::cmd_list, N::auth},
      {"MOVE", &S::cmd_copy, msg},
      {"MYRIGHTS", &S::cmd_acl, N::auth},
      {"NAMESPACE", &S::cmd_namespace, N::auth},
      {"NOOP", &S::cmd_noop, N::any_state},
      {"RENAME", &S::cmd_rename, N::auth},
      {"SEARCH", &S::cmd_search, msg},
      {"SELECT", &S::cmd_select, N::auth},
      {"SETACL", &S::cmd_acl, N::auth},
      {"SETQUOTA", &S::cmd_quota, N::auth},
      {"SORT", &S::cmd_sort, msg},
      {"STARTTLS", &S::cmd_starttls, N::before_auth},
      {"STATUS", &S::cmd_status, N::auth},
      {"STORE", &S::cmd_store, msg},
      {"SUBSCRIBE", &S::cmd_subscribe, N::auth},
      {"THREAD", &S::cmd_thread, msg},
      {"UNSELECT", &S::cmd_close, sel},
      {"UNSUBSCRIBE", &S::cmd_subscribe, N::auth},
  }};
  auto it = std::lower_bound(table.begin(), table.end(), name,
                             [](const CommandSpec& row, std::string_view n) { return row.name < n; });
  return it != table.end() && it->name == name ? &*it : nullptr;
}

Step Session::dispatch(const std::string& text, UnixMs now) {
  Parser p(text);
  std::string tag;
  try {
    tag = p.tag();
  } catch (const ParseError&) {
    bad("*", "missing tag");
    return {std::move(out_), std::move(action_)};
  }
  try {
    p.sp();
    Command c{p, tag, p.keyword(), false, now};
    if (c.name == "UID") {
      p.sp();
      c.name = p.keyword();
      c.uid = true;
    }
    const CommandSpec* spec = find_command(c.name);
    using N = CommandSpec;
    const bool authed = state_ == State::authenticated || state_ == State::selected;
    if (!spec) {
      bad(tag, (c.uid ? "unknown UID command " : "unknown command ") + c.name.substr(0, 40));
    } else if (c.uid && !(spec->needs & N::uid_form)) {
      bad(tag, "unknown UID command " + c.name);
    } else if ((spec->needs & N::before_auth) && authed) {
      bad(tag, "already authenticated");
    } else if ((spec->needs & N::auth) && !authed) {
      bad(tag, "log in first");
    } else if ((spec->needs & N::selected) && state_ != State::selected) {
      bad(tag, "no mailbox selected");
    } else if ((spec->needs & N::rights) && !check_selected_access()) {
      tagged(tag, "NO", "[NOPERM] the mailbox is no longer accessible");
    } else {
      (this->*(spec->run))(c);
    }
  } catch (const ParseError& e) {
    bad(tag, std::string("syntax error: ") + e.what());
  } catch (const std::exception& e) {
    // Storage failures: the command did nothing (every write is one transaction).
    tagged(tag, "NO", std::string("[SERVERBUG] ") + e.what());
  }
  return {std::move(out_), std::move(action_)};
}

// ---- the small commands

void Session::cmd_capability(Command& c) {
  c.p.end();
  untagged("CAPABILITY " + capabilities());
  tagged(c.tag, "OK", "CAPABILITY completed");
}

void Session::cmd_noop(Command& c) {
  c.p.end();
  if (state_ == State::selected && check_selected_access()) sync(true);
  tagged(c.tag, "OK", "NOOP completed");
}

void Session::cmd_check(Command& c) {  // reports what changed, as NOOP does (RFC 3501 6.4.1, 7)
  c.p.end();
  if (check_selected_access()) sync(true);
  tagged(c.tag, "OK", "CHECK completed");
}

void Session::cmd_logout(Command& c) {
  c.p.end();
  untagged("BYE Congvu logging out");
  tagged(c.tag, "OK", "LOGOUT completed");
  state_ = State::logout;
  action_ = Close{};
}

void Session::cmd_id(Command& c) {
  auto& p = c.p;
  p.sp();
  if (!p.try_char('(')) {
    p.atom();  // NIL
  } else {
    int pairs = 0;
    while (!p.try_char(')')) {
      if (pairs++ > 30) throw ParseError("too many ID fields");
      if (pairs > 1) p.sp();
      p.string();
      p.sp();
      p.nstring();
    }
  }
  p.end();
  untagged("ID (\"name\" \"Congvu\" \"vendor\" \"Congvu\" \"support-url\" \"https://" + cfg_.hostname + "/\")");
  tagged(c.tag, "OK", "ID completed");
}

void Session::cmd_starttls(Command& c) {
  c.p.end();
  if (tls_ || !cfg_.starttls) return tagged(c.tag, "NO", "TLS is already active");
  tagged(c.tag, "OK", "Begin TLS negotiation now");
  // RFC 9051 6.2.1: anything the client pipelined after STARTTLS is discarded.
  reader_ = proto::CommandReader(reader_.limits());
  action_ = StartTls{};
}

void Session::cmd_idle(Command& c) {
  c.p.end();
  if (state_ == State::selected && check_selected_access()) sync(true);
  out_ += "+ idling\r\n";
  idle_tag_ = c.tag;
  Idle idle;
  if (sel_) {
    idle.mailbox = sel_->box.id;
    idle.shared = sel_->shared;
  }
  action_ = idle;
}

void Session::cmd_compress(Command& c) {
  auto& p = c.p;
  p.sp();
  std::string alg = p.keyword();
  p.end();
  if (!cfg_.compress) return bad(c.tag, "COMPRESS is not offered");
  if (compressing_) return tagged(c.tag, "NO", "[COMPRESSIONACTIVE] DEFLATE is already active");
  if (alg != "DEFLATE") return bad(c.tag, "unknown compression " + alg);
  tagged(c.tag, "OK", "DEFLATE active");
  compressing_ = true;
  action_ = Compress{};
}

}  // namespace congvu::imap
