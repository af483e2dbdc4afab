// Runs every tests/transcripts/imap/*.txt against Sessions on the in-memory stores with the
// demo province (password CongVu-demo-2026) and a fixed clock. Format:
//   # comment
//   @plain                       the client is not on TLS (default: TLS, as on port 2993)
//   @loopback                    plaintext login allowed (imap_plaintext_loopback)
//   @session N                   the lines that follow belong to session N (1 by default; a new
//                                number opens a session, whose greeting must be expected)
//   @deliver ADDRESS TEXT        SMTP-like delivery of TEXT (escapes) to ADDRESS's INBOX
//   @poll                        the current session is in IDLE: report changes (idle_poll)
//   C: a line the client sends (CRLF appended; \r \n \t \\ escapes)
//   C< bytes the client sends as they are (escapes, no CRLF)
//   C* N TEXT                    TEXT repeated N times, as it is
//   S: a line the server must send; '*' matches any run of characters (but "* " at the start
//      is the untagged marker)
//   @closed                      the current session has ended
// Every server line must be expected: unexpected output fails the scenario.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/support/demo_world.hpp"
#include "tests/support/transcript.hpp"
#include "imap/session.hpp"
#include "mailstore/mailstore.hpp"

namespace congvu::imap {
namespace {

constexpr UnixMs kNow = 1795280400000;  // 2026-11-21T17:00:00Z

// '*' in an expected line matches any run of characters, except where it stands alone as the
// untagged marker ("* " at the start).
bool glob(std::string_view pat, std::string_view s) {
  if (pat.starts_with("* ")) {
    if (!s.starts_with("* ")) return false;
    pat.remove_prefix(2);
    s.remove_prefix(2);
  }
  std::size_t star = pat.find('*');
  if (star == std::string_view::npos) return pat == s;
  if (!s.starts_with(pat.substr(0, star))) return false;
  std::string_view rest = pat.substr(star + 1);
  for (std::size_t i = star; i <= s.size(); ++i)
    if (glob(rest, s.substr(i))) return true;
  return false;
}

struct Conn {
  std::unique_ptr<Session> s;
  std::deque<std::string> lines;
  bool closed = false;
};

class ImapTranscript : public testing::TestWithParam<std::string> {
 protected:
  ImapTranscript() : world_(kNow), dir_(world_.dir), mail_(world_.mail) {}

  std::string account_of(const std::string& address) { return world_.account_of(address); }
  static void split(const std::string& out, std::deque<std::string>& lines) { test::split_lines(out, lines); }

  void pump(Conn& c, const std::string& bytes) {
    if (!bytes.empty()) c.s->feed(bytes);
    std::string out;
    for (;;) {
      Step st = c.s->next(kNow);
      out += st.out;
      if (std::holds_alternative<NeedInput>(st.action)) {
        if (st.more) continue;
        break;
      }
      if (std::holds_alternative<Close>(st.action)) {
        c.closed = true;
        break;
      }
      if (std::holds_alternative<StartTls>(st.action)) c.s->tls_started();
      if (std::holds_alternative<Idle>(st.action)) break;  // waits for @poll or input
    }
    split(out, c.lines);
  }

  test::DemoWorld world_;
  std::unique_ptr<directory::Directory>& dir_;
  mailstore::OpenedStore& mail_;
};

TEST_P(ImapTranscript, Runs) {
  std::string path = std::string(CONGVU_SOURCE_DIR) + "/tests/transcripts/imap/" + GetParam() + ".txt";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  SessionConfig cfg;
  cfg.max_message_bytes = 4096;
  bool tls = true;
  std::map<int, Conn> conns;
  int cur = 1;
  auto open = [&](int n) {
    Conn c;
    c.s = std::make_unique<Session>(cfg, Context{*dir_, *mail_.store}, Peer{"192.0.2.10", tls});
    split(c.s->greeting(), c.lines);
    conns.emplace(n, std::move(c));
  };
  std::string line;
  int n = 0;
  bool started = false;
  // CONGVU_TRANSCRIPT_DUMP=1: print what the server says after each client line (for writing
  // a new scenario; every line is then checked by hand against the RFC before it is kept).
  const bool dump = std::getenv("CONGVU_TRANSCRIPT_DUMP") != nullptr;  // NOLINT(concurrency-mt-unsafe): one test thread
  auto flush = [&](Conn& c) {
    while (dump && !c.lines.empty()) {
      std::printf("S: %s\n", c.lines.front().c_str());
      c.lines.pop_front();
    }
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::string where = path + ":" + std::to_string(n);
    if (line == "@plain") {
      tls = false;
      continue;
    }
    if (line == "@loopback") {
      cfg.plaintext_ok = true;
      continue;
    }
    if (!started) {
      started = true;
      open(1);
    }
    if (line.starts_with("@session ")) {
      if (dump) {
        flush(conns.at(cur));
        std::printf("%s\n", line.c_str());
      }
      cur = std::stoi(line.substr(9));
      if (!conns.count(cur)) open(cur);
      continue;
    }
    Conn& c = conns.at(cur);
    if (dump && !line.starts_with("S: ")) {
      flush(c);
      std::printf("%s\n", line.c_str());
    }
    if (line.starts_with("@deliver ")) {
      auto rest = line.substr(9);
      auto sp = rest.find(' ');
      mailstore::Delivery d;
      d.data = test::unescape(rest.substr(sp + 1));
      d.internal_date = kNow;
      d.targets.emplace_back(account_of(rest.substr(0, sp)));
      ASSERT_TRUE(mail_.store->deliver(d)) << where;
    } else if (line == "@poll") {
      Step st = c.s->idle_poll(kNow);
      split(st.out, c.lines);
      if (std::holds_alternative<Close>(st.action)) c.closed = true;
    } else if (line.starts_with("C: ")) {
      pump(c, test::unescape(line.substr(3)) + "\r\n");
    } else if (line.starts_with("C< ")) {
      pump(c, test::unescape(line.substr(3)));
    } else if (line.starts_with("C* ")) {
      auto rest = line.substr(3);
      auto sp = rest.find(' ');
      std::string bytes;
      for (int k = std::stoi(rest.substr(0, sp)); k > 0; --k) bytes += test::unescape(rest.substr(sp + 1));
      pump(c, bytes);
    } else if (line.starts_with("S: ")) {
      if (dump) continue;
      std::string want = line.substr(3);
      ASSERT_FALSE(c.lines.empty()) << where << ": expected " << want << " but the server sent nothing more";
      std::string got = c.lines.front();
      c.lines.pop_front();
      if (want.find('*', want.starts_with("* ") ? 2 : 0) != std::string::npos)
        EXPECT_TRUE(glob(want, got)) << where << "\n  want " << want << "\n  got  " << got;
      else
        EXPECT_EQ(got, want) << where;
    } else if (line == "@closed") {
      if (dump) continue;
      EXPECT_TRUE(c.closed) << where;
    } else {
      FAIL() << where << ": unknown directive " << line;
    }
  }
  if (dump) {
    for (auto& [k, c] : conns) flush(c);
    return;
  }
  for (auto& [k, c] : conns)
    EXPECT_TRUE(c.lines.empty()) << path << ": session " << k << " sent more: " << (c.lines.empty() ? "" : c.lines.front());
}

INSTANTIATE_TEST_SUITE_P(Imap, ImapTranscript, testing::ValuesIn(test::transcripts("imap")),
                         [](const testing::TestParamInfo<std::string>& i) {
                           std::string s = i.param;
                           for (auto& ch : s)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return s;
                         });

}  // namespace
}  // namespace congvu::imap
