// Runs every tests/transcripts/smtp/*.txt against a Session on the in-memory stores with the
// demo province and a fixed clock. Format (one scenario per file):
//   # comment
//   @listener mx|submission|submissions     @max-size N   @max-errors N   @max-recipients N
//   @group NAME UNIT_CODE [members|staff|anyone]   (a unit-derived list, before the session)
//   @retire LOGIN [SUCCESSOR]                (retired before the session, mail going to SUCCESSOR)
//   C: a line the client sends (CRLF appended; \r \n \0 \t \\ escapes)
//   C< bytes the client sends as they are (escapes, no CRLF)
//   S: a line the server must send; a trailing * matches any rest of the line
//   @mail ADDRESS MAILBOX COUNT              messages now in that mailbox
//   @body ADDRESS N TEXT                     message N of INBOX contains TEXT
//   @queue COUNT                             entries in the outbound queue
//   @closed                                  the session has ended
// Every server line must be expected: unexpected output fails the scenario.
#include <gtest/gtest.h>

#include "directory/hr.hpp"

#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/demo_world.hpp"
#include "tests/support/transcript.hpp"
#include "directory/sasl.hpp"
#include "mailstore/mailstore.hpp"
#include "smtp/session.hpp"

namespace congvu::smtp {
namespace {

constexpr UnixMs kNow = 1795280400000;  // 2026-11-21T17:00:00Z

class Transcript : public testing::TestWithParam<std::string> {
 protected:
  Transcript() : world_(kNow), dir_(world_.dir), mail_(world_.mail) {
    recipients_ = std::make_unique<Recipients>(*dir_, *mail_.store);
  }

  std::string account_of(const std::string& address) { return world_.account_of(address); }

  // Feeds the client's bytes and runs the session until it waits for input or ends,
  // performing its actions as the server would.
  void pump(Session& s, const std::string& bytes, std::deque<std::string>& lines, bool& closed) {
    if (!bytes.empty()) s.feed(bytes);
    std::string out;
    for (;;) {
      Step st = s.next(kNow);
      out += st.reply;
      if (std::holds_alternative<NeedInput>(st.action)) break;
      if (std::holds_alternative<Close>(st.action)) {
        closed = true;
        break;
      }
      if (std::holds_alternative<StartTls>(st.action)) {
        s.tls_started();
      } else if (auto* d = std::get_if<Deliver>(&st.action)) {
        s.delivered(mail_.store->deliver(*d->delivery));
      } else if (auto* c = std::get_if<CheckAuth>(&st.action)) {
        // No DNS in transcripts: a fixed, empty table (every check gives "none").
        s.auth_checked(check_inbound(dns_, InboundMessage{c->client_ip, c->helo, c->mail_from, *c->message, kNow}), kNow);
      } else if (auto* a = std::get_if<SaslStart>(&st.action)) {
        sasl_ = directory::SaslEngine::get().connect(*dir_, "smtp", "mail.tinhmau.test");
        s.sasl_result(sasl_->start(a->mechanism, a->initial, kNow));
      } else if (auto* a = std::get_if<SaslStep>(&st.action)) {
        s.sasl_result(sasl_->step(a->response, kNow));
      }
    }
    test::split_lines(out, lines);
  }

  test::DemoWorld world_;
  std::unique_ptr<directory::Directory>& dir_;
  mailstore::OpenedStore& mail_;
  std::unique_ptr<Recipients> recipients_;
  std::unique_ptr<directory::SaslConn> sasl_;
  StaticDns dns_;
};

TEST_P(Transcript, Runs) {
  std::string path = std::string(CONGVU_SOURCE_DIR) + "/tests/transcripts/smtp/" + GetParam() + ".txt";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  SessionConfig cfg;
  Peer peer{"192.0.2.10", false};
  std::vector<std::pair<int, std::string>> script;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    if (line.starts_with("@listener ")) {
      auto k = line.substr(10);
      cfg.kind = k == "mx" ? Listener::mx : k == "submission" ? Listener::submission : Listener::submissions;
      if (cfg.kind == Listener::submissions) peer.tls = true;
    } else if (line.starts_with("@max-size ")) {
      cfg.max_message_bytes = std::stoull(line.substr(10));
    } else if (line.starts_with("@max-errors ")) {
      cfg.max_errors = std::stoi(line.substr(12));
    } else if (line.starts_with("@max-recipients ")) {
      cfg.max_recipients = std::stoul(line.substr(16));
    } else if (line.starts_with("@group ")) {
      std::istringstream ss(line.substr(7));
      directory::Group g;
      std::string posting;
      ss >> g.name >> g.unit >> posting;
      g.kind = directory::GroupKind::unit_derived;
      if (!posting.empty()) g.posting = *directory::parse_posting(posting);
      auto r = dir_->write(directory::Actor{"test"}, kNow, [&](directory::Change& c) { return c.add_group(g); });
      ASSERT_TRUE(r.ok()) << r.error().message;
    } else if (line.starts_with("@retire ")) {
      std::istringstream ss(line.substr(8));
      std::string login, successor;
      ss >> login >> successor;
      auto r = dir_->write(directory::Actor{"test"}, kNow, [&](directory::Change& c) -> Status {
        directory::LifeChange lc;
        lc.kind = directory::LifeKind::retire;
        lc.person = c.by_login(login)->id;
        lc.decision = "1/QĐ";
        lc.successor = successor;
        auto done = directory::apply_change(c, directory::Authority::root("test"), lc, "2026-11-22");
        if (!done) return done.error();
        return ok_status();
      });
      ASSERT_TRUE(r.ok()) << r.error().message;
    } else {
      script.emplace_back(n, line);
    }
  }
  Session s(cfg, *recipients_, peer);
  std::deque<std::string> got;
  bool closed = false;
  {
    std::string g = s.greeting();
    got.push_back(g.substr(0, g.size() - 2));
  }
  std::string pending;
  auto flush = [&] {
    if (pending.empty()) return;
    ASSERT_FALSE(closed) << "the client sends after the session ended";
    pump(s, pending, got, closed);
    pending.clear();
  };
  for (const auto& [ln, l] : script) {
    std::string where = path + ":" + std::to_string(ln);
    if (l == "C:" || l.starts_with("C: ")) {
      pending += test::unescape(l.substr(std::min<std::size_t>(3, l.size()))) + "\r\n";
    } else if (l.starts_with("C< ")) {
      pending += test::unescape(l.substr(3));
    } else if (l.starts_with("S: ")) {
      flush();
      std::string want = l.substr(3);
      ASSERT_FALSE(got.empty()) << where << ": expected '" << want << "', the server sent nothing more";
      std::string have = got.front();
      got.pop_front();
      if (!want.empty() && want.back() == '*')
        EXPECT_TRUE(have.starts_with(want.substr(0, want.size() - 1))) << where << ": expected '" << want << "', got '" << have << "'";
      else
        EXPECT_EQ(have, want) << where;
    } else {
      flush();
      ASSERT_TRUE(got.empty()) << where << ": unexpected server line '" << got.front() << "'";
      std::istringstream ss(l);
      std::string verb;
      ss >> verb;
      if (verb == "@mail") {
        std::string address, box;
        std::uint32_t count;
        ss >> address >> box >> count;
        // Reports (DSNs) are delivered without being awaited: give them a moment.
        std::uint32_t have = 0;
        for (int i = 0; i < 200; ++i) {
          auto m = mail_.store->mailbox(account_of(address), box);
          have = m ? m->messages : 0u;
          if (have >= count) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        EXPECT_EQ(have, count) << where << ": messages in " << address << " " << box;
      } else if (verb == "@body") {
        std::string address;
        std::size_t index;
        ss >> address >> index;
        std::string text;
        std::getline(ss, text);
        text = test::unescape(text.substr(1));
        auto m = mail_.store->mailbox(account_of(address), "INBOX");
        ASSERT_TRUE(m) << where;
        auto msgs = mail_.store->messages(m->id);
        ASSERT_GE(msgs.size(), index) << where;
        auto body = mail_.store->body(msgs[index - 1]);
        EXPECT_NE(body.find(text), std::string::npos) << where << ": '" << text << "' not in:\n" << body;
      } else if (verb == "@queue") {
        std::size_t count;
        ss >> count;
        EXPECT_EQ(mail_.store->queue().size(), count) << where << ": outbound queue entries";
      } else if (verb == "@closed") {
        EXPECT_TRUE(closed) << where;
      } else {
        FAIL() << where << ": unknown directive " << verb;
      }
    }
  }
  flush();
  EXPECT_TRUE(got.empty()) << path << ": unexpected server line at the end: '" << (got.empty() ? "" : got.front()) << "'";
}

INSTANTIATE_TEST_SUITE_P(Smtp, Transcript, testing::ValuesIn(test::transcripts("smtp")),
                         [](const testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (auto& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace congvu::smtp
