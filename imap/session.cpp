// Session: the command loop, authentication, and the commands of the authenticated state
// (mailboxes, LIST, STATUS, APPEND, ENABLE, NAMESPACE, QUOTA, ACL). The selected state lives in
// selected.cpp, SEARCH/SORT/THREAD in search.cpp.
#include <algorithm>
#include <cstring>
#include <strings.h>

#include "common/crypto.hpp"
#include "common/text.hpp"
#include "imap/session_impl.hpp"

namespace congvu::imap {

using mailstore::MailboxRecord;
using proto::Parser;
using proto::ParseError;

std::string upper(std::string s) {
  for (auto& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return s;
}

std::string to_set(std::vector<std::uint32_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  std::string out;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(v[i]);
    if (j > i) out += ":" + std::to_string(v[j]);
    i = j + 1;
  }
  return out;
}

namespace {

constexpr std::uint64_t kPreAuthLiteral = 8192;

// LIST pattern matching: '*' matches anything, '%' anything but the hierarchy delimiter.
bool matches(std::string_view pat, std::string_view name) {
  std::vector<char> prev(name.size() + 1, 0), cur(name.size() + 1, 0);
  prev[0] = 1;
  for (std::size_t j = 1; j <= name.size(); ++j) prev[j] = 0;
  for (std::size_t i = 1; i <= pat.size(); ++i) {
    char pc = pat[i - 1];
    cur[0] = prev[0] && (pc == '*' || pc == '%');
    for (std::size_t j = 1; j <= name.size(); ++j) {
      char nc = name[j - 1];
      if (pc == '*')
        cur[j] = prev[j] || cur[j - 1];
      else if (pc == '%')
        cur[j] = prev[j] || (cur[j - 1] && nc != '/');
      else
        cur[j] = prev[j - 1] && pc == nc;
    }
    std::swap(prev, cur);
  }
  return prev[name.size()] != 0;
}

bool is_inbox(std::string_view n) { return n.size() == 5 && strncasecmp(n.data(), "INBOX", 5) == 0; }

// Mailbox names as stored: "INBOX" upper case, also as the first level ("inbox/x").
std::string canonical(std::string n) {
  if (is_inbox(std::string_view(n).substr(0, 5)) && (n.size() == 5 || n[5] == '/')) n.replace(0, 5, "INBOX");
  return n;
}

}  // namespace

Session::Session(SessionConfig cfg, Context ctx, Peer peer)
    : cfg_(std::move(cfg)), ctx_(ctx), peer_(std::move(peer)),
      reader_(proto::Limits{cfg_.max_line, kPreAuthLiteral, kPreAuthLiteral + cfg_.max_line}) {
  tls_ = peer_.tls;
  throttle_ = ctx_.throttle;
  if (!throttle_) {
    own_throttle_ = std::make_unique<directory::LoginThrottle>();
    throttle_ = own_throttle_.get();
  }
}

Session::~Session() = default;

std::string Session::capabilities() const {
  std::string c = "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE";
  if (state_ == State::not_authenticated) {
    if (!tls_ && cfg_.starttls) c += " STARTTLS";
    if (!tls_ && !cfg_.plaintext_ok)
      c += " LOGINDISABLED";
    else
      c += ctx_.dir.tokens_enabled() ? " AUTH=PLAIN AUTH=SCRAM-SHA-256 AUTH=OAUTHBEARER AUTH=XOAUTH2"
                                     : " AUTH=PLAIN AUTH=SCRAM-SHA-256";
    return c;
  }
  c += " NAMESPACE UNSELECT CHILDREN SPECIAL-USE LIST-EXTENDED LIST-STATUS UIDPLUS MOVE CONDSTORE QRESYNC"
       " ESEARCH SEARCHRES SORT THREAD=REFERENCES THREAD=ORDEREDSUBJECT STATUS=SIZE QUOTA QUOTA=RES-STORAGE"
       " ACL RIGHTS=texk BINARY MULTIAPPEND UTF8=ACCEPT APPENDLIMIT=" +
       std::to_string(cfg_.max_message_bytes);
  if (cfg_.compress && !compressing_) c += " COMPRESS=DEFLATE";
  return c;
}

std::string Session::greeting() const {
  return "* OK [CAPABILITY " + capabilities() + "] " + cfg_.hostname + " Congvu IMAP ready\r\n";
}

void Session::tls_started() { tls_ = true; }

void Session::bad(const std::string& tag, const std::string& text) {
  ++errors_;
  tagged(tag, "BAD", text);
  if (errors_ >= cfg_.max_errors) {
    untagged("BYE Too many bad commands");
    state_ = State::logout;
    action_ = Close{};
  }
}

Step Session::next(UnixMs now) {
  // Pipelined commands run back to back; the output goes out in pieces of about 256 KiB.
  std::string all;
  for (;;) {
    bool progressed = false;
    Step st = next_one(now, progressed);
    all += st.out;
    if (!std::holds_alternative<NeedInput>(st.action) || !progressed) return {std::move(all), std::move(st.action)};
    if (all.size() > (256 << 10)) return {std::move(all), NeedInput{}, true};
  }
}

Step Session::next_one(UnixMs now, bool& progressed) {
  out_.clear();
  action_ = NeedInput{};
  if (state_ == State::logout) return {"", Close{}};
  if (idle_tag_) {
    bool too_long = false;
    auto line = reader_.line(&too_long);
    if (!line) return {std::move(out_), NeedInput{}};
    progressed = true;
    std::string tag = *std::exchange(idle_tag_, std::nullopt);
    if (too_long || upper(*line) != "DONE") {
      bad(tag, "IDLE ends with DONE");
    } else {
      if (sel_ && check_selected_access()) sync(true);
      tagged(tag, "OK", "IDLE terminated");
    }
    return {std::move(out_), std::move(action_)};
  }
  if (sasl_tag_) {
    bool too_long = false;
    auto line = reader_.line(&too_long);
    if (!line) return {std::move(out_), NeedInput{}};
    progressed = true;
    if (too_long) {
      std::string tag = *std::exchange(sasl_tag_, std::nullopt);
      sasl_.reset();
      bad(tag, "[TOOBIG] authentication response too long");
    } else {
      sasl_continue(*line, now);
    }
    return {std::move(out_), std::move(action_)};
  }
  auto ev = reader_.next();
  progressed = ev.kind == proto::CommandReader::Kind::error || ev.kind == proto::CommandReader::Kind::command;
  switch (ev.kind) {
    case proto::CommandReader::Kind::need_more:
      return {std::move(out_), NeedInput{}};
    case proto::CommandReader::Kind::continuation:
      return {"+ Ready for literal data\r\n", NeedInput{}};
    case proto::CommandReader::Kind::error: {
      std::string tag = ev.tag.empty() ? "*" : ev.tag;
      if (ev.message.starts_with("literal"))
        tagged(tag, "NO", "[TOOBIG] " + ev.message + " (limit " + std::to_string(reader_.limits().max_literal) + " octets)"),
            ++errors_;
      else
        bad(tag, "[TOOBIG] " + ev.message);
      if (errors_ >= cfg_.max_errors && state_ != State::logout) {
        untagged("BYE Too many bad commands");
        state_ = State::logout;
        action_ = Close{};
      }
      return {std::move(out_), std::move(action_)};
    }
    case proto::CommandReader::Kind::command:
      return dispatch(ev.text, now);
  }
  return {std::move(out_), NeedInput{}};
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
    std::string name = p.keyword();
    bool uid = false;
    if (name == "UID") {
      p.sp();
      name = p.keyword();
      uid = true;
    }
    command(p, tag, name, uid, now);
  } catch (const ParseError& e) {
    bad(tag, std::string("syntax error: ") + e.what());
  } catch (const std::exception& e) {
    // Storage failures: the command did nothing (every write is one transaction).
    tagged(tag, "NO", std::string("[SERVERBUG] ") + e.what());
  }
  return {std::move(out_), std::move(action_)};
}

void Session::command(Parser& p, const std::string& tag, const std::string& name, bool uid, UnixMs now) {
  const bool authed = state_ == State::authenticated || state_ == State::selected;
  const bool selected = state_ == State::selected;
  if (uid && !(name == "FETCH" || name == "STORE" || name == "COPY" || name == "MOVE" || name == "SEARCH" ||
               name == "SORT" || name == "THREAD" || name == "EXPUNGE"))
    return bad(tag, "unknown UID command");
  // Any state
  if (name == "CAPABILITY") {
    p.end();
    untagged("CAPABILITY " + capabilities());
    return tagged(tag, "OK", "CAPABILITY completed");
  }
  if (name == "NOOP") {
    p.end();
    if (selected && check_selected_access()) sync(true);
    return tagged(tag, "OK", "NOOP completed");
  }
  if (name == "LOGOUT") {
    p.end();
    untagged("BYE Congvu logging out");
    tagged(tag, "OK", "LOGOUT completed");
    state_ = State::logout;
    action_ = Close{};
    return;
  }
  if (name == "ID") {
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
    return tagged(tag, "OK", "ID completed");
  }
  if (state_ == State::not_authenticated) {
    if (name == "STARTTLS") {
      p.end();
      if (tls_ || !cfg_.starttls) return tagged(tag, "NO", "TLS is already active");
      tagged(tag, "OK", "Begin TLS negotiation now");
      // RFC 9051 6.2.1: anything the client pipelined after STARTTLS is discarded.
      reader_ = proto::CommandReader(reader_.limits());
      action_ = StartTls{};
      return;
    }
    if (name == "LOGIN") return cmd_login(p, tag, now);
    if (name == "AUTHENTICATE") return cmd_authenticate(p, tag, now);
    if (name == "SELECT" || name == "EXAMINE" || name == "LIST" || name == "FETCH" || name == "STATUS")
      return bad(tag, "log in first");
    return bad(tag, "unknown command " + name);
  }
  if (name == "LOGIN" || name == "AUTHENTICATE" || name == "STARTTLS") return bad(tag, "already authenticated");
  if (!authed) return bad(tag, "unknown command");
  if (name == "SELECT" || name == "EXAMINE") return cmd_select(p, tag, name == "EXAMINE", now);
  if (name == "CREATE") return cmd_create(p, tag, now);
  if (name == "DELETE") return cmd_delete(p, tag);
  if (name == "RENAME") return cmd_rename(p, tag, now);
  if (name == "SUBSCRIBE" || name == "UNSUBSCRIBE") return cmd_subscribe(p, tag, name == "SUBSCRIBE");
  if (name == "LIST" || name == "LSUB") return cmd_list(p, tag, name == "LSUB");
  if (name == "STATUS") return cmd_status(p, tag);
  if (name == "APPEND") return cmd_append(p, tag, now);
  if (name == "NAMESPACE") return cmd_namespace(p, tag);
  if (name == "ENABLE") return cmd_enable(p, tag);
  if (name == "GETQUOTA" || name == "GETQUOTAROOT" || name == "SETQUOTA") return cmd_quota(p, tag, name);
  if (name == "GETACL" || name == "SETACL" || name == "DELETEACL" || name == "LISTRIGHTS" || name == "MYRIGHTS")
    return cmd_acl(p, tag, name);
  if (name == "IDLE") {
    p.end();
    if (selected && check_selected_access()) sync(true);
    out_ += "+ idling\r\n";
    idle_tag_ = tag;
    Idle idle;
    if (sel_) {
      idle.mailbox = sel_->box.id;
      idle.shared = sel_->shared;
    }
    action_ = idle;
    return;
  }
  if (name == "COMPRESS") {
    p.sp();
    std::string alg = p.keyword();
    p.end();
    if (!cfg_.compress) return bad(tag, "COMPRESS is not offered");
    if (compressing_) return tagged(tag, "NO", "[COMPRESSIONACTIVE] DEFLATE is already active");
    if (alg != "DEFLATE") return bad(tag, "unknown compression " + alg);
    tagged(tag, "OK", "DEFLATE active");
    compressing_ = true;
    action_ = Compress{};
    return;
  }
  if (!selected) {
    if (name == "CLOSE" || name == "UNSELECT" || name == "EXPUNGE" || name == "FETCH" || name == "STORE" ||
        name == "COPY" || name == "MOVE" || name == "SEARCH" || name == "SORT" || name == "THREAD")
      return bad(tag, "no mailbox selected");
    return bad(tag, "unknown command " + name);
  }
  if (name == "CHECK") {  // reports what changed, as NOOP does (RFC 3501 6.4.1, 7)
    p.end();
    if (check_selected_access()) sync(true);
    return tagged(tag, "OK", "CHECK completed");
  }
  if (name == "CLOSE" || name == "UNSELECT") {
    p.end();
    return cmd_close(tag, name == "CLOSE");
  }
  if (!check_selected_access()) return tagged(tag, "NO", "[NOPERM] the mailbox is no longer accessible");
  if (name == "EXPUNGE") return cmd_expunge(p, tag, uid);
  if (name == "FETCH") return cmd_fetch(p, tag, uid, now);
  if (name == "STORE") return cmd_store(p, tag, uid);
  if (name == "COPY" || name == "MOVE") return cmd_copy(p, tag, uid, name == "MOVE", now);
  if (name == "SEARCH") return cmd_search(p, tag, uid);
  if (name == "SORT") return cmd_sort(p, tag, uid);
  if (name == "THREAD") return cmd_thread(p, tag, uid);
  return bad(tag, "unknown command " + name);
}

// ---- authentication

void Session::cmd_login(Parser& p, const std::string& tag, UnixMs now) {
  p.sp();
  std::string user = p.astring();
  p.sp();
  std::string password = p.astring();
  p.end();
  if (!tls_ && !cfg_.plaintext_ok) return tagged(tag, "NO", "[PRIVACYREQUIRED] use STARTTLS first");
  auto r = throttle_->password(ctx_.dir, "imap", user, password, peer_.ip, now);
  if (!r) return auth_refused(tag, r.kind != directory::LoginThrottle::Checked::wrong, r.wait);
  logged_in(*r.person, tag, now);
}

void Session::auth_refused(const std::string& tag, bool temporary, UnixMs wait) {
  if (temporary && wait == 0)
    return tagged(tag, "NO", "[UNAVAILABLE] too many password checks at once; try again in a moment");
  if (temporary)
    tagged(tag, "NO", "[UNAVAILABLE] too many failed attempts; try again in " + directory::wait_seconds(wait) + " s");
  else
    tagged(tag, "NO", "[AUTHENTICATIONFAILED] invalid credentials");
  if (++auth_failures_ < directory::LoginThrottle::kConnectionFailures) return;
  throttle_->disconnected(peer_.ip, "imap", auth_failures_);
  untagged("BYE Too many failed authentication attempts");
  state_ = State::logout;
  action_ = Close{};
}

void Session::cmd_authenticate(Parser& p, const std::string& tag, UnixMs now) {
  p.sp();
  std::string mech = upper(p.atom());
  std::optional<std::string> initial;
  if (p.try_sp()) {
    std::string ir = p.atom();
    if (ir == "=") {
      initial = std::string();
    } else {
      auto d = crypto::base64_decode(ir);
      if (!d) return bad(tag, "initial response is not base64");
      initial = *d;
    }
  }
  p.end();
  if (!tls_ && !cfg_.plaintext_ok) return tagged(tag, "NO", "[PRIVACYREQUIRED] use STARTTLS first");
  bool bearer = mech == "OAUTHBEARER" || mech == "XOAUTH2";
  if (mech != "PLAIN" && mech != "SCRAM-SHA-256" && !(bearer && ctx_.dir.tokens_enabled()))
    return tagged(tag, "NO", "unsupported mechanism " + mech);
  sasl_ = directory::SaslEngine::get().connect(ctx_.dir, "imap", cfg_.hostname, throttle_, peer_.ip);
  auto r = sasl_->start(mech, initial, now);
  sasl_tag_ = tag;
  if (r.kind == directory::SaslResult::challenge) {
    out_ += "+ " + crypto::base64_encode(r.data) + "\r\n";
    return;
  }
  if (r.kind == directory::SaslResult::success && r.data.empty()) {
    sasl_tag_.reset();
    sasl_.reset();
    auto person = ctx_.dir.read([&](directory::Snapshot& s) { return s.resolve(r.user); });
    if (!person) return tagged(tag, "NO", "[AUTHENTICATIONFAILED] invalid credentials");
    return logged_in(*person, tag, now);
  }
  if (r.kind == directory::SaslResult::success) {
    // Additional data with success goes out as a last challenge (RFC 9051 6.2.2).
    out_ += "+ " + crypto::base64_encode(r.data) + "\r\n";
    sasl_done_user_ = r.user;
    return;
  }
  sasl_tag_.reset();
  sasl_.reset();
  auth_refused(tag, r.temporary, r.wait);
}

void Session::sasl_continue(const std::string& line, UnixMs now) {
  std::string tag = *sasl_tag_;
  auto finish = [&] {
    sasl_tag_.reset();
    sasl_.reset();
  };
  if (line == "*") {
    finish();
    sasl_done_user_.reset();
    return bad(tag, "AUTHENTICATE cancelled");
  }
  if (sasl_done_user_) {
    std::string user = *std::exchange(sasl_done_user_, std::nullopt);
    finish();
    auto person = ctx_.dir.read([&](directory::Snapshot& s) { return s.resolve(user); });
    if (!person) return tagged(tag, "NO", "[AUTHENTICATIONFAILED] invalid credentials");
    return logged_in(*person, tag, now);
  }
  auto data = crypto::base64_decode(line);
  if (!data) {
    finish();
    return bad(tag, "response is not base64");
  }
  auto r = sasl_->step(*data, now);
  if (r.kind == directory::SaslResult::challenge) {
    out_ += "+ " + crypto::base64_encode(r.data) + "\r\n";
    return;
  }
  if (r.kind == directory::SaslResult::success) {
    if (!r.data.empty()) {
      out_ += "+ " + crypto::base64_encode(r.data) + "\r\n";
      sasl_done_user_ = r.user;
      return;
    }
    finish();
    auto person = ctx_.dir.read([&](directory::Snapshot& s) { return s.resolve(r.user); });
    if (!person) return tagged(tag, "NO", "[AUTHENTICATIONFAILED] invalid credentials");
    return logged_in(*person, tag, now);
  }
  finish();
  auth_refused(tag, r.temporary, r.wait);
}

void Session::logged_in(const directory::Person& person, const std::string& tag, UnixMs now) {
  if (person.status != directory::PersonStatus::active)
    return tagged(tag, "NO", "[AUTHENTICATIONFAILED] the account is not active");
  person_ = person.id;
  login_ = person.login;
  account_ = mailstore::person_account(person.id);
  state_ = State::authenticated;
  reader_.set_limits(proto::Limits{cfg_.max_line, cfg_.max_message_bytes, cfg_.max_message_bytes * 2 + (1 << 20)});
  ctx_.store.ensure_account(account_, now);
  for (const auto& r : accessor().roles) ctx_.store.ensure_account(r, now);
  tagged(tag, "OK", "[CAPABILITY " + capabilities() + "] Logged in as " + login_);
}

// ---- names and rights

mailstore::Accessor Session::accessor() {
  mailstore::Accessor a;
  a.self = account_;
  roles_.clear();
  ctx_.dir.read([&](directory::Snapshot& s) {
    auto p = s.person(*person_);
    if (!p) return;
    active_ = p->status == directory::PersonStatus::active;
    if (!active_ || p->unit.empty()) return;
    auto u = s.unit(p->unit);
    if (!u) return;
    auto it = s.settings().role_holders.find(u->kind);
    if (it == s.settings().role_holders.end()) return;
    if (std::find(it->second.begin(), it->second.end(), p->position) == it->second.end()) return;
    roles_.emplace_back(u->code, u->slug);
  });
  for (const auto& [code, slug] : roles_) a.roles.push_back(mailstore::unit_account(code));
  return a;
}

std::string Session::visible(const std::string& account, const std::string& name) {
  if (account == account_) return name;
  if (mailstore::is_unit_account(account)) {
    std::string code = account.substr(2);
    for (const auto& [c, slug] : roles_)
      if (c == code) return "Shared/" + slug + (name == "INBOX" ? std::string() : "/" + name);
    return {};
  }
  // Another person's mailbox shared with us.
  auto id = PersonId::parse(account.substr(2));
  if (!id) return {};
  auto login = ctx_.dir.read([&](directory::Snapshot& s) -> std::string {
    auto p = s.person(*id);
    return p ? p->login : std::string();
  });
  return login.empty() ? std::string() : "Users/" + login + "/" + name;
}

std::optional<Session::Mailbox> Session::resolve(const std::string& raw) {
  std::string v = canonical(raw);
  while (!v.empty() && v.back() == '/') v.pop_back();
  auto who = accessor();
  if (!active_) return std::nullopt;
  Mailbox m;
  m.visible = v;
  if (v.starts_with("Shared/") || v == "Shared") {
    if (v == "Shared") return std::nullopt;
    std::string rest = v.substr(7);
    auto slash = rest.find('/');
    std::string slug = rest.substr(0, slash);
    for (const auto& [code, s] : roles_) {
      if (s != slug) continue;
      m.account = mailstore::unit_account(code);
      m.name = slash == std::string::npos ? std::string("INBOX") : canonical(rest.substr(slash + 1));
      break;
    }
    if (m.account.empty()) return std::nullopt;
  } else if (v.starts_with("Users/")) {
    std::string rest = v.substr(6);
    auto slash = rest.find('/');
    if (slash == std::string::npos) return std::nullopt;
    std::string login = rest.substr(0, slash);
    auto p = ctx_.dir.read([&](directory::Snapshot& s) { return s.by_login(login); });
    if (!p) return std::nullopt;
    m.account = mailstore::person_account(p->id);
    m.name = canonical(rest.substr(slash + 1));
  } else {
    m.account = account_;
    m.name = v;
  }
  m.record = ctx_.store.mailbox(m.account, m.name);
  if (m.record) {
    m.rights = ctx_.store.rights(m.record->id, who);
    if (m.rights.find('l') == std::string::npos && m.rights.find('r') == std::string::npos) {
      // RFC 4314 6: without l or r the mailbox does not exist for this person.
      if (m.account != account_) return std::nullopt;
    }
  } else {
    m.rights = m.account == account_ ? mailstore::kOwnerRights
               : mailstore::is_unit_account(m.account) ? mailstore::kRoleRights
                                                        : std::string();
  }
  return m;
}

std::string Session::encode_name(const std::string& utf8) const {
  return proto::astring(utf8_ || rev2_ ? utf8 : proto::mutf7_encode(utf8), utf8_ || rev2_);
}

std::optional<std::string> Session::decode_name(const std::string& wire) const {
  if (utf8_ || rev2_) {
    if (!text::valid_utf8(wire)) return std::nullopt;
    return wire;
  }
  if (auto d = proto::mutf7_decode(wire)) return d;
  // Clients that send raw UTF-8 without enabling it: accepted when valid.
  if (text::valid_utf8(wire) && std::any_of(wire.begin(), wire.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
    return wire;
  return std::nullopt;
}

std::string Session::flags_text(const mailstore::MessageRecord& r) {
  learn_keywords(r.keywords);
  std::uint8_t f = r.flags;
  const auto& keywords = r.keywords;
  std::string out;
  auto add = [&](std::string_view s) {
    if (!out.empty()) out += ' ';
    out += s;
  };
  if (f & mailstore::seen) add("\\Seen");
  if (f & mailstore::answered) add("\\Answered");
  if (f & mailstore::flagged) add("\\Flagged");
  if (f & mailstore::deleted) add("\\Deleted");
  if (f & mailstore::draft) add("\\Draft");
  if (!rev2_ && sel_ && sel_->recent.count(r.uid.v)) add("\\Recent");
  for (const auto& k : keywords) add(k);
  return "(" + out + ")";
}

// ---- mailbox commands

namespace {
// Reads a mailbox name argument.
std::string mailbox_arg(Parser& p) { return p.astring(); }
}  // namespace

void Session::cmd_create(Parser& p, const std::string& tag, UnixMs now) {
  p.sp();
  std::string wire = mailbox_arg(p);
  if (p.try_sp()) {  // RFC 6154 CREATE-SPECIAL-USE is not offered: parameters are refused
    throw ParseError("CREATE takes no parameters here");
  }
  p.end();
  auto name = decode_name(wire);
  if (!name) return tagged(tag, "NO", "[CANNOT] the mailbox name is not valid UTF-8 or modified UTF-7");
  auto m = resolve(*name);
  if (!m) return tagged(tag, "NO", "[NOPERM] you cannot create mailboxes there");
  if (m->record) return tagged(tag, "NO", "[ALREADYEXISTS] the mailbox exists");
  if (m->rights.find('k') == std::string::npos) return tagged(tag, "NO", "[NOPERM] no right to create mailboxes");
  auto r = ctx_.store.create(m->account, m->name, now);
  if (!r) return tagged(tag, "NO", (r.error().code == Errc::conflict ? "[ALREADYEXISTS] " : "[CANNOT] ") + r.error().message);
  tagged(tag, "OK", "CREATE completed");
}

void Session::cmd_delete(Parser& p, const std::string& tag) {
  p.sp();
  std::string wire = mailbox_arg(p);
  p.end();
  auto name = decode_name(wire);
  auto m = name ? resolve(*name) : std::nullopt;
  if (!m || !m->record) return tagged(tag, "NO", "[NONEXISTENT] no such mailbox");
  if (m->rights.find('x') == std::string::npos) return tagged(tag, "NO", "[NOPERM] no right to delete this mailbox");
  if (sel_ && sel_->box.id == m->record->id) return tagged(tag, "NO", "[INUSE] close the mailbox first");
  auto r = ctx_.store.remove(m->account, m->name);
  if (!r) return tagged(tag, "NO", (m->name == "INBOX" ? "[CANNOT] " : "[INUSE] ") + r.error().message);
  tagged(tag, "OK", "DELETE completed");
}

void Session::cmd_rename(Parser& p, const std::string& tag, UnixMs now) {
  p.sp();
  std::string a = mailbox_arg(p);
  p.sp();
  std::string b = mailbox_arg(p);
  p.end();
  auto from_name = decode_name(a), to_name = decode_name(b);
  if (!from_name || !to_name) return tagged(tag, "NO", "[CANNOT] bad mailbox name");
  auto from = resolve(*from_name);
  auto to = resolve(*to_name);
  if (!from || !from->record) return tagged(tag, "NO", "[NONEXISTENT] no such mailbox");
  if (!to) return tagged(tag, "NO", "[NOPERM] you cannot create mailboxes there");
  if (from->account != to->account) return tagged(tag, "NO", "[CANNOT] a mailbox cannot move to another owner");
  if (to->record) return tagged(tag, "NO", "[ALREADYEXISTS] the target exists");
  if (from->rights.find('x') == std::string::npos || to->rights.find('k') == std::string::npos)
    return tagged(tag, "NO", "[NOPERM] no right to rename this mailbox");
  auto r = ctx_.store.rename(from->account, from->name, to->name, now);
  if (!r) return tagged(tag, "NO", "[CANNOT] " + r.error().message);
  tagged(tag, "OK", "RENAME completed");
}

void Session::cmd_subscribe(Parser& p, const std::string& tag, bool on) {
  p.sp();
  std::string wire = mailbox_arg(p);
  p.end();
  auto name = decode_name(wire);
  auto m = name ? resolve(*name) : std::nullopt;
  // SUBSCRIBE checks that the mailbox exists (RFC 3501 6.3.6 allows it; Dovecot does); a
  // subscription outlives the mailbox's deletion (orphan_subscriptions).
  if (!m || !m->record) {
    if (!on) return tagged(tag, "OK", "UNSUBSCRIBE completed");
    return tagged(tag, "NO", "[NONEXISTENT] no such mailbox");
  }
  auto r = ctx_.store.subscribe(m->account, m->name, on);
  if (!r) return tagged(tag, "NO", "[CANNOT] " + r.error().message);
  tagged(tag, "OK", on ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
}

namespace {
struct ListEntry {
  std::string name;  // visible, UTF-8
  std::optional<MailboxRecord> record;
  bool noselect = false;
  bool nonexistent = false;  // subscribed only (RFC 5258 \NonExistent)
  bool children = false;
  bool subscribed = false;
  std::string special;
};
}  // namespace

void Session::cmd_list(Parser& p, const std::string& tag, bool lsub) {
  // LIST [(selection)] reference (pattern | (patterns)) [RETURN (options)]
  p.sp();
  bool sel_subscribed = false, sel_special = false, recursive = false;
  if (!lsub && p.peek('(')) {
    p.expect('(');
    while (!p.try_char(')')) {
      p.try_sp();
      std::string o = p.keyword();
      if (o == "SUBSCRIBED") sel_subscribed = true;
      else if (o == "SPECIAL-USE") sel_special = true;
      else if (o == "RECURSIVEMATCH") recursive = true;
      else if (o == "REMOTE") {
      } else
        throw ParseError("unknown LIST selection option " + o);
    }
    p.sp();
  }
  if (recursive && !sel_subscribed) throw ParseError("RECURSIVEMATCH needs another selection option");
  std::string ref_wire = mailbox_arg(p);
  p.sp();
  std::vector<std::string> patterns;
  if (!lsub && p.peek('(')) {
    p.expect('(');
    do {
      patterns.push_back(p.astring());
    } while (p.try_sp());
    p.expect(')');
  } else {
    patterns.push_back(p.astring());
  }
  bool ret_subscribed = false, ret_children = false, ret_special = false, extended = sel_subscribed || sel_special;
  std::vector<std::string> ret_status;
  if (!lsub && p.try_sp()) {
    extended = true;
    if (p.keyword() != "RETURN") throw ParseError("expected RETURN");
    p.sp();
    p.expect('(');
    while (!p.try_char(')')) {
      p.try_sp();
      std::string o = p.keyword();
      if (o == "SUBSCRIBED") ret_subscribed = true;
      else if (o == "CHILDREN") ret_children = true;
      else if (o == "SPECIAL-USE") ret_special = true;
      else if (o == "STATUS") {
        p.sp();
        p.expect('(');
        do {
          ret_status.push_back(p.keyword());
        } while (p.try_sp());
        p.expect(')');
      } else
        throw ParseError("unknown LIST return option " + o);
    }
  }
  p.end();
  (void)ret_special;  // special-use attributes are always sent (RFC 6154 allows it)
  // \HasChildren/\HasNoChildren: on a basic LIST, or when RETURN (CHILDREN) asks (RFC 5258 4).
  const bool child_info = !lsub && (!extended || ret_children);
  auto ref = decode_name(ref_wire);
  if (!ref) return tagged(tag, "NO", "[CANNOT] bad reference name");
  // LIST "" "": the hierarchy delimiter.
  if (!lsub && patterns.size() == 1 && patterns[0].empty()) {
    untagged("LIST (\\Noselect) \"/\" \"\"");
    return tagged(tag, "OK", "LIST completed");
  }
  // Gather every mailbox visible to this person.
  auto who = accessor();
  std::vector<ListEntry> all;
  auto add_account = [&](const std::string& account) {
    for (auto& r : ctx_.store.list(account)) {
      ListEntry e;
      e.name = visible(account, r.name);
      if (e.name.empty()) continue;
      e.subscribed = r.subscribed;
      e.special = mailstore::special_use_attr(r.use);
      e.record = std::move(r);
      all.push_back(std::move(e));
    }
  };
  add_account(account_);
  for (const auto& r : who.roles) add_account(r);
  for (auto& name : ctx_.store.orphan_subscriptions(account_)) {
    ListEntry e;
    e.name = visible(account_, name);
    if (e.name.empty()) continue;
    e.nonexistent = e.noselect = e.subscribed = true;
    all.push_back(std::move(e));
  }
  // Other people's mailboxes shared with this person (RFC 4314 'l' right), under Users/<login>/.
  for (auto& [r, rights] : ctx_.store.shared_with(account_)) {
    if (rights.find('l') == std::string::npos || r.account == account_) continue;
    ListEntry e;
    e.name = visible(r.account, r.name);
    if (e.name.empty()) continue;
    e.subscribed = false;
    e.record = std::move(r);
    all.push_back(std::move(e));
  }
  // Their parents ("Users", "Users/<login>") are listed as \Noselect levels.
  std::set<std::string> parents;
  for (const auto& e : all) {
    if (!e.name.starts_with("Users/")) continue;
    parents.insert("Users");
    parents.insert(e.name.substr(0, e.name.find('/', 6)));
  }
  for (const auto& name : parents) {
    if (std::any_of(all.begin(), all.end(), [&](const ListEntry& o) { return o.name == name; })) continue;
    ListEntry e;
    e.name = name;
    e.noselect = true;
    all.push_back(e);
  }
  if (!roles_.empty()) {
    ListEntry e;
    e.name = "Shared";
    e.noselect = true;
    all.push_back(e);
  }
  // LSUB (RFC 3501 6.3.9): the levels above a subscribed name are listed \Noselect when the
  // pattern's % stops there, whether or not they exist.
  if (lsub) {
    std::set<std::string> have;
    for (const auto& e : all) have.insert(e.name);
    std::vector<ListEntry> levels;
    for (const auto& e : all) {
      if (!e.subscribed) continue;
      for (auto i = e.name.find('/'); i != std::string::npos; i = e.name.find('/', i + 1))
        if (have.insert(e.name.substr(0, i)).second) {
          ListEntry l;
          l.name = e.name.substr(0, i);
          l.nonexistent = l.noselect = true;
          levels.push_back(std::move(l));
        }
    }
    for (auto& l : levels) all.push_back(std::move(l));
  }
  std::sort(all.begin(), all.end(), [](const ListEntry& a, const ListEntry& b) { return a.name < b.name; });
  for (auto& e : all) {
    std::string prefix = e.name + "/";
    e.children = std::any_of(all.begin(), all.end(),
                             [&](const ListEntry& o) { return !o.nonexistent && o.name.starts_with(prefix); });
  }
  std::string status_items;
  for (const auto& w : ret_status) status_items += (status_items.empty() ? "" : " ") + w;
  auto hits = [&](const std::string& candidate) {
    for (const auto& pat_wire : patterns) {
      auto pat = decode_name(pat_wire);
      if (!pat) continue;
      std::string pattern = *ref + *pat;
      // INBOX matches case-insensitively.
      if (is_inbox(std::string_view(pattern).substr(0, 5)) && candidate.starts_with("INBOX"))
        pattern = "INBOX" + pattern.substr(5);
      if (matches(pattern, candidate)) return true;
    }
    return false;
  };
  for (auto& e : all) {
    if (!hits(e.name)) continue;
    if (lsub && !e.subscribed) {
      // A level above a subscribed name: listed \Noselect when that name itself does not match.
      std::string prefix = e.name + "/";
      bool below = std::any_of(all.begin(), all.end(), [&](const ListEntry& o) {
        return o.subscribed && o.name.starts_with(prefix) && !hits(o.name);
      });
      if (below) untagged("LSUB (\\Noselect) \"/\" " + encode_name(e.name));
      continue;
    }
    if (e.nonexistent && !(lsub || sel_subscribed)) continue;  // subscribed only: not in a plain LIST
    bool childinfo = false;
    if ((lsub || sel_subscribed) && !e.subscribed) {
      // RFC 5258 3.5: with RECURSIVEMATCH a mailbox whose children match is listed with
      // CHILDINFO even though it does not match itself.
      std::string prefix = e.name + "/";
      childinfo = recursive && std::any_of(all.begin(), all.end(), [&](const ListEntry& o) {
                    return o.subscribed && o.name.starts_with(prefix);
                  });
      if (!childinfo) continue;
    }
    if (sel_special && e.special.empty()) continue;
    std::string attrs;
    auto add = [&](const std::string& a) { attrs += (attrs.empty() ? "" : " ") + a; };
    if (!lsub) {
      if (e.nonexistent) add("\\NonExistent");  // implies \Noselect (RFC 5258 3)
      else if (e.noselect) add("\\Noselect");
      if (child_info) add(e.children ? "\\HasChildren" : "\\HasNoChildren");
      if (e.subscribed && (ret_subscribed || sel_subscribed)) add("\\Subscribed");
      if (!e.special.empty()) add(e.special);  // RFC 6154: always shown
    } else if (e.noselect && !e.nonexistent) {
      add("\\Noselect");
    }
    untagged(std::string(lsub ? "LSUB" : "LIST") + " (" + attrs + ") \"/\" " + encode_name(e.name) +
             (childinfo ? " (\"CHILDINFO\" (\"SUBSCRIBED\"))" : ""));
    if (!ret_status.empty() && e.record) {
      std::string saved = out_;
      out_.clear();
      status_for(*e.record, ret_status, encode_name(e.name));
      out_ = saved + out_;
    }
  }
  tagged(tag, "OK", std::string(lsub ? "LSUB" : "LIST") + " completed");
}

void Session::status_for(const MailboxRecord& r, const std::vector<std::string>& items, const std::string& wire_name) {
  std::string out;
  auto add = [&](const std::string& k, std::uint64_t v) { out += (out.empty() ? "" : " ") + k + " " + std::to_string(v); };
  for (const auto& item : items) {
    if (item == "MESSAGES") add(item, r.messages);
    else if (item == "UIDNEXT") add(item, r.uidnext);
    else if (item == "UIDVALIDITY") add(item, r.uidvalidity);
    else if (item == "UNSEEN") add(item, r.unseen);
    else if (item == "RECENT") add(item, r.uidnext > r.first_recent ? ctx_.store.messages(r.id, mailstore::Uid{r.first_recent}, mailstore::Uid{r.uidnext - 1}).size() : 0);
    else if (item == "SIZE") add(item, r.bytes);
    else if (item == "HIGHESTMODSEQ") add(item, r.highest_modseq);
    else if (item == "APPENDLIMIT") add(item, cfg_.max_message_bytes);
    else if (item == "DELETED") {
      std::uint64_t n = 0;
      for (const auto& m : ctx_.store.messages(r.id))
        if (m.flags & mailstore::deleted) ++n;
      add(item, n);
    } else
      throw ParseError("unknown STATUS item " + item);
  }
  untagged("STATUS " + wire_name + " (" + out + ")");
}

void Session::cmd_status(Parser& p, const std::string& tag) {
  p.sp();
  std::string wire = mailbox_arg(p);
  p.sp();
  p.expect('(');
  std::vector<std::string> items;
  do {
    items.push_back(p.keyword());
  } while (p.try_sp());
  p.expect(')');
  p.end();
  static const char* known[] = {"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "RECENT", "SIZE", "HIGHESTMODSEQ", "APPENDLIMIT", "DELETED"};
  for (const auto& i : items)
    if (std::none_of(std::begin(known), std::end(known), [&](const char* k) { return i == k; }))
      return bad(tag, "unknown STATUS item " + i);
  auto name = decode_name(wire);
  auto m = name ? resolve(*name) : std::nullopt;
  if (!m || !m->record) return tagged(tag, "NO", "[NONEXISTENT] no such mailbox");
  if (m->rights.find('r') == std::string::npos) return tagged(tag, "NO", "[NOPERM] no right to read this mailbox");
  if (std::find(items.begin(), items.end(), "HIGHESTMODSEQ") != items.end()) condstore_ = true;
  // A STATUS of the selected mailbox reports its changes first.
  if (sel_ && sel_->box.id == m->record->id) sync(true);
  status_for(*m->record, items, encode_name(m->visible));
  tagged(tag, "OK", "STATUS completed");
}

void Session::cmd_append(Parser& p, const std::string& tag, UnixMs now) {
  p.sp();
  std::string wire = mailbox_arg(p);
  struct One {
    std::uint8_t flags = 0;
    std::vector<std::string> keywords;
    UnixMs date = 0;
    std::string data;
  };
  std::vector<One> msgs;
  while (p.try_sp()) {
    One o;
    o.date = now;
    if (p.peek('(')) {
      for (const auto& f : p.flag_list()) {
        std::string u = upper(f);
        if (u == "\\SEEN") o.flags |= mailstore::seen;
        else if (u == "\\ANSWERED") o.flags |= mailstore::answered;
        else if (u == "\\FLAGGED") o.flags |= mailstore::flagged;
        else if (u == "\\DELETED") o.flags |= mailstore::deleted;
        else if (u == "\\DRAFT") o.flags |= mailstore::draft;
        else if (u == "\\RECENT") throw ParseError("\\Recent cannot be set");
        else if (f.starts_with("\\")) throw ParseError("unknown system flag " + f);
        else if (std::find(o.keywords.begin(), o.keywords.end(), f) == o.keywords.end()) o.keywords.push_back(f);
      }
      p.sp();
    }
    if (p.peek('"')) {
      auto d = proto::parse_date_time(p.string());
      if (!d) throw ParseError("bad date-time");
      o.date = *d;
      p.sp();
    }
    if (p.at_literal()) {
      o.data = p.literal();
    } else {
      if (p.keyword() != "UTF8") throw ParseError("expected a literal");
      p.sp();
      p.expect('(');
      o.data = p.literal();
      p.expect(')');
    }
    msgs.push_back(std::move(o));
    if (p.at_end()) break;
  }
  p.end();
  if (msgs.empty()) throw ParseError("APPEND needs a message");
  auto name = decode_name(wire);
  auto m = name ? resolve(*name) : std::nullopt;
  if (!m) return tagged(tag, "NO", "[TRYCREATE] no such mailbox");
  if (!m->record) return tagged(tag, "NO", "[TRYCREATE] no such mailbox");
  if (m->rights.find('i') == std::string::npos) return tagged(tag, "NO", "[NOPERM] no right to append here");
  std::uint64_t total = 0;
  for (const auto& o : msgs) {
    if (o.data.empty()) return tagged(tag, "NO", "empty message");
    if (o.data.size() > cfg_.max_message_bytes) return tagged(tag, "NO", "[TOOBIG] message larger than APPENDLIMIT");
    if ((o.flags & mailstore::seen) && m->rights.find('s') == std::string::npos)
      return tagged(tag, "NO", "[NOPERM] no right to set \\Seen");
    total += o.data.size();
  }
  if (!ctx_.store.fits(m->account, total)) return tagged(tag, "NO", "[OVERQUOTA] the mailbox is full");
  // MULTIAPPEND: one transaction for all the messages, so that all or none are stored.
  std::vector<mailstore::Delivery> deliveries;
  for (auto& o : msgs) {
    mailstore::Delivery d;
    d.data = std::move(o.data);
    d.internal_date = o.date;
    d.targets.emplace_back(m->account, m->name, o.flags, o.keywords);
    d.enforce_quota = true;
    deliveries.push_back(std::move(d));
  }
  auto r = ctx_.store.deliver_all(deliveries);
  if (!r) {
    bool quota = r.error().message.find("quota") != std::string::npos;
    return tagged(tag, "NO", (quota ? "[OVERQUOTA] " : "[SERVERBUG] ") + r.error().message);
  }
  std::vector<std::uint32_t> uids;
  std::uint32_t validity = 0;
  for (const auto& receipt : *r) {
    validity = receipt.placed.front().uidvalidity;
    uids.push_back(receipt.placed.front().uid.v);
  }
  if (sel_ && sel_->box.id == m->record->id) sync(true);
  tagged(tag, "OK", "[APPENDUID " + std::to_string(validity) + " " + to_set(uids) + "] APPEND completed");
}

void Session::cmd_namespace(Parser& p, const std::string& tag) {
  p.end();
  untagged("NAMESPACE ((\"\" \"/\")) ((\"Users/\" \"/\")) ((\"Shared/\" \"/\"))");
  tagged(tag, "OK", "NAMESPACE completed");
}

void Session::cmd_enable(Parser& p, const std::string& tag) {
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

void Session::cmd_quota(Parser& p, const std::string& tag, const std::string& name) {
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

void Session::cmd_acl(Parser& p, const std::string& tag, const std::string& name) {
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
