// The IMAP state machine (RFC 9051 IMAP4rev2 and RFC 3501 IMAP4rev1, selectable by ENABLE,
// with the extensions listed in imap/README.md), without sockets or clocks: the server feeds
// bytes, calls next() and performs the action it returns (STYLE.md habit 5).
//
//   Session s(cfg, ctx, peer);
//   out(s.greeting());
//   loop: s.feed(bytes); for (;;) { Step st = s.next(now); out(st.out); perform(st.action);
//                                    if (holds<NeedInput>) break; }
//
// next() may block: it reads and writes the mail store (a write waits for its group commit:
// nobody is told OK before the data is on disk) and runs password checks. The server therefore
// calls it on a worker pool, never on an event loop thread, and one call at a time.
//
// SECURITY: before TLS, LOGIN and AUTHENTICATE are refused (LOGINDISABLED) unless the peer is
// allowed plaintext (a configured loopback); before login, literals are limited to 8 KiB; every
// mailbox access is checked against RFC 4314 rights computed from the directory at the time
// of the command, so a person moved out of the position that holds a unit's official inbox
// loses it at once, also when it is selected (the session answers NO [NOPERM] and deselects);
// max_errors bad commands end the session with BYE.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/time.hpp"
#include "directory/directory.hpp"
#include "directory/sasl.hpp"
#include "directory/throttle.hpp"
#include "imap/proto/command.hpp"
#include "imap/proto/fetch.hpp"
#include "imap/proto/search.hpp"
#include "mailstore/mailstore.hpp"

namespace congvu::imap {

struct SessionConfig {
  std::string hostname = "mail.tinhmau.test";
  bool starttls = true;          // STARTTLS offered (port 2143)
  bool plaintext_ok = false;     // LOGIN/AUTHENTICATE allowed without TLS (configured loopback)
  std::uint64_t max_message_bytes = 50ULL << 20;  // APPENDLIMIT
  std::size_t max_line = 65536;
  int max_errors = 10;
  bool compress = true;          // COMPRESS=DEFLATE offered
};

struct Context {
  directory::Directory& dir;
  mailstore::Mailstore& store;
  // Every LOGIN and AUTHENTICATE goes through it (directory/throttle.hpp); null: the session
  // keeps its own (transcript tests).
  directory::LoginThrottle* throttle = nullptr;
};

struct Peer {
  std::string ip;
  bool tls = false;  // implicit TLS (2993) starts with true
};

// Actions for the server layer.
struct NeedInput {};
struct StartTls {};   // handshake, then tls_started()
struct Close {};
struct Compress {};   // from now on, both directions go through DEFLATE (RFC 4978)
struct Idle {         // wait for input, and call idle_poll() when the mailbox changes
  std::optional<mailstore::MailboxId> mailbox;
  bool shared = false;  // a role mailbox: poll now and then for lost rights too
};
using Action = std::variant<NeedInput, StartTls, Close, Compress, Idle>;

struct Step {
  std::string out;  // bytes to send before performing the action
  Action action;
  bool more = false;  // with NeedInput: more commands are buffered, call next() again first
};

class Session {
 public:
  Session(SessionConfig cfg, Context ctx, Peer peer);
  ~Session();

  std::string greeting() const;
  void feed(std::string_view bytes) { reader_.feed(bytes); }
  Step next(UnixMs now);
  void tls_started();
  // During IDLE: untagged updates for what changed since the last report (and BYE with
  // Close when access to the mailbox was withdrawn meanwhile).
  Step idle_poll(UnixMs now);
  bool idling() const { return idle_tag_.has_value(); }
  // Called by the server when the session goes idle: buffers are given back.
  void shrink() {
    reader_.shrink();
    std::string().swap(out_);
  }
  const std::string& login() const { return login_; }
  bool authenticated() const { return state_ == State::authenticated || state_ == State::selected; }
  // Part of a command (a literal on its way) is buffered: a graceful stop waits for the rest.
  bool mid_command() const { return reader_.buffered(); }

  // Exposed for tests and the fuzzer: the capabilities advertised now.
  std::string capabilities() const;


 private:
  enum class State { not_authenticated, authenticated, selected, logout };
  struct Selected;
  struct Mailbox;  // a visible name resolved to an account and a stored name

  Step next_one(UnixMs now, bool& progressed);
  Step dispatch(const std::string& text, UnixMs now);

  // Commands: one row each in the table of commands.cpp, one file (cmd_<name>.cpp) per
  // command or small family. A handler gets the parser after the command name.
  struct Command;
  struct CommandSpec;
  static const CommandSpec* find_command(std::string_view name);
  // any state
  void cmd_capability(Command& c);
  void cmd_noop(Command& c);
  void cmd_logout(Command& c);
  void cmd_id(Command& c);
  // not authenticated
  void cmd_starttls(Command& c);
  void cmd_login(Command& c);
  void cmd_authenticate(Command& c);
  void sasl_continue(const std::string& line, UnixMs now);
  void logged_in(const directory::Person& person, const std::string& tag, UnixMs now);
  // authenticated
  void cmd_select(Command& c);    // SELECT, EXAMINE
  void cmd_create(Command& c);
  void cmd_delete(Command& c);
  void cmd_rename(Command& c);
  void cmd_subscribe(Command& c);  // SUBSCRIBE, UNSUBSCRIBE
  void cmd_list(Command& c);       // LIST, LSUB
  void cmd_status(Command& c);
  void status_for(const mailstore::MailboxRecord& r, const std::vector<std::string>& items, const std::string& wire_name);
  void cmd_append(Command& c);
  // CATENATE (RFC 4469): what an IMAP URL names, read with this session's rights; nullopt with
  // `why` when it names nothing readable.
  std::optional<std::string> url_bytes(const std::string& url, std::string& why);
  void cmd_namespace(Command& c);
  void cmd_enable(Command& c);
  void cmd_quota(Command& c);      // GETQUOTA, GETQUOTAROOT, SETQUOTA
  void cmd_acl(Command& c);        // GETACL, SETACL, DELETEACL, LISTRIGHTS, MYRIGHTS
  void cmd_idle(Command& c);
  void cmd_compress(Command& c);
  // selected
  void cmd_check(Command& c);
  void cmd_close(Command& c);      // CLOSE, UNSELECT
  void cmd_expunge(Command& c);
  void cmd_fetch(Command& c);
  void cmd_store(Command& c);
  void cmd_copy(Command& c);       // COPY, MOVE
  void cmd_search(Command& c);
  void cmd_sort(Command& c);
  void cmd_thread(Command& c);

  // helpers
  std::optional<Mailbox> resolve(const std::string& visible_name);
  std::string visible(const std::string& account, const std::string& name);
  std::string encode_name(const std::string& utf8) const;
  std::optional<std::string> decode_name(const std::string& wire) const;
  mailstore::Accessor accessor();
  bool check_selected_access();
  // Reports changes of the selected mailbox since the last report (EXISTS, FETCH FLAGS, and
  // EXPUNGE/VANISHED unless `expunges` is false: not during FETCH, STORE and SEARCH).
  void sync(bool expunges);
  void report_expunged(const std::vector<std::uint32_t>& uids);
  std::vector<std::uint32_t> resolve_set(const proto::SeqSet& set, bool uid) const;
  // "(\\Seen kw ...)" of a message, \\Recent included when it is recent for this session (rev1).
  // A keyword the session has not heard of yet is announced first (* FLAGS, PERMANENTFLAGS:
  // RFC 3501 7.2.6), so call it before the line that carries the text is started.
  std::string flags_text(const mailstore::MessageRecord& r);
  void announce_flags(const Selected& s);
  void learn_keywords(const std::vector<std::string>& keywords);
  // \\Recent (RFC 3501 2.3.2, rev1 sessions only): takes what arrived below `upto` (read-write)
  // or notes what nobody took yet (read-only); the count for "* N RECENT".
  void take_recent(Selected& s, std::uint32_t upto);
  void report_recent();
  // The selected mailbox's messages matching the search keys at `p`, in UID order.
  std::vector<mailstore::MessageRecord> run_search(proto::SearchKey root);
  // SORT and THREAD: "charset SP keys" to the end of the command, each match with its summary
  // (messages expunged meanwhile left out); nullopt once NO [BADCHARSET] has been answered.
  struct Matched;
  // "ESEARCH (TAG ...) [UID] MIN .. MAX .. ALL .. COUNT .. PARTIAL (..) MODSEQ .." for the
  // results `ids` (sorted: in SORT order, else ascending).
  std::string esearch_line(const std::string& tag, bool uid, const proto::SearchReturn& ret,
                           const std::vector<std::uint32_t>& ids, bool sorted) const;
  std::optional<std::vector<Matched>> search_with_summaries(const std::string& charset, proto::SearchKey root,
                                                            const std::string& tag);
  void untagged(const std::string& line) { out_ += "* " + line + "\r\n"; }
  void tagged(const std::string& tag, const std::string& status, const std::string& text) {
    out_ += tag + " " + status + " " + text + "\r\n";
  }
  void bad(const std::string& tag, const std::string& text);

  SessionConfig cfg_;
  Context ctx_;
  Peer peer_;
  proto::CommandReader reader_;
  State state_ = State::not_authenticated;
  std::string out_;
  Action action_ = NeedInput{};
  int errors_ = 0;

  std::optional<PersonId> person_;
  std::string login_, account_;
  bool rev2_ = false, utf8_ = false, condstore_ = false, qresync_ = false;
  std::unique_ptr<Selected> sel_;
  std::vector<std::pair<std::string, std::string>> roles_;  // (unit code, slug) held now
  bool active_ = true;
  mailstore::ModSeq search_modseq_ = 0;  // CONDSTORE: highest modseq among SEARCH results

  // AUTHENTICATE in progress
  std::unique_ptr<directory::SaslConn> sasl_;
  std::optional<std::string> sasl_tag_;
  std::unique_ptr<directory::LoginThrottle> own_throttle_;
  directory::LoginThrottle* throttle_ = nullptr;
  unsigned auth_failures_ = 0;  // refused LOGIN/AUTHENTICATE in a row on this connection
  // Answers a refused LOGIN or AUTHENTICATE; the 3rd in a row ends the connection.
  void auth_refused(const std::string& tag, bool temporary, UnixMs wait);
  std::optional<std::string> sasl_done_user_;  // success data sent, waiting for the empty line
  // IDLE in progress
  std::optional<std::string> idle_tag_;
  bool compressing_ = false;
  bool tls_ = false;
};

}  // namespace congvu::imap
