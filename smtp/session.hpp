// The SMTP state machine (RFC 5321 with PIPELINING, SIZE, 8BITMIME, SMTPUTF8,
// ENHANCEDSTATUSCODES, STARTTLS, AUTH, CHUNKING, DSN), without sockets, clocks or threads:
// the server feeds bytes and performs the actions the session returns (STYLE.md habit 5).
//
//   Session s(cfg, recipients, peer);
//   out(s.greeting());
//   loop: s.feed(bytes); for (;;) { Step st = s.next(now); out(st.reply); perform(st.action);
//                                    if (holds<NeedInput>) break; }
// After StartTls the server calls tls_started(); after Deliver, delivered(); after a SASL
// action, sasl_result(). Until then next() returns nothing new.
//
// SECURITY (see also smtp/README.md): no AUTH on the MX listener; on submission AUTH only
// after TLS (530 5.7.0 before) and MAIL only after AUTH; bytes pipelined behind STARTTLS are
// discarded (RFC 3207 5); recipients and relay policy from Recipients; the signed-in person
// may use only their own addresses and role mailboxes they hold, in MAIL FROM and in From:;
// max_errors bad commands end the session with 421.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "common/time.hpp"
#include "directory/model.hpp"
#include "directory/sasl.hpp"
#include "mailstore/mailstore.hpp"
#include "smtp/proto/command.hpp"
#include "smtp/authcheck.hpp"
#include "smtp/dkim.hpp"
#include "smtp/recipients.hpp"

namespace congvu::smtp {

enum class Listener { mx, submission, submissions };
const char* listener_name(Listener l);

struct SessionConfig {
  Listener kind = Listener::mx;
  std::string hostname = "mail.tinhmau.test";
  std::uint64_t max_message_bytes = 50ULL << 20;
  std::size_t max_recipients = 1000;
  int max_errors = 10;
  bool starttls = true;  // STARTTLS offered (a TLS context exists)
  bool check_inbound = true;  // MX: SPF/DKIM/DMARC and Authentication-Results
  bool honor_dmarc = true;    // apply the sender domain's DMARC reject/quarantine
};

struct Peer {
  std::string ip;
  bool tls = false;  // implicit TLS (2465) starts with true
};

// Actions for the server layer.
struct NeedInput {};
struct StartTls {};
struct Close {};
struct Deliver {
  std::shared_ptr<const mailstore::Delivery> delivery;
  mailstore::Expectation expected;  // announced at DATA; hand it to Mailstore::deliver
};
struct SaslStart {
  std::string mechanism;
  std::optional<std::string> initial;  // decoded initial response
};
struct SaslStep {
  std::string response;  // decoded
};
// Mail from outside (MX): check SPF, DKIM and DMARC (blocking DNS: on the worker pool), then
// call auth_checked().
struct CheckAuth {
  std::string client_ip, helo, mail_from;
  std::shared_ptr<const std::string> message;
};
using Action = std::variant<NeedInput, StartTls, Close, Deliver, SaslStart, SaslStep, CheckAuth>;

struct Step {
  std::string reply;  // bytes to send before performing the action
  Action action;
};

class Session {
 public:
  // `dkim` signs what submission accepts (may be null: no signature).
  Session(SessionConfig cfg, Recipients& recipients, Peer peer, const DkimSigner* dkim = nullptr);

  std::string greeting() const;
  void feed(std::string_view bytes);
  Step next(UnixMs now);

  void tls_started();
  void delivered(const Result<mailstore::Receipt>& r);
  void sasl_result(const directory::SaslResult& r);
  void auth_checked(const InboundAuth& a, UnixMs now);

  // An exception escaped a step or an action: the transaction is dropped and the answer is
  // 451 4.3.0, the connection going on; while the message itself was still arriving (its rest
  // would read as commands) the answer is 421 4.3.0 and the session closes.
  Step internal_error();
  // A message is arriving or being delivered: a graceful stop waits for it.
  bool in_transaction() const { return mode_ == Mode::data || mode_ == Mode::bdat || mode_ == Mode::waiting; }
  bool authenticated() const { return person_.has_value(); }
  unsigned auth_failures() const { return auth_failures_; }

  bool closed() const { return closed_; }
  // For logs: the current transaction's queue id and the signed-in login.
  const std::string& login() const { return login_; }
  std::vector<std::string> mechanisms() const;

 private:
  enum class Mode { command, data, bdat, sasl, waiting };

  Step on_command(const proto::Command& c, UnixMs now);
  Step on_ehlo(const proto::Command& c);
  Step on_mail(const proto::Command& c);
  Step on_rcpt(const proto::Command& c);
  Step on_data();
  Step on_bdat(const proto::Command& c);
  Step on_auth(const proto::Command& c);
  Step finish_message(std::string message, UnixMs now);
  Step deliver(std::string message, const std::string& prefix, bool junk, UnixMs now);
  void send_success_dsn();
  Step error(int code, const std::string& enhanced, const std::string& text);
  std::string reply(int code, const std::string& enhanced, const std::string& text) const;
  void reset_transaction();
  bool submission() const { return cfg_.kind != Listener::mx; }

  SessionConfig cfg_;
  Recipients& recipients_;
  unsigned auth_failures_ = 0;  // failed AUTH in a row; the 3rd closes the connection
  Peer peer_;
  const DkimSigner* dkim_;
  proto::CommandReader reader_;
  std::optional<proto::DataReader> data_;
  Mode mode_ = Mode::command;
  bool closed_ = false;
  int errors_ = 0;
  std::string helo_;
  bool esmtp_ = false;
  std::optional<directory::Person> person_;
  std::string login_;

  // The transaction.
  std::optional<proto::Path> from_;
  bool utf8_ = false;
  std::uint64_t declared_size_ = 0;
  std::vector<std::string> rcpt_addresses_;
  std::vector<mailstore::Target> targets_;
  std::vector<mailstore::OutboundRecipient> outbound_;
  std::vector<mailstore::OutboundRecipient> notify_success_;  // local recipients with NOTIFY=SUCCESS
  std::string delivered_message_;  // kept for a success DSN until delivered()
  UnixMs delivery_time_ = 0;      // `now` of the message being delivered (for its DSN)
  std::string envid_;
  bool ret_full_ = false;
  std::set<std::string> accounts_;
  // BDAT
  std::uint64_t chunk_left_ = 0;
  bool chunk_last_ = false;
  bool bdat_failed_ = false;  // the chunk is read and dropped, the reply given at its end
  std::string bdat_error_;
  bool bdat_too_big_ = false;
  std::string bdat_message_;
  bool bdat_started_ = false;
  std::string queue_id_;
  mailstore::Expectation expected_;  // from DATA/BDAT until the message is handed over
  std::string pending_;  // replies produced by delivered()/sasl_result(), sent by next()
  std::string checked_message_;  // the message waiting for auth_checked()
  std::optional<Step> pending_step_;  // an action decided outside next(), returned by it
};

}  // namespace congvu::smtp
