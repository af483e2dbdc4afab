// The LDAP core: BER fixtures for the wire layer, DN normalisation, the DIT (search planning,
// scopes, access, paging, sorting, freshness after a transfer) on both stores, and session
// transcripts (TLS requirements, binds, the throttle, malformed input).
#include <algorithm>
#include <lber.h>
#include <ldap.h>

#include "directory/ldap/dit.hpp"
#include "directory/ldap/session.hpp"
#include "directory/throttle.hpp"
#include "tests/support/directory_fixture.hpp"

namespace congvu::test {
namespace {

using namespace directory;
using namespace directory::ldap;

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s += static_cast<char>(c);
  return s;
}

// Requests built with liblber, as a client library would send them.
std::string flatten(BerElement* b) {
  berval bv{};
  ber_flatten2(b, &bv, 0);
  std::string out(bv.bv_val, bv.bv_len);
  ber_free(b, 1);
  return out;
}

std::string simple_bind(int id, const std::string& dn, const std::string& pw) {
  BerElement* b = ber_alloc_t(LBER_USE_DER);
  ber_printf(b, "{it{ioto}}", id, LDAP_REQ_BIND, 3, dn.data(), static_cast<ber_len_t>(dn.size()), LDAP_AUTH_SIMPLE,
             pw.data(), static_cast<ber_len_t>(pw.size()));
  return flatten(b);
}

std::string equality_search(int id, const std::string& base, const std::string& attr, const std::string& value) {
  BerElement* b = ber_alloc_t(LBER_USE_DER);
  ber_printf(b, "{it{oeeiib", id, LDAP_REQ_SEARCH, base.data(), static_cast<ber_len_t>(base.size()), 2, 0, 0, 0, 0);
  ber_printf(b, "t{oo}", LDAP_FILTER_EQUALITY, attr.data(), static_cast<ber_len_t>(attr.size()), value.data(),
             static_cast<ber_len_t>(value.size()));
  ber_printf(b, "{s}}}", "uid");
  return flatten(b);
}

std::string whoami(int id) {
  BerElement* b = ber_alloc_t(LBER_USE_DER);
  ber_printf(b, "{it{ts}}", id, LDAP_REQ_EXTENDED, LDAP_TAG_EXOP_REQ_OID, kWhoAmI);
  return flatten(b);
}

// The result code of the last LDAPResult in `out` (a response of `tag`).
int result_code(const std::string& out, int tag) {
  std::string_view rest = out;
  int code = -1;
  while (!rest.empty()) {
    Frame f = frame(rest, 1 << 20);
    if (f.kind != Frame::ready) break;
    BerElement* b = ber_alloc_t(LBER_USE_DER);
    std::string pdu(rest.substr(0, f.size));
    berval bv{static_cast<ber_len_t>(pdu.size()), pdu.data()};
    ber_init2(b, &bv, LBER_USE_DER);
    ber_int_t id = 0, rc = 0;
    ber_tag_t t = 0;
    ber_len_t len = 0;
    if (ber_scanf(b, "{i", &id) != LBER_ERROR) {
      t = ber_peek_tag(b, &len);
      if (t == static_cast<ber_tag_t>(tag) && ber_scanf(b, "{e", &rc) != LBER_ERROR) code = rc;
    }
    ber_free(b, 0);
    rest.remove_prefix(f.size);
  }
  return code;
}

TEST(LdapWire, FramesAndDecodesFixtures) {
  // RFC 4511 anonymous bind, as ldapsearch -x sends it.
  std::string bind = bytes({0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00});
  EXPECT_EQ(frame(bind.substr(0, 1), 1024).kind, Frame::need_more);
  EXPECT_EQ(frame(bind.substr(0, 13), 1024).kind, Frame::need_more);
  EXPECT_EQ(frame(bind, 1024).kind, Frame::ready);
  EXPECT_EQ(frame(bind, 10).kind, Frame::too_large);
  EXPECT_EQ(frame("GET /", 1024).kind, Frame::malformed);
  EXPECT_EQ(frame(bytes({0x30, 0x80}), 1024).kind, Frame::malformed);  // indefinite length
  auto m = decode(bind);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->id, 1);
  auto* b = std::get_if<BindRequest>(&m->op);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->version, 3);
  EXPECT_TRUE(b->name.empty());
  EXPECT_FALSE(b->sasl);

  // Root DSE read: base "", scope base, (objectClass=*).
  std::string rootdse = bytes({0x30, 0x25, 0x02, 0x01, 0x02, 0x63, 0x20, 0x04, 0x00, 0x0a, 0x01, 0x00, 0x0a, 0x01,
                               0x00, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00, 0x87, 0x0b}) +
                        "objectClass" + bytes({0x30, 0x00});
  m = decode(rootdse);
  ASSERT_TRUE(m);
  auto* s = std::get_if<SearchRequest>(&m->op);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->scope, 0);
  EXPECT_EQ(to_string(s->filter), "(objectClass=*)");

  // Truncated, trailing garbage, message ID 0: malformed.
  EXPECT_FALSE(decode(rootdse.substr(0, rootdse.size() - 2)));
  EXPECT_FALSE(decode(bytes({0x30, 0x05, 0x02, 0x01, 0x00, 0x42, 0x00})));
  EXPECT_FALSE(decode(bytes({0x30, 0x03, 0x02, 0x01, 0x01})));
  EXPECT_TRUE(decode(bytes({0x30, 0x05, 0x02, 0x01, 0x03, 0x42, 0x00})));  // unbind

  // Responses, byte for byte.
  EXPECT_EQ(encode_bind_result(1, Code::success, ""),
            bytes({0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00}));
  EXPECT_EQ(encode_result(2, LDAP_RES_SEARCH_RESULT, Code::size_limit_exceeded, "", ""),
            bytes({0x30, 0x0c, 0x02, 0x01, 0x02, 0x65, 0x07, 0x0a, 0x01, 0x04, 0x04, 0x00, 0x04, 0x00}));
  auto notice = encode_notice_of_disconnection(Code::protocol_error, "x");
  EXPECT_NE(notice.find(kNoticeOfDisconnection), std::string::npos);
  EXPECT_EQ(result_code(notice, LDAP_RES_EXTENDED), 2);
}

TEST(LdapWire, FilterLimits) {
  // 40 nested NOTs around an equality: well formed but over the depth limit.
  std::string inner = bytes({0xa3, 0x0a, 0x04, 0x03}) + "uid" + bytes({0x04, 0x03}) + "abc";
  for (int i = 0; i < 40; ++i) {
    std::string len;
    if (inner.size() < 128) len = bytes({static_cast<int>(inner.size())});
    else len = bytes({0x82, static_cast<int>(inner.size() >> 8), static_cast<int>(inner.size() & 0xff)});
    inner = bytes({0xa2}) + len + inner;
  }
  BerElement* b = ber_alloc_t(LBER_USE_DER);
  ber_printf(b, "{it{oeeiib", 5, LDAP_REQ_SEARCH, "", static_cast<ber_len_t>(0), 2, 0, 0, 0, 0);
  // The filter goes in raw.
  ber_write(b, inner.data(), static_cast<ber_len_t>(inner.size()), 0);
  ber_printf(b, "{}}}");
  auto m = decode(flatten(b));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->limit, "the filter is nested too deeply");
  // A substring filter with 40 parts.
  auto sub = [](int parts) {
    BerElement* e = ber_alloc_t(LBER_USE_DER);
    ber_printf(e, "{it{oeeiib", 6, LDAP_REQ_SEARCH, "", static_cast<ber_len_t>(0), 2, 0, 0, 0, 0);
    ber_printf(e, "t{s{", LDAP_FILTER_SUBSTRINGS, "cn");
    for (int i = 0; i < parts; ++i) ber_printf(e, "ts", LDAP_SUBSTRING_ANY, "a");
    ber_printf(e, "}}{}}}");
    return flatten(e);
  };
  m = decode(sub(40));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->limit, "the substring filter has too many parts");
  m = decode(sub(3));
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->limit.empty());
  EXPECT_EQ(to_string(std::get<SearchRequest>(m->op).filter), "(cn=*a*a*a*)");
}

TEST(LdapNames, NormalisesDns) {
  EXPECT_EQ(normalize_dn("UID=AnnV , OU=People,DC=TinhMau,dc=test"), "uid=annv,ou=people,dc=tinhmau,dc=test");
  EXPECT_EQ(normalize_dn("commonName=Nguyễn Văn An,o=X"), "cn=nguyen van an,o=x");
  EXPECT_EQ(normalize_dn("cn=a\\,b,dc=x"), "cn=a b,dc=x");  // names fold punctuation
  EXPECT_EQ(normalize_dn("uid=a\\2cb,dc=x"), "uid=a\\,b,dc=x");
  EXPECT_EQ(normalize_dn(""), "");
  for (const char* bad : {"uid", "uid=a+cn=b,dc=x", "=a", "uid=#0401", "uid=a\\", "u id=a"})
    EXPECT_FALSE(normalize_dn(bad)) << bad;
  EXPECT_EQ(find_attr("CommonName;lang-vi"), Attr::cn);
  EXPECT_EQ(find_attr("2.5.4.3"), Attr::cn);
  EXPECT_EQ(find_attr("mozillaSecondEmail"), Attr::unknown);
}

class Ldap : public DirectoryTest {
 protected:
  void SetUp() override {
    import_province();
    DitConfig cfg;
    cfg.domain = "tinhmau.test";
    dit_ = std::make_unique<Dit>(dir_, cfg);
    reader_.kind = Identity::person;
    reader_.address_book = true;
  }

  std::vector<std::string> search(const std::string& base, int scope, Filter f, std::vector<Control> controls = {},
                                  SearchOutcome* outcome = nullptr, std::int64_t size_limit = 0) {
    SearchRequest r;
    r.base = base;
    r.scope = scope;
    r.filter = std::move(f);
    r.size_limit = size_limit;
    r.attributes = {"1.1"};
    std::vector<std::string> dns;
    dit_->refresh();
    auto o = dit_->search(1, r, controls, reader_, paging_, [&](std::string&& pdu) {
      BerElement* b = ber_alloc_t(LBER_USE_DER);
      berval bv{static_cast<ber_len_t>(pdu.size()), pdu.data()};
      ber_init2(b, &bv, LBER_USE_DER);
      ber_int_t id = 0;
      berval dn{};
      ber_scanf(b, "{i{m", &id, &dn);
      dns.emplace_back(dn.bv_val, dn.bv_len);
      ber_free(b, 0);
    });
    if (outcome) *outcome = o;
    return dns;
  }

  static Filter eq(const std::string& a, const std::string& v, Filter::Kind k = Filter::equality) {
    Filter f;
    f.kind = k;
    f.attr = a;
    f.value = v;
    return f;
  }
  static Filter any(const std::string& a, std::vector<std::string> parts) {
    Filter f;
    f.kind = Filter::substrings;
    f.attr = a;
    f.any = std::move(parts);
    return f;
  }

  std::unique_ptr<Dit> dit_;
  Identity reader_;
  PagedSearches paging_;
  const std::string base_ = "dc=tinhmau,dc=test";
};

TEST_P(Ldap, DiacriticInsensitiveSubstringsAndScopes) {
  auto found = search(base_, 2, any("cn", {"nguyen van"}));
  EXPECT_EQ(found, (std::vector<std::string>{"uid=annv,ou=sonv-tccb,ou=sonv,ou=ubnd,dc=tinhmau,dc=test",
                                             "uid=annv2,ou=sonv-vanphong,ou=sonv,ou=ubnd,dc=tinhmau,dc=test"}));
  EXPECT_EQ(search(base_, 2, any("cn", {"NGUYỄN VĂN"})), found);
  // The same person by login, by address, by stable DN; one level below a unit.
  EXPECT_EQ(search(base_, 2, eq("uid", "ANNV")).size(), 1u);
  EXPECT_EQ(search(base_, 2, eq("mail", "annv2@tinhmau.test")).size(), 1u);
  EXPECT_EQ(search("uid=annv,ou=people," + base_, 0, eq("objectClass", "", Filter::present)),
            std::vector<std::string>{"uid=annv,ou=people,dc=tinhmau,dc=test"});
  EXPECT_EQ(search("ou=sonv,ou=ubnd," + base_, 1, any("cn", {"nguyen"})).size(), 0u);
  EXPECT_EQ(search("ou=sonv,ou=ubnd," + base_, 2, any("cn", {"nguyen"})).size(), 3u);
  EXPECT_EQ(search("ou=people," + base_, 1, eq("objectClass", "", Filter::present)).size(), 6u);
  // A short infix ("an", no trigram) scans; the result is the same as planned.
  Filter both;
  both.kind = Filter::and_;
  both.children = {any("cn", {"an"}), eq("title", "van thu")};
  EXPECT_EQ(search(base_, 2, both),
            std::vector<std::string>{"uid=annv2,ou=sonv-vanphong,ou=sonv,ou=ubnd,dc=tinhmau,dc=test"});
  // Unknown bases name the longest existing suffix.
  SearchOutcome o;
  search("ou=nowhere,ou=sonv,ou=ubnd," + base_, 2, eq("objectClass", "", Filter::present), {}, &o);
  EXPECT_EQ(o.code, Code::no_such_object);
  EXPECT_EQ(o.matched, "ou=sonv,ou=ubnd,dc=tinhmau,dc=test");
}

TEST_P(Ldap, TransferMovesTheDnAtTheNextOperation) {
  auto id = who("T001").id;
  EXPECT_EQ(search(base_, 2, eq("uid", "annv")), std::vector<std::string>{"uid=annv,ou=sonv-tccb,ou=sonv,ou=ubnd,dc=tinhmau,dc=test"});
  auto r = dir_.write(actor_, kNow, [&](Change& c) {
    MoveSpec m;
    m.person = id;
    m.to_unit = "000.00.03.H99";
    m.decision = "1/QĐ";
    m.date = "2026-11-21";
    return c.move(m);
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(search(base_, 2, eq("uid", "annv")), std::vector<std::string>{"uid=annv,ou=sovhttdl,ou=ubnd,dc=tinhmau,dc=test"});
  EXPECT_EQ(search(base_, 2, eq("congvuid", id.str())).size(), 1u);
  EXPECT_EQ(search("ou=sonv-tccb,ou=sonv,ou=ubnd," + base_, 1, any("cn", {"nguyen van"})).size(), 0u);
  EXPECT_EQ(dit_->bind_name("uid=annv,ou=sovhttdl,ou=ubnd," + base_).kind, Dit::BindName::person);
  EXPECT_EQ(dit_->bind_name("uid=annv,ou=sonv-tccb,ou=sonv,ou=ubnd," + base_).kind, Dit::BindName::none);
  EXPECT_EQ(dit_->bind_name("uid=annv,ou=people," + base_).name, "annv");
}

TEST_P(Ldap, AccessPagingSortAndLimits) {
  // Personal data: invisible to a person, visible to a service granted it.
  EXPECT_EQ(search(base_, 2, eq("employeeNumber", "T001")).size(), 0u);
  reader_.kind = Identity::service;
  reader_.personal = {Attr::employeeNumber};
  EXPECT_EQ(search(base_, 2, eq("employeeNumber", "t001")).size(), 1u);
  // Before a bind only the root DSE and schema.
  Identity anon;
  std::swap(anon, reader_);
  SearchOutcome o;
  search(base_, 2, eq("uid", "annv"), {}, &o);
  EXPECT_EQ(o.code, Code::insufficient_access_rights);
  EXPECT_EQ(search("", 0, eq("objectClass", "", Filter::present)).size(), 1u);
  std::swap(anon, reader_);
  // Size limit: partial results and sizeLimitExceeded.
  auto two = search(base_, 2, eq("objectClass", "inetOrgPerson"), {}, &o, 2);
  EXPECT_EQ(two.size(), 2u);
  EXPECT_EQ(o.code, Code::size_limit_exceeded);
  // Paging: 6 people in pages of 4, then 2, the cookie ends it.
  Control paged{kPagedResults, true, encode_paged(4, "")};
  auto page1 = search(base_, 2, eq("objectClass", "inetOrgPerson"), {paged}, &o);
  ASSERT_EQ(page1.size(), 4u);
  auto cookie = decode_paged(*o.controls.back().value)->cookie;
  ASSERT_FALSE(cookie.empty());
  paged.value = encode_paged(4, cookie);
  auto page2 = search(base_, 2, eq("objectClass", "inetOrgPerson"), {paged}, &o);
  EXPECT_EQ(page2.size(), 2u);
  EXPECT_TRUE(decode_paged(*o.controls.back().value)->cookie.empty());
  // A later page with another filter is refused.
  page1 = search(base_, 2, eq("objectClass", "inetOrgPerson"), {Control{kPagedResults, true, encode_paged(4, "")}}, &o);
  paged.value = encode_paged(4, decode_paged(*o.controls.back().value)->cookie);
  search(base_, 2, eq("uid", "annv"), {paged}, &o);
  EXPECT_EQ(o.code, Code::unwilling_to_perform);
  // Sort by uid, reverse.
  BerElement* b = ber_alloc_t(LBER_USE_DER);
  ber_printf(b, "{{stb}}", "uid", 0x81, 1);
  Control sort{kSortRequest, true, flatten(b)};
  auto sorted = search(base_, 2, eq("objectClass", "inetOrgPerson"), {sort}, &o);
  ASSERT_EQ(sorted.size(), 6u);
  EXPECT_EQ(sorted.front().substr(0, 11), "uid=tuanta,");
  EXPECT_EQ(sorted.back().substr(0, 9), "uid=annv,");
  // Compare.
  std::string matched, diag;
  CompareRequest c{"uid=annv,ou=people," + base_, "cn", "nguyen van an"};
  EXPECT_EQ(dit_->compare(c, reader_, matched, diag), Code::compare_true);
  c.attr = "userPassword";
  EXPECT_EQ(dit_->compare(c, reader_, matched, diag), Code::insufficient_access_rights);
  c.attr = "givenname";
  c.value = "Ân";
  EXPECT_EQ(dit_->compare(c, reader_, matched, diag), Code::compare_true);
}

TEST_P(Ldap, SessionTranscript) {
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) -> Status { return c.set_password(who("annv").id, "Mật-khẩu-dài-2026"); }));
  std::vector<std::string> log, auth_log;
  LoginThrottle throttle([&](const std::string& l) { auth_log.push_back(l); });
  SessionConfig cfg;
  Session s(cfg, Context{dir_, *dit_, throttle, [&](const std::string& l) { log.push_back(l); }}, "192.0.2.7");
  std::string dn = "uid=annv,ou=people," + base_;
  // Without TLS the password is refused before it is checked.
  s.feed(simple_bind(1, dn, "Mật-khẩu-dài-2026"));
  auto st = s.next(kNow);
  EXPECT_EQ(result_code(st.out, LDAP_RES_BIND), static_cast<int>(Code::confidentiality_required));
  s.tls_started("");
  // Three wrong passwords in a row end the connection with a Notice of Disconnection.
  for (int i = 0; i < 3; ++i) {
    s.feed(simple_bind(2, dn, "sai-" + std::to_string(i)));
    st = s.next(kNow);
    EXPECT_EQ(result_code(st.out, LDAP_RES_BIND), static_cast<int>(Code::invalid_credentials));
    EXPECT_EQ(st.action, i < 2 ? Step::need_input : Step::close) << i;
  }
  EXPECT_NE(st.out.find(kNoticeOfDisconnection), std::string::npos);
  EXPECT_NE(std::find(auth_log.begin(), auth_log.end(), "event=auth proto=ldap src=192.0.2.7 user=annv result=fail reason=wrong-password"),
            auth_log.end());
  EXPECT_NE(std::find(auth_log.begin(), auth_log.end(), "event=auth_disconnect proto=ldap src=192.0.2.7 failures=3"), auth_log.end());
  // A new connection from the same address: the same wrong password again is not counted
  // (a stale password retried), two new ones make five, and then the right one must wait.
  Session s2(cfg, Context{dir_, *dit_, throttle, [&](const std::string& l) { log.push_back(l); }}, "192.0.2.7");
  s2.tls_started("");
  s2.feed(simple_bind(2, dn, "sai-0"));
  EXPECT_EQ(result_code(s2.next(kNow).out, LDAP_RES_BIND), static_cast<int>(Code::invalid_credentials));
  EXPECT_EQ(auth_log.back(), "event=auth proto=ldap src=192.0.2.7 user=annv result=repeat reason=wrong-password");
  for (int i = 3; i < 5; ++i) {
    s2.feed(simple_bind(2, dn, "sai-" + std::to_string(i)));
    EXPECT_EQ(result_code(s2.next(kNow).out, LDAP_RES_BIND), static_cast<int>(Code::invalid_credentials));
  }
  Session s3(cfg, Context{dir_, *dit_, throttle, [&](const std::string& l) { log.push_back(l); }}, "192.0.2.7");
  s3.tls_started("");
  s3.feed(simple_bind(3, dn, "Mật-khẩu-dài-2026"));
  st = s3.next(kNow);
  EXPECT_EQ(result_code(st.out, LDAP_RES_BIND), static_cast<int>(Code::invalid_credentials));
  EXPECT_NE(st.out.find("try again in 1 s"), std::string::npos);
  EXPECT_EQ(auth_log.back(), "event=auth proto=ldap src=192.0.2.7 user=annv result=throttled wait=1");
  // Another address is not refused: the failures were not its own.
  Session other(cfg, Context{dir_, *dit_, throttle, [&](const std::string& l) { log.push_back(l); }}, "198.51.100.9");
  other.tls_started("");
  other.feed(simple_bind(3, dn, "Mật-khẩu-dài-2026"));
  EXPECT_EQ(result_code(other.next(kNow).out, LDAP_RES_BIND), 0);
  // Later (the wait has passed) it binds; searches then see the address book.
  s3.feed(simple_bind(4, dn, "Mật-khẩu-dài-2026") + equality_search(5, base_, "uid", "hantt") + whoami(6));
  st = s3.next(kNow + 60 * 60 * 1000);
  EXPECT_EQ(result_code(st.out, LDAP_RES_BIND), 0);
  EXPECT_EQ(result_code(st.out, LDAP_RES_SEARCH_RESULT), 0);
  EXPECT_NE(st.out.find("uid=hantt,ou=sonv-tccb"), std::string::npos);
  EXPECT_NE(st.out.find("dn:" + dn), std::string::npos);
  EXPECT_EQ(s3.identity().name, "annv");
  // Garbage ends the session with a notice of disconnection.
  s3.feed("\x30\x03\x02\x01");
  st = s3.next(kNow);
  EXPECT_EQ(st.action, Step::need_input);
  s3.feed("\x01\x04\x00");
  st = s3.next(kNow);
  EXPECT_EQ(st.action, Step::close);
  EXPECT_NE(st.out.find(kNoticeOfDisconnection), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, Ldap, testing::Values(Backend::lmdb, Backend::memory), backend_name);

}  // namespace
}  // namespace congvu::test
