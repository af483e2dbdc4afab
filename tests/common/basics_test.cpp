// codec, CSV, text folding, crypto helpers, ids and dates.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "common/html.hpp"
#include "common/codec.hpp"
#include "common/crypto.hpp"
#include "common/csv.hpp"
#include "common/web.hpp"
#include "common/faults.hpp"
#include "common/proxy_protocol.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/text.hpp"
#include "common/time.hpp"

namespace congvu {
namespace {

TEST(Codec, RoundTrip) {
  codec::Writer w;
  w.u8(7).varint(0).varint(300).varint(~0ULL).i64(-5).str("Nguyễn").strs({"a", "", "b"});
  codec::Reader r(w.data());
  EXPECT_EQ(r.u8(), 7);
  EXPECT_EQ(r.varint(), 0u);
  EXPECT_EQ(r.varint(), 300u);
  EXPECT_EQ(r.varint(), ~0ULL);
  EXPECT_EQ(r.i64(), -5);
  EXPECT_EQ(r.str(), "Nguyễn");
  EXPECT_EQ(r.strs(), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_NO_THROW(r.expect_done());
}

TEST(Codec, TruncatedOrOversizedInputThrows) {
  codec::Writer w;
  w.str("hello");
  std::string full = w.data();
  for (std::size_t cut = 0; cut < full.size(); ++cut) {
    codec::Reader r(std::string_view(full).substr(0, cut));
    EXPECT_THROW(r.str(), codec::DecodeError) << "cut at " << cut;
  }
  codec::Reader huge("\xff\xff\xff\xff\x0f");  // a length far past the end
  EXPECT_THROW(huge.str(), codec::DecodeError);
  std::string ff(11, '\xff');
  codec::Reader overflow(ff);
  EXPECT_THROW(overflow.varint(), codec::DecodeError);
  codec::Reader padded("\x86\x00");  // 6 written in two bytes
  EXPECT_THROW(padded.varint(), codec::DecodeError);
  codec::Reader trailing("\x01\x02");
  trailing.u8();
  EXPECT_THROW(trailing.expect_done(), codec::DecodeError);
}

TEST(Codec, BigEndianKeysSort) {
  std::string a, b;
  codec::put_be64(a, 255);
  codec::put_be64(b, 256);
  EXPECT_LT(a, b);
  EXPECT_EQ(codec::get_be64(b), 256u);
  EXPECT_THROW(codec::get_be32("ab"), codec::DecodeError);
}

TEST(Csv, QuotesCommasNewlinesAndCrlf) {
  auto rows = parse_csv("\xEF\xBB\xBF" "a,b,c\r\n\"x, y\",\"he said \"\"hi\"\"\",\"two\nlines\"\r\n\r\nlast,,\n");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].fields, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ((*rows)[1].fields, (std::vector<std::string>{"x, y", "he said \"hi\"", "two\nlines"}));
  EXPECT_EQ((*rows)[1].line, 2u);
  EXPECT_EQ((*rows)[2].line, 5u) << "the quoted line break and the blank line count";
  EXPECT_EQ((*rows)[2].fields, (std::vector<std::string>{"last", "", ""}));
}

TEST(Csv, ErrorsNameTheLine) {
  auto e1 = parse_csv("a,b\n\"open,b\n");
  ASSERT_FALSE(e1);
  EXPECT_EQ(e1.error().message.rfind("line 2:", 0), 0u) << e1.error().message;
  auto e2 = parse_csv("a,b\nx\"y,z\n");
  ASSERT_FALSE(e2);
  EXPECT_EQ(e2.error().message.rfind("line 2:", 0), 0u);
  auto e3 = parse_csv("a,b\n\"q\"x,z\n");
  ASSERT_FALSE(e3);
  auto e4 = parse_csv("a\rb\n");
  ASSERT_FALSE(e4);
}

// Excel's "Unicode Text": UTF-16 with a byte order mark, tab-separated, CRLF.
std::string utf16(std::u16string_view s, bool big_endian) {
  std::string out = big_endian ? "\xFE\xFF" : "\xFF\xFE";
  for (char16_t c : s) {
    char hi = static_cast<char>(c >> 8), lo = static_cast<char>(c & 0xFF);
    out += big_endian ? hi : lo;
    out += big_endian ? lo : hi;
  }
  return out;
}

TEST(Csv, ReadsUtf16AndTabSeparatedExports) {
  for (bool be : {false, true}) {
    auto rows = parse_csv(utf16(u"staff_no\tfull_name\r\n001\tNguyễn Văn An\r\n002\t\"Trần, Thị \U0001F600\"\r\n", be), "staff.csv");
    ASSERT_TRUE(rows) << rows.error().message;
    ASSERT_EQ(rows->size(), 3u);
    EXPECT_EQ((*rows)[1].fields, (std::vector<std::string>{"001", "Nguyễn Văn An"}));
    EXPECT_EQ((*rows)[2].fields, (std::vector<std::string>{"002", "Trần, Thị \xF0\x9F\x98\x80"}));
    EXPECT_EQ((*rows)[2].line, 3u);
  }
  // A comma in the header keeps commas as the separator, tabs inside fields stay.
  auto commas = parse_csv("a,b\nx\ty,z\n");
  ASSERT_TRUE(commas);
  EXPECT_EQ((*commas)[1].fields, (std::vector<std::string>{"x\ty", "z"}));
  // UTF-16 without its byte order mark, or cut in half, names the file, the line and the fix.
  std::string no_bom = utf16(u"a,b\r\n1,2\r\n", false).substr(2);
  auto e1 = parse_csv(no_bom, "staff.csv");
  ASSERT_FALSE(e1);
  EXPECT_EQ(e1.error().message.rfind("staff.csv:1: a NUL byte: the file looks like UTF-16", 0), 0u) << e1.error().message;
  EXPECT_NE(e1.error().message.find("CSV UTF-8"), std::string::npos);
  auto e2 = parse_csv(utf16(u"a,b\r\n1,2", false) + "x", "staff.csv");
  ASSERT_FALSE(e2);
  EXPECT_NE(e2.error().message.find("staff.csv:"), std::string::npos);
  EXPECT_NE(e2.error().message.find("UTF-16"), std::string::npos);
  std::u16string lone = u"a,b\n1,";
  lone += char16_t(0xD800);
  auto e3 = parse_csv(utf16(lone, false), "units.csv");
  ASSERT_FALSE(e3);
  EXPECT_EQ(e3.error().message.rfind("units.csv:2: the file is UTF-16 with a broken surrogate pair", 0), 0u) << e3.error().message;
}

std::string proxy_v4(std::string_view src, std::uint16_t port, std::string tlv = "") {
  std::string body = std::string(src) + std::string("\x0a\x00\x00\x01", 4) + char(port >> 8) + char(port & 0xff) + std::string("\x00\x19", 2) + tlv;
  return std::string(kProxyV2Signature) + "\x21\x11" + char(body.size() >> 8) + char(body.size() & 0xff) + body;
}

TEST(ProxyProtocol, ReadsTheClientOfAV2Header) {
  std::string h = proxy_v4(std::string("\xcb\x00\x71\x07", 4), 40000, std::string("\x03\x00\x04" "abcd", 7));
  auto fixed = parse_proxy_v2_fixed(std::string_view(h).substr(0, kProxyV2Fixed));
  ASSERT_EQ(fixed.kind, ProxyHeader::proxy);
  EXPECT_EQ(fixed.body, h.size() - kProxyV2Fixed);
  auto whole = parse_proxy_v2(h);
  ASSERT_EQ(whole.kind, ProxyHeader::proxy) << whole.error;
  EXPECT_EQ(whole.source, "203.0.113.7");
  EXPECT_EQ(whole.source_port, 40000);
  // IPv6
  std::string body(16, '\0');
  body[0] = '\x20';
  body[1] = '\x01';
  body[15] = '\x07';
  body += std::string(16, '\0') + std::string("\x00\x05\x01\xbb", 4);
  std::string h6 = std::string(kProxyV2Signature) + "\x21\x21" + char(0) + char(body.size()) + body;
  EXPECT_EQ(parse_proxy_v2(h6).source, "2001::7");
  // LOCAL (the balancer's health check) names nobody.
  EXPECT_EQ(parse_proxy_v2(std::string(kProxyV2Signature) + std::string("\x20\x00\x00\x00", 4)).kind, ProxyHeader::local);
}

TEST(ProxyProtocol, RefusesWhatIsNotAV2Header) {
  EXPECT_EQ(parse_proxy_v2_fixed("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n").kind, ProxyHeader::invalid);  // v1
  std::string v1 = std::string(kProxyV2Signature) + std::string("\x11\x11\x00\x0c", 4) + std::string(12, 'x');
  EXPECT_NE(parse_proxy_v2(v1).error.find("version 1"), std::string::npos);
  std::string cmd = std::string(kProxyV2Signature) + std::string("\x22\x11\x00\x0c", 4) + std::string(12, 'x');
  EXPECT_EQ(parse_proxy_v2(cmd).kind, ProxyHeader::invalid);
  std::string huge = std::string(kProxyV2Signature) + std::string("\x21\x11\xff\xff", 4);
  EXPECT_NE(parse_proxy_v2_fixed(huge).error.find("too long"), std::string::npos);
  std::string short4 = std::string(kProxyV2Signature) + std::string("\x21\x11\x00\x03", 4) + "abc";
  EXPECT_EQ(parse_proxy_v2(short4).kind, ProxyHeader::invalid);
  std::string unix_family = std::string(kProxyV2Signature) + std::string("\x21\x31\x00\x04", 4) + "abcd";
  EXPECT_EQ(parse_proxy_v2(unix_family).kind, ProxyHeader::invalid);
  std::string h = proxy_v4("\x01\x02\x03\x04", 1);
  EXPECT_EQ(parse_proxy_v2(h).source, "1.2.3.4") << parse_proxy_v2(h).error;
  EXPECT_EQ(parse_proxy_v2(h.substr(0, h.size() - 1)).kind, ProxyHeader::invalid) << "length must match";
}

// Return targets (the login and second-factor pages' return_to): permanent vectors.
TEST(Web, ReturnTargetsStayOnThisOrigin) {
  for (std::string_view ok : std::initializer_list<std::string_view>{"/", "/account", "/oidc/authorize?client_id=a&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=x",
                              "/admin/people?q=nguy%E1%BB%85n", "/%2F%2Fevil.example"})
    EXPECT_TRUE(web::local_path(ok)) << ok;
  for (std::string_view bad : std::initializer_list<std::string_view>{"", "x", "//evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example",
                               "/\r\nSet-Cookie: sid=attacker", "/ok\r\nX-Injected: 1", std::string_view("/a\0b", 4),
                               "/a b", "/a#frag", "/a\\b", "https://evil.example/", "/caf\xc3\xa9", "/\x7f"})
    EXPECT_FALSE(web::local_path(bad)) << bad;
  EXPECT_FALSE(web::local_path("/" + std::string(2000, 'a')));
}

TEST(Web, FormsAreDecodedByBoostUrlAndStrictly) {
  auto f = web::decode_form("a=x%20y+z&b&c=%C4%90%E1%BB%97&&d=");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->at("a"), "x y z");
  EXPECT_EQ(f->at("b"), "");
  EXPECT_EQ(f->at("c"), "Đỗ");
  EXPECT_EQ(f->at("d"), "");
  EXPECT_EQ(f->size(), 4u);
  EXPECT_TRUE(web::decode_form("")) << "an empty form";
  for (const char* bad : {"a=%zz", "a=%4", "a=x y", "a=1&a=2", "a=1#frag", "a=\"q\"", "a=<b>", "a=\x01"})
    EXPECT_FALSE(web::decode_form(bad)) << bad;
}

TEST(Web, HeadersWithCrLfOrNulAreNotSent) {
  net::HttpResponse r{302, "text/html", {{"Location", "/ok"}}, ""};
  EXPECT_TRUE(net::headers_safe(r));
  r.headers["Set-Cookie"] = "a=1; Secure\nb=2; Secure";  // the one place "\n" separates values
  EXPECT_TRUE(net::headers_safe(r));
  for (std::string v : std::initializer_list<std::string>{"/ok\r\nSet-Cookie: x=y", "/ok\nX: y", std::string("/ok\0", 4)}) {
    net::HttpResponse bad = r;
    bad.headers["Location"] = v;
    EXPECT_FALSE(net::headers_safe(bad));
  }
  net::HttpResponse cookie = r;
  cookie.headers["Set-Cookie"] = "a=1\r\nX: y";
  EXPECT_FALSE(net::headers_safe(cookie));
  net::HttpResponse name = r;
  name.headers["X Bad"] = "1";
  EXPECT_FALSE(net::headers_safe(name));
  net::HttpResponse type = r;
  type.content_type = "text/html\r\nX: y";
  EXPECT_FALSE(net::headers_safe(type));
}

TEST(Faults, ThrowAtTheNthHitOnce) {
  ASSERT_FALSE(faults::arm("smtp.deliver"));
  ASSERT_FALSE(faults::arm("=1"));
  ASSERT_TRUE(faults::arm("test.point=2,other=1"));
  EXPECT_NO_THROW(faults::point("test.point"));
  EXPECT_THROW(faults::point("test.point"), std::runtime_error);
  EXPECT_NO_THROW(faults::point("test.point"));
  EXPECT_NO_THROW(faults::point("unarmed"));
  ASSERT_TRUE(faults::arm(""));
  EXPECT_NO_THROW(faults::point("other"));
}

TEST(Csv, TableChecksColumnsAndFieldCounts) {
  auto missing = CsvTable::parse("a,b\n1,2\n", {"a", "c"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "line 1: missing column 'c'");
  auto ragged = CsvTable::parse("a,b\n1,2\n1,2,3\n", {"a"});
  ASSERT_FALSE(ragged);
  EXPECT_EQ(ragged.error().message.rfind("line 3:", 0), 0u);
  auto ok = CsvTable::parse("a,b\n1,2\n", {"b"});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->get(ok->rows()[0], "b"), "2");
  EXPECT_FALSE(CsvTable::parse("", {}));
  EXPECT_FALSE(CsvTable::parse("a,a\n", {}));
}

TEST(Text, FoldStripsDiacriticsAndCase) {
  EXPECT_EQ(text::fold("Nguyễn Văn An"), "nguyen van an");
  EXPECT_EQ(text::fold("  ĐẶNG   văn  Đức "), "dang van duc");
  EXPECT_EQ(text::fold("Phòng Kế hoạch - Tài chính"), "phong ke hoach tai chinh");
  EXPECT_EQ(text::fold("Hòa"), text::fold("Hoà"));
  EXPECT_EQ(text::fold(""), "");
  EXPECT_EQ(text::fold_tokens("Trần Thị Bích Ngọc"), (std::vector<std::string>{"tran", "thi", "bich", "ngoc"}));
}

TEST(Text, NfcComposesDecomposedInput) {
  std::string nfd = "Nguye\xcc\x82\xcc\x83n";  // e + combining circumflex + combining tilde
  EXPECT_EQ(text::nfc(nfd), "Nguyễn");
  EXPECT_EQ(text::fold(nfd), "nguyen");
}

TEST(Text, Utf8Validation) {
  EXPECT_TRUE(text::valid_utf8("Hà Nội"));
  EXPECT_FALSE(text::valid_utf8("\xc3"));
  EXPECT_FALSE(text::valid_utf8("\xed\xa0\x80"));  // a surrogate
  EXPECT_FALSE(text::valid_utf8("H\xe0 N\xf4i"));  // windows-1258 bytes
}

TEST(Crypto, Base64) {
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff", 2)})
    EXPECT_EQ(crypto::base64_decode(crypto::base64_encode(s)), s);
  EXPECT_EQ(crypto::base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(crypto::base64_decode("Zm9v!mFy"));
  EXPECT_FALSE(crypto::base64_decode("Zm9"));
  EXPECT_FALSE(crypto::base64_decode("Zg==Zg=="));
}

TEST(Crypto, KnownDigest) {
  EXPECT_EQ(crypto::hex(crypto::sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(crypto::equal_constant_time("abc", "abc"));
  EXPECT_FALSE(crypto::equal_constant_time("abc", "abd"));
  EXPECT_FALSE(crypto::equal_constant_time("abc", "ab"));
}

TEST(PersonIdTest, IsUuidV7AndSortsByTime) {
  auto a = PersonId::make(1700000000000);
  auto b = PersonId::make(1700000000001);
  EXPECT_LT(a, b);
  std::string s = a.str();
  EXPECT_EQ(s.size(), 36u);
  EXPECT_EQ(s[14], '7');
  EXPECT_TRUE(s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
  EXPECT_EQ(PersonId::parse(s), a);
  EXPECT_FALSE(PersonId::parse("not-a-uuid"));
  EXPECT_FALSE(PersonId::parse(s.substr(0, 35) + "g"));
  auto c = PersonId::make(1700000000001), d = PersonId::make(1700000000001);
  EXPECT_LT(c, d) << "same millisecond: the counter keeps creation order";
  EXPECT_LT(b, c);
}

TEST(Time, DatesInHoChiMinhCity) {
  EXPECT_TRUE(valid_date("2028-02-29"));
  EXPECT_FALSE(valid_date("2026-02-29"));
  EXPECT_FALSE(valid_date("2026-13-01"));
  EXPECT_FALSE(valid_date("2026-1-01"));
  EXPECT_FALSE(valid_date("26-01-01xx"));
  // 2026-11-21T17:00:00Z is already 2026-11-22 in Asia/Ho_Chi_Minh (UTC+7).
  EXPECT_EQ(vn_date(1795280400000), "2026-11-22");
  EXPECT_EQ(vn_date(1795280400000 - 1), "2026-11-21");
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00.000Z");
}

TEST(Json, Quoting) {
  EXPECT_EQ(json_quote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(json_object({{"k", "v"}, {"x", "Đ"}}), "{\"k\":\"v\",\"x\":\"Đ\"}");
  // Ill-formed UTF-8 from a form field (a lone continuation byte, a truncated sequence, an
  // overlong form, a surrogate) becomes U+FFFD: the audit chain only ever holds valid JSON.
  const std::string lone = std::string("a\x80") + "b";
  for (const std::string& bad : {lone, std::string("c\xe1\xbb"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
                                 std::string("\xff")}) {
    std::string q = json_quote(bad);
    boost::system::error_code ec;
    auto v = boost::json::parse(q, ec);
    ASSERT_FALSE(ec) << q;
    EXPECT_NE(std::string(v.as_string()).find("\xEF\xBF\xBD"), std::string::npos) << q;
  }
  EXPECT_EQ(json_quote(lone), std::string("\"a\xEF\xBF\xBD") + "b\"");
}

}  // namespace
}  // namespace congvu

namespace congvu::test {
namespace {

// Markup only from literals in the source; every runtime string is text and is escaped.
TEST(Html, LiteralsAreMarkupAndEveryRuntimeStringIsEscaped) {
  std::string name = "<script>alert('x')</script>";
  const char* pointer = "<b>";
  std::string_view view = "\"&\"";
  Html h("<p class=\"x\">");
  h << name << " " << std::string_view(pointer) << view << Html("<br>") << 42 << "</p>";
  EXPECT_EQ(h.str(), "<p class=\"x\">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &lt;b&gt;&quot;&amp;&quot;<br>42</p>");
  bool on = true;
  Html t = on ? Html("<i>") : Html();  // a markup branch written as Html
  EXPECT_EQ(t.str(), "<i>");
  EXPECT_EQ(Html::text("a<b").str(), "a&lt;b");
}

}  // namespace
}  // namespace congvu::test
