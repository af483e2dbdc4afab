#include "smtp/session.hpp"

#include <algorithm>

#include "common/crypto.hpp"
#include "common/ids.hpp"
#include "directory/throttle.hpp"
#include "smtp/dsn.hpp"
#include "smtp/proto/header.hpp"

namespace congvu::smtp {

const char* listener_name(Listener l) {
  switch (l) {
    case Listener::mx: return "smtp";
    case Listener::submission: return "submission";
    case Listener::submissions: return "submissions";
  }
  return "smtp";
}

Session::Session(SessionConfig cfg, Recipients& recipients, Peer peer, const DkimSigner* dkim)
    : cfg_(std::move(cfg)), recipients_(recipients), peer_(std::move(peer)), dkim_(dkim) {}

std::string Session::greeting() const { return "220 " + cfg_.hostname + " ESMTP Congvu\r\n"; }

std::string Session::reply(int code, const std::string& enhanced, const std::string& text) const {
  return std::to_string(code) + " " + (enhanced.empty() ? "" : enhanced + " ") + text + "\r\n";
}

Step Session::error(int code, const std::string& enhanced, const std::string& text) {
  if (++errors_ >= cfg_.max_errors) {
    closed_ = true;
    return Step{reply(code, enhanced, text) + reply(421, "4.7.0", cfg_.hostname + " Too many errors, closing"), Close{}};
  }
  return Step{reply(code, enhanced, text), NeedInput{}};
}

void Session::feed(std::string_view bytes) {
  if (mode_ == Mode::data && data_) {
    data_->feed(bytes);
    return;
  }
  reader_.feed(bytes);
}

std::vector<std::string> Session::mechanisms() const {
  // Offered only where they may be used: on submission, over TLS.
  if (!submission() || !peer_.tls) return {};
  return directory::SaslEngine::mechanisms(recipients_.directory());
}

void Session::reset_transaction() {
  from_.reset();
  utf8_ = false;
  declared_size_ = 0;
  rcpt_addresses_.clear();
  targets_.clear();
  outbound_.clear();
  notify_success_.clear();
  envid_.clear();
  ret_full_ = false;
  accounts_.clear();
  bdat_message_.clear();
  bdat_started_ = false;
  bdat_too_big_ = false;
  expected_.reset();
}

Step Session::next(UnixMs now) {
  std::string out = std::move(pending_);
  pending_.clear();
  if (pending_step_) {
    Step st = std::move(*pending_step_);
    pending_step_.reset();
    st.reply = out + st.reply;
    return st;
  }
  auto with = [&](Step s) {
    s.reply = out + s.reply;
    return s;
  };
  for (;;) {
    if (closed_) return with(Step{"", Close{}});
    switch (mode_) {
      case Mode::waiting:
        return with(Step{"", NeedInput{}});
      case Mode::data: {
        auto ev = data_->next();
        if (std::holds_alternative<proto::NeedMore>(ev)) return with(Step{"", NeedInput{}});
        reader_.feed(data_->take_rest());
        data_.reset();
        mode_ = Mode::command;
        if (auto* e = std::get_if<proto::Error>(&ev)) {
          reset_transaction();
          if (e->close) {
            closed_ = true;
            return with(Step{reply(e->code, e->enhanced, e->text), Close{}});
          }
          out += reply(e->code, e->enhanced, e->text);
          continue;
        }
        return with(finish_message(std::move(std::get<proto::Message>(ev).data), now));
      }
      case Mode::bdat: {
        std::string avail = reader_.take_buffer();
        std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, avail.size()));
        if (!bdat_failed_ && !bdat_too_big_) {
          if (bdat_message_.size() + take > cfg_.max_message_bytes) {
            bdat_too_big_ = true;
            bdat_message_.clear();
          } else {
            bdat_message_.append(avail, 0, take);
          }
        }
        chunk_left_ -= take;
        reader_.feed(std::string_view(avail).substr(take));
        if (chunk_left_ > 0) return with(Step{"", NeedInput{}});
        mode_ = Mode::command;
        if (bdat_failed_) {
          bdat_failed_ = false;
          auto s = error(503, "5.5.1", bdat_error_);
          if (std::holds_alternative<Close>(s.action)) return with(std::move(s));
          out += s.reply;
          continue;
        }
        if (!chunk_last_) {
          out += reply(250, "2.0.0", "Chunk received");
          continue;
        }
        if (bdat_too_big_) {
          reset_transaction();
          out += reply(552, "5.3.4", "Message exceeds the size limit");
          continue;
        }
        if (bdat_message_.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
          // Bare CR or LF in BDAT data: stored mail and relayed mail must use CRLF only.
          bool bad = false;
          for (std::size_t i = 0; i < bdat_message_.size() && !bad; ++i) {
            char c = bdat_message_[i];
            if (c == '\0') bad = true;
            else if (c == '\r') bad = i + 1 >= bdat_message_.size() || bdat_message_[i + 1] != '\n';
            else if (c == '\n') bad = i == 0 || bdat_message_[i - 1] != '\r';
          }
          if (bad) {
            reset_transaction();
            out += reply(554, "5.6.0", "Message has bare CR, bare LF or NUL; send lines ending in CRLF");
            continue;
          }
        }
        return with(finish_message(std::move(bdat_message_), now));
      }
      case Mode::sasl: {
        auto ev = reader_.next_line();
        if (std::holds_alternative<proto::NeedMore>(ev)) return with(Step{"", NeedInput{}});
        if (auto* e = std::get_if<proto::Error>(&ev)) {
          mode_ = Mode::command;
          if (e->close) {
            closed_ = true;
            return with(Step{reply(e->code, e->enhanced, e->text), Close{}});
          }
          auto s = error(e->code, e->enhanced, e->text);
          s.reply = out + s.reply;
          return s;
        }
        auto& line = std::get<std::string>(ev);
        if (line == "*") {
          mode_ = Mode::command;
          return with(error(501, "5.0.0", "Authentication cancelled"));
        }
        auto decoded = crypto::base64_decode(line);
        if (!decoded) {
          mode_ = Mode::command;
          return with(error(501, "5.5.2", "Cannot decode the response (base64 expected)"));
        }
        mode_ = Mode::waiting;
        return with(Step{"", SaslStep{std::move(*decoded)}});
      }
      case Mode::command: {
        auto ev = reader_.next();
        if (std::holds_alternative<proto::NeedMore>(ev)) return with(Step{"", NeedInput{}});
        Step s;
        if (auto* e = std::get_if<proto::Error>(&ev)) {
          if (e->close) {
            closed_ = true;
            return with(Step{reply(e->code, e->enhanced, e->text), Close{}});
          }
          s = error(e->code, e->enhanced, e->text);
        } else {
          s = on_command(std::get<proto::Command>(ev), now);
        }
        if (std::holds_alternative<NeedInput>(s.action)) {
          out += s.reply;
          continue;  // PIPELINING: replies to a batch of commands go out together
        }
        return with(std::move(s));
      }
    }
  }
}

Step Session::on_command(const proto::Command& c, UnixMs now) {
  using proto::Verb;
  (void)now;
  switch (c.verb) {
    case Verb::helo:
    case Verb::ehlo: return on_ehlo(c);
    case Verb::mail: return on_mail(c);
    case Verb::rcpt: return on_rcpt(c);
    case Verb::data: return on_data();
    case Verb::bdat: return on_bdat(c);
    case Verb::auth: return on_auth(c);
    case Verb::rset:
      reset_transaction();
      return Step{reply(250, "2.0.0", "Reset"), NeedInput{}};
    case Verb::noop: return Step{reply(250, "2.0.0", "OK"), NeedInput{}};
    case Verb::quit:
      closed_ = true;
      return Step{reply(221, "2.0.0", cfg_.hostname + " Bye"), Close{}};
    case Verb::vrfy:  // never confirms who exists (address harvesting)
      return Step{reply(252, "2.5.0", "Cannot verify the user; send mail and it will be delivered if it can"), NeedInput{}};
    case Verb::expn: return error(502, "5.5.1", "EXPN is not available");
    case Verb::help:
      return Step{reply(214, "2.0.0", "See RFC 5321; commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT STARTTLS AUTH"),
                  NeedInput{}};
    case Verb::starttls:
      if (peer_.tls) return error(503, "5.5.1", "TLS is already active");
      if (!cfg_.starttls) return error(502, "5.5.1", "STARTTLS is not available");
      if (from_) return error(503, "5.5.1", "STARTTLS is not allowed inside a mail transaction");
      mode_ = Mode::waiting;
      return Step{reply(220, "2.0.0", "Ready to start TLS"), StartTls{}};
  }
  return error(500, "5.5.1", "Command unrecognized");
}

Step Session::on_ehlo(const proto::Command& c) {
  reset_transaction();
  helo_ = c.arg;
  esmtp_ = c.verb == proto::Verb::ehlo;
  if (!esmtp_) return Step{reply(250, "", cfg_.hostname), NeedInput{}};
  std::vector<std::string> lines = {cfg_.hostname + " greets " + c.arg,
                                    "PIPELINING",
                                    "SIZE " + std::to_string(cfg_.max_message_bytes),
                                    "8BITMIME",
                                    "SMTPUTF8",
                                    "ENHANCEDSTATUSCODES",
                                    "CHUNKING"};
  // DSN (RFC 3461) on submission only: on the MX a forged MAIL FROM with NOTIFY=SUCCESS would
  // make us send reports to whoever the forger names (backscatter).
  if (submission()) lines.push_back("DSN");
  if (cfg_.starttls && !peer_.tls) lines.push_back("STARTTLS");
  auto mechs = mechanisms();
  if (!mechs.empty() && !person_) {
    std::string auth = "AUTH";
    for (auto& m : mechs) auth += " " + m;
    lines.push_back(auth);
  }
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) out += "250" + std::string(i + 1 < lines.size() ? "-" : " ") + lines[i] + "\r\n";
  return Step{out, NeedInput{}};
}

Step Session::on_auth(const proto::Command& c) {
  if (!submission()) return error(503, "5.5.1", "Authentication is not enabled on this port; use submission (587)");
  if (!peer_.tls) return error(530, "5.7.0", "Must issue a STARTTLS command first");
  if (helo_.empty()) return error(503, "5.5.1", "Send EHLO first");
  if (person_) return error(503, "5.5.1", "Already authenticated");
  if (from_) return error(503, "5.5.1", "AUTH is not allowed inside a mail transaction");
  auto mechs = mechanisms();
  if (std::find(mechs.begin(), mechs.end(), c.arg) == mechs.end())
    return error(504, "5.5.4", "Unrecognized authentication mechanism");
  SaslStart start{c.arg, std::nullopt};
  if (!c.initial_response.empty()) {
    if (c.initial_response == "=") {
      start.initial = std::string();
    } else {
      auto d = crypto::base64_decode(c.initial_response);
      if (!d) return error(501, "5.5.2", "Cannot decode the initial response (base64 expected)");
      start.initial = std::move(*d);
    }
  }
  mode_ = Mode::waiting;
  return Step{"", std::move(start)};
}

void Session::sasl_result(const directory::SaslResult& r) {
  // Called with mode_ == waiting; the reply is queued into the reader's path by next().
  switch (r.kind) {
    case directory::SaslResult::challenge:
      mode_ = Mode::sasl;
      pending_ = "334 " + crypto::base64_encode(r.data) + "\r\n";
      return;
    case directory::SaslResult::success:
      mode_ = Mode::command;
      auth_failures_ = 0;
      person_ = recipients_.person(r.user);
      login_ = person_ ? person_->login : r.user;
      if (!person_) {
        person_.reset();
        pending_ = reply(535, "5.7.8", "Authentication credentials invalid");
        return;
      }
      pending_ = reply(235, "2.7.0", "Authentication successful");
      return;
    case directory::SaslResult::failure:
      // RFC 4954 6: 454 is a temporary failure (the throttle or a full pool), 535 a wrong one.
      mode_ = Mode::command;
      ++errors_;
      ++auth_failures_;
      if (r.temporary && r.wait == 0)
        pending_ = reply(454, "4.7.0", "Temporary authentication failure: too many password checks at once, try again in a moment");
      else if (r.temporary)
        pending_ = reply(454, "4.7.0", "Temporary authentication failure: too many failed attempts, try again in " +
                                           directory::wait_seconds(r.wait) + " s");
      else
        pending_ = reply(535, "5.7.8", "Authentication credentials invalid");
      if (auth_failures_ >= directory::LoginThrottle::kConnectionFailures) {
        closed_ = true;
        pending_ += reply(421, "4.7.0", cfg_.hostname + " Too many failed authentication attempts, closing");
      } else if (errors_ >= cfg_.max_errors) {
        closed_ = true;
        pending_ += reply(421, "4.7.0", cfg_.hostname + " Too many errors, closing");
      }
      return;
  }
}

Step Session::on_mail(const proto::Command& c) {
  if (helo_.empty()) return error(503, "5.5.1", "Send EHLO or HELO first");
  if (from_) return error(503, "5.5.1", "Nested MAIL command");
  if (submission() && !person_) return error(530, "5.7.0", "Authentication required");
  const auto& path = *c.path;
  bool utf8 = false, ret = false;
  std::string envid;
  std::uint64_t size = 0;
  for (const auto& [k, v] : c.params) {
    if (k == "SIZE") {
      if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        return error(501, "5.5.4", "Bad SIZE parameter");
      size = std::stoull(v);
    } else if (k == "BODY") {
      std::string u = v;
      for (auto& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (u != "7BIT" && u != "8BITMIME") return error(555, "5.5.4", "Unsupported BODY type " + v);
    } else if (k == "SMTPUTF8") {
      if (!v.empty()) return error(555, "5.5.4", "SMTPUTF8 takes no value");
      utf8 = true;
    } else if (k == "RET") {
      if (v != "FULL" && v != "HDRS") return error(501, "5.5.4", "RET must be FULL or HDRS");
      ret = v == "FULL";
    } else if (k == "ENVID") {
      if (v.empty() || v.size() > 100) return error(501, "5.5.4", "Bad ENVID");
      envid = v;
    } else if (k == "AUTH") {
      // RFC 4954 5: accepted and not trusted.
    } else {
      return error(555, "5.5.4", "Unsupported parameter " + k);
    }
  }
  if (!esmtp_ && !c.params.empty()) return error(555, "5.5.4", "Parameters need EHLO");
  if (path.utf8 && !utf8) return error(553, "5.6.7", "Non-ASCII address needs SMTPUTF8");
  if (size > cfg_.max_message_bytes) return error(552, "5.3.4", "Message size exceeds the limit of " + std::to_string(cfg_.max_message_bytes));
  if (path.source_route || path.address_literal) return error(553, "5.7.1", "Sender address rejected: route or literal");
  if (submission()) {
    if (path.null || !recipients_.may_send_as(*person_, path.address()))
      return error(553, "5.7.1", "Sender address rejected: not owned by user " + person_->login);
  } else if (!path.null && recipients_.local_domain(path.domain)) {
    // Mail from our own domain arrives through submission, never from outside.
    return error(550, "5.7.1", "Sender address rejected: " + path.domain + " mail must be sent through submission with AUTH");
  }
  reset_transaction();
  from_ = path;
  utf8_ = utf8;
  ret_full_ = ret;
  envid_ = envid;
  // From here on a message is probably coming: a commit waits a little (bounded) for it, so
  // that concurrent sessions share one fsync.
  expected_ = recipients_.store().expect_delivery();
  declared_size_ = size;
  return Step{reply(250, "2.1.0", "Sender OK"), NeedInput{}};
}

Step Session::on_rcpt(const proto::Command& c) {
  if (!from_) return error(503, "5.5.1", "Need MAIL command first");
  const auto& path = *c.path;
  std::uint8_t notify = 0;
  std::string orcpt;
  for (const auto& [k, v] : c.params) {
    if (k == "NOTIFY") {
      // NEVER, or a list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1).
      if (v == "NEVER") {
        notify = 8;
      } else {
        std::string item;
        for (std::size_t i = 0; i <= v.size(); ++i) {
          if (i == v.size() || v[i] == ',') {
            if (item == "SUCCESS") notify |= 1;
            else if (item == "FAILURE") notify |= 2;
            else if (item == "DELAY") notify |= 4;
            else return error(501, "5.5.4", "Bad NOTIFY parameter");
            item.clear();
          } else {
            item += v[i];
          }
        }
      }
    } else if (k == "ORCPT") {
      if (v.find(';') == std::string::npos) return error(501, "5.5.4", "Bad ORCPT parameter");
      orcpt = v;
    } else {
      return error(555, "5.5.4", "Unsupported parameter " + k);
    }
  }
  if (path.utf8 && !utf8_) return error(553, "5.6.7", "Non-ASCII address needs SMTPUTF8");
  if (rcpt_addresses_.size() >= cfg_.max_recipients) return Step{reply(452, "4.5.3", "Too many recipients"), NeedInput{}};
  auto v = recipients_.rcpt(path, person_, declared_size_);
  if (!v.ok()) {
    if (v.code / 100 == 4) return Step{reply(v.code, v.enhanced, v.text), NeedInput{}};
    return error(v.code, v.enhanced, v.text);
  }
  rcpt_addresses_.push_back(path.address());
  if (submission() && !v.outbound && (notify & 1)) {  // never on the MX: backscatter
    mailstore::OutboundRecipient o;
    o.address = path.address();
    o.orcpt = orcpt;
    o.last_reply = "250 2.0.0 delivered to the mailbox";
    notify_success_.push_back(std::move(o));
  }
  if (v.outbound) {
    mailstore::OutboundRecipient o;
    o.address = path.address();
    o.notify = notify;
    o.orcpt = orcpt;
    outbound_.push_back(std::move(o));
  }
  for (auto& t : v.targets)
    if (accounts_.insert(t.account).second) targets_.push_back(std::move(t));
  return Step{reply(250, "2.1.5", v.text == "OK" ? "Recipient OK" : v.text), NeedInput{}};
}

Step Session::on_data() {
  if (!from_) return error(503, "5.5.1", "Need MAIL command first");
  if (bdat_started_) return error(503, "5.5.1", "DATA cannot follow BDAT in one transaction");
  if (rcpt_addresses_.empty()) return error(554, "5.5.1", "No valid recipients");
  data_.emplace(cfg_.max_message_bytes);
  data_->feed(reader_.take_buffer());
  mode_ = Mode::data;
  return Step{reply(354, "", "End data with <CR><LF>.<CR><LF>"), NeedInput{}};
}

Step Session::on_bdat(const proto::Command& c) {
  chunk_left_ = c.chunk_size;
  chunk_last_ = c.last_chunk;
  bdat_failed_ = false;
  if (!from_) {
    bdat_failed_ = true;
    bdat_error_ = "Need MAIL command first";
  } else if (rcpt_addresses_.empty()) {
    bdat_failed_ = true;
    bdat_error_ = "No valid recipients";
  }
  if (!bdat_failed_) bdat_started_ = true;
  mode_ = Mode::bdat;
  return Step{"", NeedInput{}};
}

Step Session::finish_message(std::string message, UnixMs now) {
  proto::HeaderError herr;
  auto headers = proto::parse_header_section(message, &herr);
  if (!headers) {
    reset_transaction();
    return error(554, "5.6.0", "Message header line " + std::to_string(herr.line) + ": " + herr.reason);
  }
  std::string extra;
  if (submission()) {
    // RFC 5322 3.6: these fields occur at most once. Two From: (or Sender:) fields let a client
    // show an address the sender may not use, under our DKIM signature.
    for (std::string_view once : {"From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID",
                                  "In-Reply-To", "References"})
      if (auto n = headers->count(once); n > 1) {
        reset_transaction();
        return error(554, "5.6.0", "Message has " + std::to_string(n) + " " + std::string(once) +
                                       ": header fields; RFC 5322 3.6 allows one");
      }
    // The From: header, and Sender: when there is one, must name addresses the signed-in person
    // may use (DMARC alignment), every one of them.
    const auto* from = headers->find("From");
    if (!from) {
      reset_transaction();
      return error(554, "5.6.0", "Message has no From: header");
    }
    for (const auto* field : {from, headers->find("Sender")}) {
      if (!field) continue;
      std::string name(field == from ? "From" : "Sender");
      auto addresses = proto::parse_address_list(proto::unfold(field->value));
      if (addresses.empty()) {
        reset_transaction();
        return error(554, "5.6.0", "Message " + name + ": header names no address");
      }
      for (const auto& a : addresses)
        if (!recipients_.may_send_as(*person_, a)) {
          reset_transaction();
          return error(553, "5.7.1", name + ": " + a + " is not an address of user " + person_->login);
        }
    }
    if (!headers->find("Message-ID")) extra += "Message-ID: <" + PersonId::make(now).str() + "@" + cfg_.hostname + ">\r\n";
    if (!headers->find("Date")) extra += "Date: " + rfc5322_date(now) + "\r\n";
  }
  queue_id_ = crypto::hex(crypto::random_string(6));
  if (!submission() && cfg_.check_inbound) {
    // Mail from outside: SPF, DKIM and DMARC first (the server runs the DNS lookups).
    checked_message_ = std::move(message);
    mode_ = Mode::waiting;
    auto copy = std::make_shared<const std::string>(checked_message_);
    return Step{"", CheckAuth{peer_.ip, helo_, from_ ? from_->address() : std::string(), std::move(copy)}};
  }
  return deliver(extra + message, {}, false, now);
}

void Session::auth_checked(const InboundAuth& a, UnixMs now) {
  std::string message = std::move(checked_message_);
  checked_message_.clear();
  if (cfg_.honor_dmarc && a.dmarc == AuthResult::fail && a.dmarc_applies && a.dmarc_policy == "reject") {
    mode_ = Mode::command;
    reset_transaction();
    pending_ = reply(550, "5.7.1", "Rejected by the DMARC policy of " + a.from_domain + " (SPF and DKIM did not pass aligned)");
    return;
  }
  bool junk = cfg_.honor_dmarc && a.dmarc == AuthResult::fail && a.dmarc_applies && a.dmarc_policy == "quarantine";
  pending_step_ = deliver(std::move(message), a.header(cfg_.hostname), junk, now);
}

Step Session::deliver(std::string message, const std::string& prefix, bool junk, UnixMs now) {
  delivery_time_ = now;
  std::string with = utf8_ ? "UTF8SMTP" : "ESMTP";
  if (!esmtp_) with = "SMTP";
  if (peer_.tls) with += "S";
  if (person_) with += "A";
  std::string received = "Received: from " + helo_ + " ([" + peer_.ip + "])\r\n\tby " + cfg_.hostname + " (Congvu) with " +
                         with + " id " + queue_id_;
  if (rcpt_addresses_.size() == 1) received += "\r\n\tfor <" + rcpt_addresses_[0] + ">";
  received += "; " + rfc5322_date(now) + "\r\n";
  auto d = std::make_shared<mailstore::Delivery>();
  // Submission: sign what leaves the author (the added Message-ID/Date included), then the
  // trace header goes on top of the signature.
  std::string signature = submission() && dkim_ ? dkim_->sign(message, now) : std::string();
  d->data = received + prefix + signature + message;
  d->internal_date = now;
  d->targets = targets_;
  if (junk)
    for (auto& t : d->targets) t.mailbox = "Junk";
  d->outbound = outbound_;
  d->sender = from_ ? from_->address() : std::string();
  d->envid = envid_;
  d->ret_full = ret_full_;
  if (!notify_success_.empty()) delivered_message_ = d->data;
  mode_ = Mode::waiting;
  return Step{"", Deliver{std::move(d), std::move(expected_)}};
}

Step Session::internal_error() {
  bool mid_message = mode_ == Mode::data || mode_ == Mode::bdat;
  data_.reset();
  reset_transaction();
  pending_.clear();
  pending_step_.reset();
  checked_message_.clear();
  delivered_message_.clear();
  if (mid_message) {
    closed_ = true;
    return Step{reply(421, "4.3.0", "Internal error; closing, try again later"), Close{}};
  }
  mode_ = Mode::command;
  return Step{reply(451, "4.3.0", "Internal error, try again later"), NeedInput{}};
}

void Session::delivered(const Result<mailstore::Receipt>& r) {
  mode_ = Mode::command;
  if (r.ok() && !notify_success_.empty() && from_ && !from_->null) send_success_dsn();
  delivered_message_.clear();
  reset_transaction();
  if (r.ok())
    pending_ = reply(250, "2.0.0", "Ok: queued as " + queue_id_);
  else
    pending_ = reply(451, "4.3.0", "Local delivery failed, try again later");
}

// RFC 3461 4.1: NOTIFY=SUCCESS asks the final MTA for a "delivered" report. It goes to the
// sender from the null sender, into a local mailbox or the outbound queue, and is not awaited
// (the message itself is already durable and its 250 does not depend on the report).
void Session::send_success_dsn() {
  DsnInput in;
  in.action = "delivered";
  in.reporting_mta = cfg_.hostname;
  in.postmaster = "MAILER-DAEMON@" + recipients_.directory().settings().domain;
  in.sender = from_->address();
  in.envid = envid_;
  in.ret_full = false;
  in.arrival = in.now = delivery_time_;
  in.message_id = PersonId::make(in.now).str() + "@" + cfg_.hostname;
  in.failed = notify_success_;
  in.original = delivered_message_;
  auto d = std::make_shared<mailstore::Delivery>();
  d->data = build_dsn(in);
  d->internal_date = in.now;
  auto v = recipients_.rcpt(*from_, std::nullopt, 0);
  if (v.ok() && !v.targets.empty()) {
    d->targets = v.targets;
  } else if (!recipients_.local_domain(from_->domain)) {
    mailstore::OutboundRecipient back;
    back.address = from_->address();
    back.notify = 8;
    d->outbound = {back};
  } else {
    return;
  }
  recipients_.store().deliver(d, [](Result<mailstore::Receipt>) {});
}

void Session::tls_started() {
  peer_.tls = true;
  mode_ = Mode::command;
  // RFC 3207 4.2: forget everything learned before TLS; RFC 3207 5: drop pipelined bytes.
  (void)reader_.take_buffer();
  helo_.clear();
  esmtp_ = false;
  person_.reset();
  reset_transaction();
}

}  // namespace congvu::smtp
