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
  return ordered_set(v);
}

std::string ordered_set(const std::vector<std::uint32_t>& v) {
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

std::vector<std::uint32_t> page_of(const std::vector<std::uint32_t>& v, const proto::PartialRange& r) {
  auto range = r.within(v.size());
  if (!range) return {};
  return {v.begin() + static_cast<std::ptrdiff_t>(range->first), v.begin() + static_cast<std::ptrdiff_t>(range->second) + 1};
}

std::vector<mailstore::Uid> as_uids(const std::vector<std::uint32_t>& v) {
  std::vector<mailstore::Uid> out;
  out.reserve(v.size());
  for (auto u : v) out.push_back(mailstore::Uid{u});
  return out;
}

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

std::string canonical(std::string n) {
  if (is_inbox(std::string_view(n).substr(0, 5)) && (n.size() == 5 || n[5] == '/')) n.replace(0, 5, "INBOX");
  return n;
}

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
       " ESEARCH SEARCHRES SORT SORT=DISPLAY ESORT PARTIAL THREAD=REFERENCES THREAD=ORDEREDSUBJECT STATUS=SIZE QUOTA QUOTA=RES-STORAGE"
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

}  // namespace congvu::imap
