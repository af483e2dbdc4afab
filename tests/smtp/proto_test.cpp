// The SMTP wire parser: commands, paths, parameters, limits, DATA end and dot-unstuffing, and
// the SMTP smuggling vectors, each checked under every split of its input.
#include <gtest/gtest.h>

#include "smtp/proto/command.hpp"
#include "tests/support/grind.hpp"

namespace congvu::smtp::proto {
namespace {

std::string describe(const Event& e) {
  if (std::holds_alternative<NeedMore>(e)) return "need-more";
  if (auto* err = std::get_if<Error>(&e))
    return std::to_string(err->code) + " " + err->enhanced + (err->close ? " close" : "");
  const auto& c = std::get<Command>(e);
  std::string s = "verb" + std::to_string(static_cast<int>(c.verb)) + " [" + c.arg + "]";
  if (c.path) s += " <" + c.path->address() + ">";
  for (const auto& [k, v] : c.params) s += " " + k + "=" + v;
  if (c.verb == Verb::bdat) s += " " + std::to_string(c.chunk_size) + (c.last_chunk ? " LAST" : "");
  if (!c.initial_response.empty()) s += " ir=" + c.initial_response;
  return s;
}

std::vector<std::string> commands(const test::Chunks& chunks) {
  CommandReader r;
  std::vector<std::string> out;
  for (auto chunk : chunks) {
    r.feed(chunk);
    for (;;) {
      auto e = r.next();
      if (std::holds_alternative<NeedMore>(e)) break;
      out.push_back(describe(e));
      if (auto* err = std::get_if<Error>(&e); err && err->close) return out;
    }
  }
  return out;
}

std::vector<std::string> grind_commands(std::string_view in) { return test::grind(in, commands); }

Command one(std::string_view line) {
  CommandReader r;
  r.feed(line);
  auto e = r.next();
  if (!std::holds_alternative<Command>(e)) {
    ADD_FAILURE() << "not a command: " << describe(e) << " for " << line;
    return Command{Verb::noop, {}, {}, {}, {}, 0, false};
  }
  return std::get<Command>(e);
}

Error error_of(std::string_view line) {
  CommandReader r;
  r.feed(line);
  auto e = r.next();
  if (!std::holds_alternative<Error>(e)) {
    ADD_FAILURE() << "not an error: " << describe(e) << " for " << line;
    return Error{0, "", "", false};
  }
  return std::get<Error>(e);
}

TEST(SmtpCommands, PipelinedSessionUnderEverySplit) {
  auto events = grind_commands(
      "EHLO client.example\r\nMAIL FROM:<annv@tinhmau.test> SIZE=5120 BODY=8BITMIME SMTPUTF8\r\n"
      "RCPT TO:<hantt@tinhmau.test> NOTIFY=SUCCESS,FAILURE\r\nrcpt to:<Postmaster>\r\nDATA\r\n");
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0], "verb1 [client.example]");
  EXPECT_EQ(events[1], "verb2 [] <annv@tinhmau.test> BODY=8BITMIME SIZE=5120 SMTPUTF8=");
  EXPECT_EQ(events[2], "verb3 [] <hantt@tinhmau.test> NOTIFY=SUCCESS,FAILURE");
  EXPECT_EQ(events[3], "verb3 [] <Postmaster@>");
  EXPECT_EQ(events[4], "verb4 []");
}

TEST(SmtpCommands, Verbs) {
  EXPECT_EQ(one("HELO mail.example\r\n").verb, Verb::helo);
  EXPECT_EQ(one("quit\r\n").verb, Verb::quit);
  EXPECT_EQ(one("RSET\r\n").verb, Verb::rset);
  EXPECT_EQ(one("NOOP anything\r\n").verb, Verb::noop);
  EXPECT_EQ(one("STARTTLS\r\n").verb, Verb::starttls);
  auto auth = one("AUTH plain AGFubnYAc2VjcmV0\r\n");
  EXPECT_EQ(auth.arg, "PLAIN");
  EXPECT_EQ(auth.initial_response, "AGFubnYAc2VjcmV0");
  auto bdat = one("BDAT 1000 LAST\r\n");
  EXPECT_EQ(bdat.chunk_size, 1000u);
  EXPECT_TRUE(bdat.last_chunk);
  EXPECT_EQ(one("MAIL FROM:<>\r\n").path->null, true);
  EXPECT_EQ(one("MAIL FROM: <a@b.example>\r\n").path->address(), "a@b.example") << "a space after the colon is tolerated";
  EXPECT_EQ(one("VRFY annv\r\n").arg, "annv");
}

TEST(SmtpCommands, SyntaxErrorsUseTheRfcCodes) {
  EXPECT_EQ(error_of("FROB\r\n").code, 500);
  EXPECT_EQ(error_of("FROB\r\n").enhanced, "5.5.1");
  EXPECT_EQ(error_of("EHLO\r\n").code, 501);
  EXPECT_EQ(error_of("DATA now\r\n").code, 501);
  EXPECT_EQ(error_of("MAIL TO:<a@b>\r\n").code, 501);
  EXPECT_EQ(error_of("RCPT TO:<>\r\n").enhanced, "5.1.3") << "null path only for MAIL";
  EXPECT_EQ(error_of("RCPT TO:a@b.example\r\n").code, 501);
  EXPECT_EQ(error_of("MAIL FROM:<a@b.example> SIZE=1 SIZE=2\r\n").code, 501);
  EXPECT_EQ(error_of("BDAT -1\r\n").code, 501);
  EXPECT_EQ(error_of("BDAT 10 FIRST\r\n").code, 501);
  EXPECT_EQ(error_of(std::string_view("NOOP a\0b\r\n", 10)).code, 500);
}

TEST(SmtpPaths, RelayTricksAreVisibleToPolicy) {
  auto route = parse_path("<@relay.example,@second.example:user@final.example>", false);
  ASSERT_TRUE(route);
  EXPECT_TRUE(route->source_route);
  EXPECT_EQ(route->address(), "user@final.example");
  auto quoted = parse_path("<\"annv@tinhmau.test\"@evil.example>", false);
  ASSERT_TRUE(quoted);
  EXPECT_TRUE(quoted->quoted_local);
  EXPECT_EQ(quoted->local, "annv@tinhmau.test");
  EXPECT_EQ(quoted->domain, "evil.example") << "the domain is the last part, never inside the quotes";
  auto percent = parse_path("<annv%evil.example@tinhmau.test>", false);
  ASSERT_TRUE(percent);
  EXPECT_EQ(percent->local, "annv%evil.example");
  EXPECT_EQ(percent->domain, "tinhmau.test");
  auto v4 = parse_path("<root@[192.0.2.1]>", false);
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->address_literal);
  EXPECT_TRUE(parse_path("<root@[IPv6:2001:db8::1]>", false)->address_literal);
  EXPECT_FALSE(parse_path("<root@[300.0.0.1]>", false));
  EXPECT_FALSE(parse_path("<annv>", false)) << "unqualified names are not addresses";
  EXPECT_FALSE(parse_path("<a@b@c.example>", false));
  EXPECT_FALSE(parse_path("<.a@b.example>", false));
  EXPECT_FALSE(parse_path("<a..b@b.example>", false));
  EXPECT_FALSE(parse_path("<a@-b.example>", false));
  EXPECT_FALSE(parse_path("<" + std::string(65, 'a') + "@b.example>", false));
  EXPECT_FALSE(parse_path("a@b.example", false));
}

TEST(SmtpPaths, Utf8AddressesAreFlagged) {
  auto p = parse_path("<nguyễn.văn.an@tỉnhmẫu.việtnam>", false);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->utf8);
  EXPECT_FALSE(parse_path("<annv@tinhmau.test>", false)->utf8);
  EXPECT_EQ(parse_path("<AnNv@TinhMau.Test>", false)->domain, "tinhmau.test") << "domains are case-folded, local parts kept";
}

TEST(SmtpLimits, LongLinesAndBareLineEnds) {
  std::string long_mail = "MAIL FROM:<" + std::string(600, 'a') + "@b.example>\r\n";
  auto e = grind_commands(long_mail + "NOOP\r\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], "500 5.5.2");
  EXPECT_EQ(e[1], "verb7 []") << "the session goes on after a refused line (NOOP)";
  // An AUTH line may be long (RFC 4954), up to 12 288 octets.
  auto auth = grind_commands("AUTH PLAIN " + std::string(5000, 'A') + "\r\n");
  EXPECT_EQ(auth[0].substr(0, 6), "verb13");
  // Beyond every limit: refused once, the rest of the line skipped, then back in step.
  auto huge = commands({std::string(20000, 'x'), std::string(20000, 'x'), "\r\nQUIT\r\n"});
  ASSERT_EQ(huge.size(), 2u);
  EXPECT_EQ(huge[0], "500 5.5.2");
  EXPECT_EQ(huge[1], "verb8 []");
  EXPECT_EQ(grind_commands("NOOP\nQUIT\r\n"), std::vector<std::string>{"521 5.5.2 close"});
  EXPECT_EQ(grind_commands("NOOP\rQUIT\r\n"), std::vector<std::string>{"521 5.5.2 close"});
}

// DATA -------------------------------------------------------------------------------------

std::vector<std::string> data_events(const test::Chunks& chunks, std::uint64_t max = 1 << 20) {
  DataReader r(max);
  std::vector<std::string> out;
  // What follows the end of data: the reader's leftover plus the chunks not yet fed.
  auto rest_after = [&](std::size_t i) {
    std::string rest = r.take_rest();
    for (std::size_t j = i + 1; j < chunks.size(); ++j) rest.append(chunks[j]);
    return "rest:" + rest;
  };
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    r.feed(chunks[i]);
    auto e = r.next();
    if (std::holds_alternative<NeedMore>(e)) continue;
    if (auto* m = std::get_if<Message>(&e)) {
      out.push_back("message:" + m->data);
      out.push_back(rest_after(i));
      return out;
    }
    auto& err = std::get<Error>(e);
    out.push_back(std::to_string(err.code) + (err.close ? " close" : ""));
    if (!err.close) out.push_back(rest_after(i));
    return out;
  }
  return out;
}

std::vector<std::string> grind_data(std::string_view in) { return test::grind(in, [](const test::Chunks& c) { return data_events(c); }); }

TEST(SmtpData, EndsAtCrLfDotCrLfAndUnstuffs) {
  auto e = grind_data("Subject: Thông báo\r\n\r\n..dòng bắt đầu bằng dấu chấm\r\n.\r\nQUIT\r\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], "message:Subject: Thông báo\r\n\r\n.dòng bắt đầu bằng dấu chấm\r\n");
  EXPECT_EQ(e[1], "rest:QUIT\r\n") << "pipelined commands after the end of data are kept";
  EXPECT_EQ(grind_data(".\r\n")[0], "message:");
  EXPECT_EQ(grind_data("a\r\n.b\r\n.\r\n")[0], "message:a\r\nb\r\n");
}

// SMTP smuggling (CVE-2023-51764/51765/51766 family): none of these end a message early or
// pass through; each is refused and the connection closed, so nothing partial is stored.
TEST(SmtpData, SmugglingSequencesAreRefused) {
  for (std::string attack : std::vector<std::string>{"Hi\r\n\n.\r\nMAIL FROM:<x@evil.example>\r\n.\r\n",
                             "Hi\r\n.\n\r\nMAIL FROM:<x@evil.example>\r\n.\r\n",
                             "Hi\r.\r\nMAIL FROM:<x@evil.example>\r\n.\r\n",
                             "Hi\r\n.\r\r\n.\r\n",
                             "Hi\n.\nMAIL FROM:<x@evil.example>\r\n.\r\n",
                             std::string("Hi\0\r\n.\r\n", 8)}) {
    auto e = grind_data(attack);
    ASSERT_EQ(e.size(), 1u) << attack;
    EXPECT_EQ(e[0], "521 close") << attack;
  }
}

TEST(SmtpData, OversizeIsReportedAtTheEndOfData) {
  std::string body(3000, 'x');
  auto e = data_events({body + "\r\n.\r\nQUIT\r\n"}, 1000);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], "552");
  EXPECT_EQ(e[1], "rest:QUIT\r\n") << "the session stays in step with the client";
}

TEST(SmtpPath, Utf8AddressesMustBeWellFormed) {
  auto ok = parse_path("<ng\xe1\xbb\x8d" "c@t\xe1\xbb\x89nh.vn>", false);  // ngọc@tỉnh.vn
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->utf8);
  EXPECT_FALSE(parse_path("<a\xff@example.org>", false).has_value());             // not UTF-8
  EXPECT_FALSE(parse_path("<a\xc0\xaf@example.org>", false).has_value());        // overlong '/'
  EXPECT_FALSE(parse_path("<a\xed\xa0\x80@example.org>", false).has_value());   // a surrogate
  EXPECT_FALSE(parse_path("<a\xe1\xbb@example.org>", false).has_value());        // truncated
  EXPECT_TRUE(valid_utf8("Nguy\xe1\xbb\x85n V\xc4\x83n An"));
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));                                 // past U+10FFFF
}

}  // namespace
}  // namespace congvu::smtp::proto