// The IMAP wire layer (imap/proto) and the MIME structure (mailstore/mime) without sessions.
#include <gtest/gtest.h>

#include "common/codec.hpp"
#include "imap/proto/command.hpp"
#include "imap/proto/fetch.hpp"
#include "imap/proto/search.hpp"
#include "imap/proto/url.hpp"
#include "mailstore/mime.hpp"

namespace congvu::imap::proto {
namespace {

using Kind = CommandReader::Kind;

TEST(ImapReader, CommandsSplitAnywhere) {
  const std::string wire = "a1 LOGIN annv secret\r\na2 NOOP\r\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    CommandReader r;
    r.feed(wire.substr(0, cut));
    std::vector<std::string> got;
    for (auto e = r.next(); e.kind == Kind::command; e = r.next()) got.push_back(e.text);
    r.feed(wire.substr(cut));
    for (auto e = r.next(); e.kind == Kind::command; e = r.next()) got.push_back(e.text);
    ASSERT_EQ(got.size(), 2u) << cut;
    EXPECT_EQ(got[0], "a1 LOGIN annv secret\r\n");
    EXPECT_EQ(got[1], "a2 NOOP\r\n");
  }
}

TEST(ImapReader, SynchronisingLiteralAsksToContinue) {
  CommandReader r;
  r.feed("a APPEND INBOX {5}\r\n");
  EXPECT_EQ(r.next().kind, Kind::continuation);
  EXPECT_EQ(r.next().kind, Kind::need_more);
  r.feed("hel");
  EXPECT_EQ(r.next().kind, Kind::need_more);
  r.feed("lo\r\n");
  auto e = r.next();
  ASSERT_EQ(e.kind, Kind::command);
  EXPECT_EQ(e.text, "a APPEND INBOX {5}\r\nhello\r\n");
  Parser p(e.text);
  EXPECT_EQ(p.tag(), "a");
  p.sp();
  EXPECT_EQ(p.keyword(), "APPEND");
  p.sp();
  EXPECT_EQ(p.astring(), "INBOX");
  p.sp();
  EXPECT_EQ(p.literal(), "hello");
  p.end();
}

TEST(ImapReader, LiteralLimits) {
  CommandReader r(Limits{1000, 10, 2000});
  r.feed("a LOGIN {11}\r\n");
  auto e = r.next();
  EXPECT_EQ(e.kind, Kind::error);  // refused before the client sends it
  EXPECT_EQ(e.tag, "a");
  EXPECT_TRUE(e.too_big);
  // A non-synchronising literal comes anyway: read, dropped, one error at its end.
  r.feed("b LOGIN {11+}\r\n01234567890 x\r\nc NOOP\r\n");
  e = r.next();
  EXPECT_EQ(e.kind, Kind::error);
  EXPECT_EQ(e.tag, "b");
  e = r.next();
  ASSERT_EQ(e.kind, Kind::command);
  EXPECT_EQ(e.text, "c NOOP\r\n");
  // An over-long line is skipped to its end, whatever the split.
  r.feed("d " + std::string(1500, 'A'));
  EXPECT_EQ(r.next().kind, Kind::need_more);
  r.feed(std::string(10, 'A') + "\r\ne NOOP\r\n");
  e = r.next();
  EXPECT_EQ(e.kind, Kind::error);
  EXPECT_EQ(e.tag, "d");
  EXPECT_EQ(r.next().text, "e NOOP\r\n");
}

TEST(ImapParser, Grammar) {
  Parser p("t FETCH 1:3,5,7:* (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> FLAGS) \"q\\\"x\" NIL\r\n");
  p.tag();
  p.sp();
  p.keyword();
  p.sp();
  SeqSet s = p.sequence_set();
  EXPECT_EQ(s.expand(9), (std::vector<std::uint32_t>{1, 2, 3, 5, 7, 8, 9}));
  EXPECT_TRUE(s.contains(8, 9));
  EXPECT_FALSE(s.contains(4, 9));
  p.sp();
  p.expect('(');
  EXPECT_EQ(p.fetch_att(), "BODY.PEEK[HEADER.FIELDS (From To)]<0.100>");
  p.sp();
  EXPECT_EQ(p.fetch_att(), "FLAGS");
  p.expect(')');
  p.sp();
  EXPECT_EQ(p.string(), "q\"x");
  p.sp();
  EXPECT_FALSE(p.nstring().has_value());
  p.end();
  EXPECT_THROW(Parser("t FETCH 0\r\n").sequence_set(), ParseError);
  Parser bad("\"unterminated\r\n");
  EXPECT_THROW(bad.string(), ParseError);
  Parser short_lit("{10}\r\nabc\r\n");
  EXPECT_THROW(short_lit.literal(), ParseError);
}

TEST(ImapTyped, SearchSortThreadAndFetch) {
  Parser p("a SEARCH RETURN (MIN COUNT PARTIAL -1:-10) CHARSET UTF-8 OR FROM an (SEEN NOT UID 3:*)\r\n");
  p.tag();
  p.sp();
  p.keyword();
  auto s = parse_search(p);
  EXPECT_TRUE(s.ret.given && s.ret.min && s.ret.count && !s.ret.all);
  ASSERT_TRUE(s.ret.partial);
  EXPECT_EQ(s.ret.partial->text(), "-1:-10");
  EXPECT_EQ(*s.charset, "UTF-8");
  ASSERT_EQ(s.root.kids.size(), 1u);
  EXPECT_EQ(s.root.kids[0].kind, SearchKey::or_);
  EXPECT_EQ(s.root.kids[0].kids[0].a, "FROM");
  EXPECT_EQ(s.root.kids[0].kids[0].b, "an");  // as written: the session folds it
  EXPECT_TRUE(s.root.uses(SearchKey::uids));

  auto parse = [](const std::string& text, auto fn) {
    Parser q(text);
    q.tag();
    q.sp();
    q.keyword();
    return fn(q);
  };
  auto sort = parse("a SORT RETURN (ALL) (REVERSE DATE DISPLAYFROM) utf-8 ALL\r\n", parse_sort);
  ASSERT_EQ(sort.criteria.size(), 2u);
  EXPECT_TRUE(sort.criteria[0].reverse);
  EXPECT_EQ(sort.criteria[1].key, SortCriterion::displayfrom);
  EXPECT_EQ(sort.charset, "UTF-8");
  EXPECT_THROW(parse("a SORT (REVERSE) UTF-8 ALL\r\n", parse_sort), ParseError);
  EXPECT_THROW(parse("a SEARCH RETURN (ALL PARTIAL 1:5) ALL\r\n", parse_search), ParseError);
  EXPECT_THROW(parse("a SEARCH RETURN (PARTIAL 1:-5) ALL\r\n", parse_search), ParseError);
  EXPECT_THROW(parse("a SEARCH RETURN (PARTIAL 0:5) ALL\r\n", parse_search), ParseError);
  auto thread = parse("a THREAD references US-ASCII SUBJECT x\r\n", parse_thread);
  EXPECT_EQ(thread.algorithm, "REFERENCES");
  EXPECT_THROW(parse("a THREAD REFS UTF-8 ALL\r\n", parse_thread), ParseError);

  auto f = parse("a FETCH 1:* (UID BODY.PEEK[1.HEADER.FIELDS (From To)]<0.10>) (CHANGEDSINCE 5 PARTIAL 1:2)\r\n",
                 parse_fetch);
  ASSERT_EQ(f.items.size(), 2u);
  EXPECT_EQ(f.items[1].label, "BODY[1.HEADER.FIELDS (FROM TO)]");
  EXPECT_TRUE(f.items[1].peek);
  EXPECT_EQ(f.items[1].partial->second, 10u);
  EXPECT_EQ(*f.changed_since, 5u);
  EXPECT_EQ(f.partial->text(), "1:2");
  EXPECT_EQ(parse("a FETCH 1 FULL\r\n", parse_fetch).items.size(), 5u);
  EXPECT_THROW(parse("a FETCH 1 (BODY[MIME])\r\n", parse_fetch), ParseError);
}

TEST(ImapTyped, PartialRangesPickPages) {
  auto range = [](const std::string& text) {
    std::string line = text + "\r\n";
    Parser p(line);
    return parse_partial_range(p);
  };
  using Page = std::optional<std::pair<std::size_t, std::size_t>>;
  EXPECT_EQ(range("1:3").within(10), Page(std::make_pair(0u, 2u)));
  EXPECT_EQ(range("3:1").within(10), Page(std::make_pair(0u, 2u)));  // either order
  EXPECT_EQ(range("9:20").within(10), Page(std::make_pair(8u, 9u)));
  EXPECT_EQ(range("11:20").within(10), std::nullopt);
  EXPECT_EQ(range("-1:-3").within(10), Page(std::make_pair(7u, 9u)));  // the last three
  EXPECT_EQ(range("-5:-20").within(10), Page(std::make_pair(0u, 5u)));
  EXPECT_EQ(range("-11:-20").within(10), std::nullopt);
  EXPECT_EQ(range("1:1").within(0), std::nullopt);
}

TEST(ImapUrls, TheFormsCatenateTakes) {
  auto u = parse_imap_url("imap://annv;AUTH=*@mail.tinhmau.test:993/D%E1%BB%B1%20%C3%A1n;UIDVALIDITY=7/;UID=20/;SECTION=1.MIME/;PARTIAL=0.100");
  ASSERT_TRUE(u);
  EXPECT_EQ(*u->user, "annv");
  EXPECT_EQ(*u->host, "mail.tinhmau.test");
  EXPECT_EQ(u->mailbox, "D\xe1\xbb\xb1 \xc3\xa1n");  // "Dự án"
  EXPECT_EQ(*u->uidvalidity, 7u);
  EXPECT_EQ(u->uid, 20u);
  EXPECT_EQ(u->section, "1.MIME");
  EXPECT_EQ(u->partial->first, 0u);
  EXPECT_EQ(*u->partial->second, 100u);
  auto rel = parse_imap_url("/INBOX/;uid=3");
  ASSERT_TRUE(rel);
  EXPECT_EQ(rel->mailbox, "INBOX");
  EXPECT_FALSE(rel->host);
  auto here = parse_imap_url(";UID=4/;SECTION=TEXT");
  ASSERT_TRUE(here);
  EXPECT_TRUE(here->relative_mailbox);
  EXPECT_EQ(here->section, "TEXT");
  EXPECT_TRUE(parse_imap_url("/INBOX/;UID=1;EXPIRE=2026-12-02T00:00:00Z;URLAUTH=submit+annv:internal:91354a")->urlauth);
  for (const char* bad : {"", "http://example.org/", "/INBOX", "/INBOX/;UID=0", "/INBOX/;UID=x", "/%zz/;UID=1",
                          "/INBOX;UIDVALIDITY=0/;UID=1", "/IN BOX/;UID=1", "/INBOX/;UID=1/;SECTION=", "imap://host",
                          "imap://h:99999/INBOX/;UID=1", "/INBOX/;UID=1/;PARTIAL=1.0", "/INBOX/;SECTION=1",
                          "/INBOX%0d%0a/;UID=1"})
    EXPECT_FALSE(parse_imap_url(bad)) << bad;
}

TEST(ImapOutput, QuotingAndLiterals) {
  EXPECT_EQ(quoted_or_literal("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quoted_or_literal("a\r\nb"), "{4}\r\na\r\nb");
  EXPECT_EQ(quoted_or_literal("Văn"), "{4}\r\nVăn");
  EXPECT_EQ(quoted_or_literal("Văn", true), "\"Văn\"");
  EXPECT_EQ(astring("INBOX"), "INBOX");
  EXPECT_EQ(astring("NIL"), "\"NIL\"");
  EXPECT_EQ(astring("Dự án"), "{8}\r\nDự án");
}

TEST(ImapNames, ModifiedUtf7) {
  EXPECT_EQ(mutf7_encode("Dự án"), "D&HvE- &AOE-n");
  EXPECT_EQ(mutf7_encode("A&B"), "A&-B");
  EXPECT_EQ(mutf7_encode("日本語"), "&ZeVnLIqe-");
  for (std::string s : {"Dự án/2026", "Công văn đến", "x&y", "😀 emoji", "plain"})
    EXPECT_EQ(mutf7_decode(mutf7_encode(s)), s) << s;
  EXPECT_FALSE(mutf7_decode("&AGE-"));  // 'a' must not be encoded
  EXPECT_FALSE(mutf7_decode("&Zz"));    // unterminated
  EXPECT_FALSE(mutf7_decode("Vă"));     // 8-bit is not modified UTF-7
}

TEST(ImapDates, ParseAndFormat) {
  auto t = parse_date_time("17-Jul-1996 02:44:25 -0700");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, 837596665000);
  EXPECT_EQ(format_date_time(*t), "17-Jul-1996 09:44:25 +0000");
  EXPECT_TRUE(parse_date_time(" 7-Jul-1996 02:44:25 +0000"));
  EXPECT_FALSE(parse_date_time("17-Jux-1996 02:44:25 -0700"));
  EXPECT_FALSE(parse_date_time("17-Jul-1996 25:44:25 -0700"));
  EXPECT_EQ(parse_date("1-Feb-1994"), 760060800000);
}

}  // namespace
}  // namespace congvu::imap::proto

namespace congvu::mailstore::mime {
namespace {

const std::string kNested =
    "From: \"Trần, B\" <b@x.test>\r\nSubject: =?utf-8?q?C=C3=B4ng_v=C4=83n?= 12\r\n"
    "Content-Type: multipart/mixed; boundary=o\r\n\r\n"
    "--o\r\nContent-Type: text/plain; charset=windows-1258\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    "Nguy=EA=DEn V=E3n An\r\n"
    "--o\r\nContent-Type: message/rfc822\r\n\r\n"
    "Subject: inner\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n"
    "--i\r\n\r\ntext\r\n--i\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--i--\r\n"
    "--o--\r\n";

TEST(Mime, NestedStructure) {
  Part root = parse(kNested);
  ASSERT_TRUE(root.is_multipart());
  ASSERT_EQ(root.parts.size(), 2u);
  EXPECT_TRUE(root.parts[1].is_message());
  const Part* html = find(root, "2.2");
  ASSERT_NE(html, nullptr);
  EXPECT_EQ(kNested.substr(html->body, html->end - html->body), "<p>x</p>");
  EXPECT_EQ(find(root, "3"), nullptr);
  EXPECT_EQ(find(root, "1.1"), &root.parts[0]);  // a single part is its own part 1
  EXPECT_EQ(bodystructure(kNested, root, false),
            // Lines and sizes as Dovecot counts them: the line end before a delimiter belongs to
            // the delimiter, except after a nested close delimiter (the inner epilogue).
            "((\"text\" \"plain\" (\"charset\" \"windows-1258\") NIL NIL \"quoted-printable\" 20 0)"
            "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 129 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) "
            "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 0)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 8 0) \"alternative\") 11) \"mixed\")");
  // windows-1258 writes ễ as ê + a combining tilde: decoded and composed (NFC).
  EXPECT_EQ(decode_body(kNested, root.parts[0]), "Nguyễn Văn An");
}

TEST(Mime, WordsSubjectsDates) {
  EXPECT_EQ(decode_words("=?utf-8?q?C=C3=B4ng_v=C4=83n?= =?utf-8?b?IHPhu5E=?= 12"), "Công văn số 12");
  EXPECT_EQ(decode_words("plain =?x-unknown?q?a?= text"), "plain a text");
  EXPECT_EQ(base_subject("Re: Fwd: [tinhmau] Re[2]: Công văn (fwd)"), "công văn");
  EXPECT_EQ(parse_rfc5322_date("Sun, 01 Nov 2026 08:37:00 +0700"), 1793497020000);
  EXPECT_FALSE(parse_rfc5322_date("yesterday"));
  EXPECT_EQ(transfer_decode("SGVs\r\nbG8=", "BASE64"), "Hello");
  EXPECT_FALSE(transfer_decode("x", "x-uuencode"));
}

TEST(Mime, SummaryRoundTripAndCorruption) {
  Summary s = summarize(kNested);
  EXPECT_EQ(s.subject, "công văn 12");
  EXPECT_EQ(s.from, "b");
  EXPECT_EQ(s.parts, 6u);
  std::string enc = encode(s);
  Summary back = decode_summary(enc);
  EXPECT_EQ(back.bodystructure, s.bodystructure);
  EXPECT_EQ(back.envelope, s.envelope);
  EXPECT_THROW(decode_summary(enc.substr(0, enc.size() - 1)), codec::DecodeError);
  EXPECT_THROW(decode_summary(enc + "x"), codec::DecodeError);
}

TEST(Mime, HostileNestingIsBounded) {
  std::string msg;
  for (int i = 0; i < 500; ++i) msg += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" + std::to_string(i) + "\r\n";
  Part root = parse(msg);
  int depth = 0;
  for (const Part* p = &root; !p->parts.empty(); p = &p->parts.front()) ++depth;
  EXPECT_LE(depth, kMaxDepth);
  EXPECT_FALSE(bodystructure(msg, root, true).empty());
}

}  // namespace
}  // namespace congvu::mailstore::mime
