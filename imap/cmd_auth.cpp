// LOGIN and AUTHENTICATE (RFC 9051 6.2): every credential check goes through the login
// throttle; SASL PLAIN, SCRAM-SHA-256 and, with tokens enabled, OAUTHBEARER/XOAUTH2.

#include "common/crypto.hpp"
#include "imap/session_impl.hpp"

namespace congvu::imap {

using proto::Parser;
using proto::ParseError;

// ---- authentication

void Session::cmd_login(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const UnixMs now = c.now;
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

void Session::cmd_authenticate(Command& c) {
  auto& p = c.p;
  const std::string& tag = c.tag;
  const UnixMs now = c.now;
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

}  // namespace congvu::imap
