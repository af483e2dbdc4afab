// HR administration: unit-scoped roles, lifecycle changes with effective dates, and the SCIM
// service in front of them (directory/hr.hpp, directory/scim/), on both stores. Every refused
// request is checked to leave the store unchanged (the audit chain has the same length).
#include <boost/json.hpp>

#include "directory/clients.hpp"
#include "directory/factors.hpp"
#include "directory/hr.hpp"
#include "directory/keys.hpp"
#include "directory/scim/filter.hpp"
#include "directory/scim/scim.hpp"
#include "directory/tokens.hpp"
#include "tests/support/directory_fixture.hpp"

namespace congvu::test {
namespace {

using namespace directory;
namespace json = boost::json;

constexpr const char* kCv = "urn:congvu:params:scim:schemas:extension:2.0:User";
constexpr const char* kSnv = "000.00.02.H99";     // Sở Nội vụ (T001..T004 below it)
constexpr const char* kVhttdl = "000.00.03.H99";  // Sở Văn hóa, Thể thao và Du lịch (T005)
// kNow is 2026-11-22 in Asia/Ho_Chi_Minh.

struct Answer {
  int status = 0;
  json::value body;
  std::map<std::string, std::string> headers;
};

class Scim : public DirectoryTest {
 protected:
  Scim() : keys_("test passphrase 0123456789"), scim_(dir_, "https://sso.test") {}

  void SetUp() override {
    import_province();
    auto r = dir_.write(actor_, kNow, [&](Change& c) -> Result<bool> { return keys_.ensure(c); });
    ASSERT_TRUE(r && *r);
    dir_.enable_tokens(&keys_, "https://sso.test");
    add("hr-snv", "hr-admin", kSnv, "scim:read scim:write");
    add("province", "province-admin", "", "scim:read scim:write");
    add("auditor", "auditor", kVhttdl, "scim:read");
  }

  void add(const std::string& id, const std::string& role, const std::string& unit, const std::string& scopes) {
    Client c;
    c.id = id;
    c.grants = {"client_credentials"};
    c.scopes = split_scope(scopes);
    c.role = role;
    c.unit = unit;
    auto r = dir_.write(actor_, kNow, [&](Change& ch) { return add_client(ch, c); });
    ASSERT_TRUE(r) << r.error().message;
  }

  std::string token(const std::string& client, const std::string& scope, std::optional<PersonId> person = std::nullopt) {
    AccessToken t;
    t.issuer = "https://sso.test";
    t.subject = person ? person->str() : client;
    t.person = person;
    t.client_id = client;
    t.audience = {kAudScim};
    t.scope = scope;
    t.jti = "jti-" + std::to_string(++jti_);
    t.issued = kNow;
    t.expires = kNow + 600000;
    auto key = dir_.read([&](Snapshot& s) { return keys_.active(s, jose::Alg::RS256); });
    return issue_access_token(*key, t);
  }

  Answer call(const std::string& method, const std::string& target, const std::string& body = {},
              const std::string& client = "hr-snv", std::map<std::string, std::string> headers = {},
              std::string tok = {}) {
    net::HttpRequest r;
    r.method = method;
    r.target = "/scim/v2" + target;
    r.body = body;
    r.peer = "127.0.0.1";
    r.headers = std::move(headers);
    if (!body.empty() && !r.headers.count("content-type")) r.headers["content-type"] = "application/scim+json";
    if (tok.empty() && !client.empty()) tok = token(client, "scim:read scim:write");
    if (!tok.empty()) r.headers["authorization"] = "Bearer " + tok;
    auto res = scim_.handle(r, kNow + 1000);
    EXPECT_TRUE(res.has_value());
    Answer a;
    a.status = res->status;
    a.headers = res->headers;
    if (!res->body.empty()) {
      a.body = json::parse(res->body);
      EXPECT_EQ(res->content_type, "application/scim+json");
    }
    return a;
  }

  std::string id_of(std::string_view who_) { return who(who_).id.str(); }

  static std::string patch(const std::string& ops) {
    return R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":)" + ops + "}";
  }
  static std::string move_to(const std::string& unit, const std::string& extra = R"("decision":"7/QĐ-SNV")") {
    return patch(R"([{"op":"replace","path":")" + std::string(kCv) + R"(:unitCode","value":")" + unit +
                 R"("},{"op":"replace","path":")" + kCv + R"(:change","value":{)" + extra + "}}]");
  }

  static std::string detail(const Answer& a) {
    const auto* o = a.body.if_object();
    return o && o->contains("detail") ? std::string(o->at("detail").as_string()) : std::string();
  }

  // Runs `fn` and checks that it wrote nothing (the audit chain and the person are unchanged).
  void unchanged(const std::function<void()>& fn) {
    auto before = audit_records();
    fn();
    EXPECT_EQ(audit_records(), before);
  }

  KeyRing keys_;
  scim::Service scim_;
  int jti_ = 0;
};

TEST_P(Scim, DiscoveryDocumentsNeedNoToken) {
  auto spc = call("GET", "/ServiceProviderConfig", {}, "");
  ASSERT_EQ(spc.status, 200);
  EXPECT_TRUE(spc.body.at("patch").at("supported").as_bool());
  EXPECT_EQ(spc.body.at("bulk").at("maxOperations").as_int64(), 1000);
  EXPECT_TRUE(spc.body.at("etag").at("supported").as_bool());
  auto types = call("GET", "/ResourceTypes", {}, "");
  EXPECT_EQ(types.body.at("totalResults").as_int64(), 2);
  auto user = call("GET", "/ResourceTypes/User", {}, "");
  EXPECT_EQ(user.body.at("endpoint").as_string(), "/Users");
  auto schemas = call("GET", "/Schemas", {}, "");
  EXPECT_EQ(schemas.body.at("totalResults").as_int64(), 5);
  auto cv = call("GET", std::string("/Schemas/") + kCv, {}, "");
  ASSERT_EQ(cv.status, 200);
  bool has_unit = false;
  for (const auto& a : cv.body.at("attributes").as_array())
    if (a.at("name").as_string() == "unitCode") has_unit = a.at("mutability").as_string() == "readWrite";
  EXPECT_TRUE(has_unit);
  EXPECT_EQ(call("GET", "/Schemas/urn:nothing", {}, "").status, 404);
}

TEST_P(Scim, TokensAreCheckedForAudienceScopeAndRole) {
  auto none = call("GET", "/Users", {}, "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers["WWW-Authenticate"], "Bearer realm=\"scim\"");
  auto junk = call("GET", "/Users", {}, "", {}, "not-a-token");
  EXPECT_EQ(junk.status, 401);
  EXPECT_NE(junk.headers["WWW-Authenticate"].find("invalid_token"), std::string::npos);
  unchanged([&] {
    auto read_only = call("PATCH", "/Users/" + id_of("T003"), move_to(kVhttdl), "", {}, token("hr-snv", "scim:read"));
    EXPECT_EQ(read_only.status, 403);
    EXPECT_NE(read_only.headers["WWW-Authenticate"].find("insufficient_scope"), std::string::npos);
    // The auditor's client holds scim:read only, and its role changes nothing anyway.
    auto auditor = call("PATCH", "/Users/" + id_of("T005"), move_to(kSnv), "", {}, token("auditor", "scim:read scim:write"));
    EXPECT_EQ(auditor.status, 403) << detail(auditor);
  });
  EXPECT_EQ(call("GET", "/Users/" + id_of("T005"), {}, "auditor").status, 200);
  EXPECT_EQ(call("GET", "/Users/" + id_of("T001"), {}, "auditor").status, 403);

  // A person acts with their grants, and only with a confirmed second factor.
  auto admin = who("T002");
  std::string tok = token("admin-page", "scim:read scim:write", admin.id);
  EXPECT_EQ(call("GET", "/Users", {}, "", {}, tok).status, 403);  // no grant
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return grant_role(c, admin.id, Role::hr_admin, kSnv, "1/QĐ"); }));
  auto no_factor = call("GET", "/Users", {}, "", {}, tok);
  EXPECT_EQ(no_factor.status, 403);
  EXPECT_NE(detail(no_factor).find("second factor"), std::string::npos);
  EXPECT_TRUE(dir_.read([&](Snapshot& s) { return s.second_factor_required(admin); }));
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) -> Status {
    SecondFactor f;
    f.confirmed = true;
    put_factor(c, admin.id, f);
    return ok_status();
  }));
  auto listed = call("GET", "/Users", {}, "", {}, tok);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.at("totalResults").as_int64(), 4);
}

TEST_P(Scim, ListingsAreScopedFilteredSortedAndPaged) {
  auto all = call("GET", "/Users");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.body.at("totalResults").as_int64(), 4);  // Sở Nội vụ's subtree only
  EXPECT_EQ(call("GET", "/Users", {}, "province").body.at("totalResults").as_int64(), 6);

  auto by_name = call("GET", "/Users?filter=name.formatted%20co%20%22nguyen%20van%22");
  EXPECT_EQ(by_name.body.at("totalResults").as_int64(), 2);  // diacritics and case ignored
  auto by_login = call("GET", "/Users?filter=userName%20eq%20%22ANNV%22");
  ASSERT_EQ(by_login.body.at("totalResults").as_int64(), 1);
  EXPECT_EQ(by_login.body.at("Resources").at(0).at("id").as_string(), id_of("T001"));
  auto by_mail = call("GET", "/Users?filter=" + std::string("emails%5Bvalue%20eq%20%22") + who("T003").address + "%22%5D");
  EXPECT_EQ(by_mail.body.at("totalResults").as_int64(), 1);
  auto by_unit = call("GET", "/Users?filter=urn:congvu:params:scim:schemas:extension:2.0:User:unitCode%20eq%20%22000.01.02.H99%22%20and%20title%20sw%20%22Tr%22");
  ASSERT_EQ(by_unit.body.at("totalResults").as_int64(), 1);
  EXPECT_EQ(by_unit.body.at("Resources").at(0).at("title").as_string(), "Trưởng phòng");
  auto either = call("GET", "/Users?filter=employeeNumber%20eq%20%22T001%22%20or%20employeeNumber%20eq%20%22T005%22");
  EXPECT_EQ(either.body.at("totalResults").as_int64(), 1);  // T005 is outside the scope
  auto negated = call("GET", "/Users?filter=not%20(active%20eq%20true)");
  EXPECT_EQ(negated.body.at("totalResults").as_int64(), 0);

  auto sorted = call("GET", "/Users?sortBy=employeeNumber&sortOrder=descending&startIndex=2&count=2&attributes=userName");
  ASSERT_EQ(sorted.status, 200);
  EXPECT_EQ(sorted.body.at("totalResults").as_int64(), 4);
  EXPECT_EQ(sorted.body.at("startIndex").as_int64(), 2);
  const auto& items = sorted.body.at("Resources").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("id").as_string(), id_of("T003"));
  EXPECT_EQ(items[1].at("id").as_string(), id_of("T002"));
  EXPECT_FALSE(items[0].as_object().contains("name"));  // attributes=userName
  EXPECT_TRUE(items[0].as_object().contains("userName"));

  auto search = call("POST", "/Users/.search", R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"displayName sw \"nguyễn thị\"","count":10})");
  ASSERT_EQ(search.status, 200) << detail(search);
  EXPECT_EQ(search.body.at("totalResults").as_int64(), 1);

  for (const char* bad : {"userName%20eq", "userName%20xx%20%22a%22", "password%20eq%20%22x%22", "(userName%20eq%20%22a%22",
                          "userName%20eq%20%22unterminated", "nickName%20pr"}) {
    auto a = call("GET", std::string("/Users?filter=") + bad);
    EXPECT_EQ(a.status, 400) << bad;
    EXPECT_EQ(a.body.at("scimType").as_string(), "invalidFilter") << bad;
  }
  EXPECT_EQ(call("GET", "/Users?sortBy=password").status, 400);
  EXPECT_EQ(call("GET", "/Users?count=abc").status, 400);
}

TEST_P(Scim, UserRepresentationCarriesUnitHistoryAndManager) {
  auto a = call("GET", "/Users/" + id_of("T002"));
  ASSERT_EQ(a.status, 200);
  const auto& u = a.body.as_object();
  EXPECT_EQ(u.at("userName").as_string(), who("T002").login);
  EXPECT_EQ(u.at("emails").at(0).at("value").as_string(), who("T002").address);
  const auto& ent = u.at("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
  EXPECT_EQ(ent.at("employeeNumber").as_string(), "T002");
  EXPECT_EQ(ent.at("department").as_string(), "Phòng Tổ chức cán bộ");
  EXPECT_EQ(ent.at("manager").at("value").as_string(), id_of("T001"));  // the Trưởng phòng
  const auto& cv = u.at(kCv);
  EXPECT_EQ(cv.at("unitCode").as_string(), "000.01.02.H99");
  EXPECT_EQ(cv.at("unitPath").as_array().size(), 3u);
  EXPECT_EQ(cv.at("assignments").as_array().size(), 1u);
  EXPECT_EQ(cv.at("birthDate").as_string(), "1990-02-02");  // the HR admin manages her
  EXPECT_EQ(a.headers["ETag"], u.at("meta").at("version").as_string());
  auto same = call("GET", "/Users/" + id_of("T002"), {}, "hr-snv", {{"if-none-match", a.headers["ETag"]}});
  EXPECT_EQ(same.status, 304);
  EXPECT_EQ(call("GET", "/Users/01a20148-0000-7000-8000-000000000000").status, 404);
  auto outside = call("GET", "/Users/" + id_of("T005"));
  EXPECT_EQ(outside.status, 403);
}

TEST_P(Scim, HireGeneratesTheAddressAndAnActivationCode) {
  std::string body = std::string(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
    "userName":"ignored","name":{"familyName":"Nguyễn","middleName":"Văn","givenName":"An"},
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"T100"},
    ")") + kCv + R"(":{"unitCode":"000.02.02.H99","position":"Chuyên viên","change":{"decision":"5/QĐ-SNV"}}})";
  auto a = call("POST", "/Users", body);
  ASSERT_EQ(a.status, 201) << detail(a);
  EXPECT_EQ(a.body.at("userName").as_string(), "annv3");  // annv and annv2 are taken
  EXPECT_EQ(a.body.at(kCv).at("activationCode").as_string().size(), 14u);
  EXPECT_EQ(a.headers["Location"], "https://sso.test/scim/v2/Users/" + std::string(a.body.at("id").as_string()));
  auto hired = who("T100");
  EXPECT_EQ(hired.unit, "000.02.02.H99");
  // The activation code sets the first password, once.
  std::string code(a.body.at(kCv).at("activationCode").as_string());
  EXPECT_TRUE(dir_.write(actor_, kNow + 5000, [&](Change& c) -> Result<bool> { return consume_reset_code(c, hired.id, code); }).value());

  unchanged([&] {
    auto dup = call("POST", "/Users", body);
    EXPECT_EQ(dup.status, 409);  // the staff number exists
    std::string outside = body;
    outside.replace(outside.find("000.02.02.H99"), 13, kVhttdl);
    outside.replace(outside.find("T100"), 4, "T101");
    EXPECT_EQ(call("POST", "/Users", outside).status, 403);
    std::string no_decision = body;
    no_decision.replace(no_decision.find(R"("change")"), 32, R"("gender":"M")");
    no_decision.replace(no_decision.find("T100"), 4, "T102");
    auto nd = call("POST", "/Users", no_decision);
    EXPECT_EQ(nd.status, 400) << detail(nd);
    std::string unknown = body;
    unknown.replace(unknown.find(R"("userName")"), 10, R"("nickName")");
    auto un = call("POST", "/Users", unknown);
    EXPECT_EQ(un.status, 400);
    EXPECT_EQ(un.body.at("scimType").as_string(), "invalidSyntax");
    EXPECT_NE(detail(un).find("nickName"), std::string::npos);
    auto malformed = call("POST", "/Users", R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)");
    EXPECT_EQ(malformed.status, 400);
    EXPECT_EQ(malformed.body.at("scimType").as_string(), "invalidSyntax");
    EXPECT_EQ(call("POST", "/Users", "[1,2]").status, 400);
    EXPECT_EQ(call("POST", "/Users", body, "hr-snv", {{"content-type", "text/plain"}}).status, 415);
  });
}

TEST_P(Scim, TransferOutOfTheScopeThenNoLongerReachable) {
  auto t3 = who("T003");
  // Sở Nội vụ's hr-admin covers the source only: placing T003 in another department (whose
  // official inbox and role address would follow) becomes a proposal, 202 with the pending change.
  auto proposed = call("PATCH", "/Users/" + t3.id.str(), move_to(kVhttdl, R"("decision":"7/QĐ-SNV","reason":"theo nguyện vọng")"));
  ASSERT_EQ(proposed.status, 202) << detail(proposed);
  const auto& prop = proposed.body.at(scim::kCongvuUserSchema).at("proposal").as_object();
  EXPECT_EQ(prop.at("status").as_string(), "pending");
  EXPECT_EQ(prop.at("unitCode").as_string(), kVhttdl);
  EXPECT_EQ(who("T003").unit, t3.unit) << "nothing moves before the target accepts";
  auto n = static_cast<std::uint64_t>(prop.at("number").as_int64());
  auto hr = dir_.read([&](Snapshot& s) { return authority_of_client(s, "hr-snv"); });
  auto province = dir_.read([&](Snapshot& s) { return authority_of_client(s, "province"); });
  auto own = dir_.write(Actor{"client:hr-snv"}, kNow, [&](Change& c) { return accept_proposal(c, hr, n, "2026-11-22"); });
  ASSERT_FALSE(own);
  EXPECT_EQ(own.error().code, Errc::forbidden) << "the proposer cannot accept its own proposal";
  // An administrator over the target accepts: checked again, applied.
  auto a = dir_.write(Actor{"client:province"}, kNow, [&](Change& c) { return accept_proposal(c, province, n, "2026-11-22"); });
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(dir_.read([](Snapshot& s) { return proposals(s).empty(); }));
  auto after = who("T003");
  EXPECT_EQ(after.unit, kVhttdl);
  EXPECT_EQ(after.position, t3.position);
  EXPECT_EQ(after.address, t3.address);
  EXPECT_EQ(after.login, t3.login);
  auto log = dir_.read([&](Snapshot& s) { return s.audit_log(t3.id.str(), 3); });
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].action, "proposal.add");
  EXPECT_EQ(log[0].actor, "client:hr-snv");
  EXPECT_EQ(log[1].action, "proposal.accept");
  EXPECT_EQ(log[2].action, "person.transfer");
  EXPECT_EQ(log[2].actor, "client:province");
  EXPECT_EQ(log[2].reason, "7/QĐ-SNV");
  EXPECT_NE(log[2].detail.find("theo nguyện vọng"), std::string::npos);
  // Now in Sở Văn hóa: out of Sở Nội vụ's reach, for reads and writes.
  unchanged([&] {
    EXPECT_EQ(call("PATCH", "/Users/" + t3.id.str(), move_to(kSnv)).status, 403);
    EXPECT_EQ(call("PATCH", "/Users/" + id_of("T005"), move_to(kSnv)).status, 403);
    EXPECT_EQ(call("GET", "/Users/" + t3.id.str()).status, 403);
  });
  EXPECT_EQ(who("T005").unit, kVhttdl);
}

TEST_P(Scim, VersionsAndBadRequestsLeaveThePersonAlone) {
  std::string id = id_of("T004");
  auto cur = call("GET", "/Users/" + id);
  std::string etag = cur.headers["ETag"];
  unchanged([&] {
    EXPECT_EQ(call("PATCH", "/Users/" + id, move_to("000.01.02.H99"), "hr-snv", {{"if-match", "W/\"0000000000000000\""}}).status, 412);
    EXPECT_EQ(call("PATCH", "/Users/" + id, patch(R"([{"op":"replace","path":"userName","value":"x"}])")).body.at("scimType").as_string(), "mutability");
    EXPECT_EQ(call("PATCH", "/Users/" + id, patch(R"([{"op":"replace","path":"nickName","value":"x"}])")).body.at("scimType").as_string(), "invalidPath");
    EXPECT_EQ(call("PATCH", "/Users/" + id, patch(R"([{"op":"replace","path":"name.givenName","value":"Bình"}])")).status, 400);
    EXPECT_EQ(call("PATCH", "/Users/" + id, patch(R"([{"op":"explode","path":"title","value":"x"}])")).status, 400);
    EXPECT_EQ(call("PATCH", "/Users/" + id, patch("[]")).status, 400);
    EXPECT_EQ(call("PATCH", "/Users/" + id, move_to("999.99.99.H99")).status, 400);  // no such unit
    EXPECT_EQ(call("PATCH", "/Users/" + id, move_to("000.01.02.H99", R"("reason":"no decision")")).status, 400);
    EXPECT_EQ(call("PATCH", "/Users/" + id, move_to("000.01.02.H99", R"("decision":"1","fromUnitCode":"000.01.02.H99")")).status, 409);
    // Two changes in one request: refused as a whole.
    auto both = call("PATCH", "/Users/" + id, patch(R"([{"op":"replace","path":"active","value":false},{"op":"replace","path":")" +
                                                  std::string(kCv) + R"(:unitCode","value":"000.01.02.H99"}])"));
    EXPECT_EQ(both.status, 400);
    EXPECT_EQ(call("DELETE", "/Users/" + id).status, 405);
    EXPECT_EQ(call("PATCH", "/Users/" + id, "{\"Operations\":").status, 400);
  });
  auto ok = call("PATCH", "/Users/" + id, move_to("000.01.02.H99"), "hr-snv", {{"if-match", etag}});
  ASSERT_EQ(ok.status, 200) << detail(ok);
  EXPECT_NE(ok.headers["ETag"], etag);
  EXPECT_EQ(who("T004").unit, "000.01.02.H99");
  // The old version no longer matches.
  EXPECT_EQ(call("PATCH", "/Users/" + id, move_to("000.02.02.H99"), "hr-snv", {{"if-match", etag}}).status, 412);
}

TEST_P(Scim, FutureDatedChangesWaitForTheirDate) {
  std::string id = id_of("T003");
  auto a = call("PATCH", "/Users/" + id, move_to("000.01.02.H99", R"("decision":"9/QĐ-SNV","effectiveDate":"2027-01-01")"));
  ASSERT_EQ(a.status, 200) << detail(a);
  EXPECT_EQ(who("T003").unit, "000.02.02.H99");  // not yet
  const auto& sched = a.body.at(kCv).at("scheduled").as_array();
  ASSERT_EQ(sched.size(), 1u);
  EXPECT_EQ(sched[0].at("effectiveDate").as_string(), "2027-01-01");
  EXPECT_EQ(dir_.read([](Snapshot& s) { return scheduled_changes(s).size(); }), 1u);
  auto early = run_due(dir_, "2026-12-31", kNow);
  EXPECT_EQ(early.applied, 0u);
  auto due = run_due(dir_, "2027-01-01", kNow);
  EXPECT_EQ(due.applied, 1u);
  EXPECT_TRUE(due.failed.empty());
  EXPECT_EQ(who("T003").unit, "000.01.02.H99");
  auto log = dir_.read([&](Snapshot& s) { return s.audit_log(id, 1); });
  EXPECT_EQ(log.front().actor, "client:hr-snv");  // applied under the admin who scheduled it
  EXPECT_TRUE(dir_.read([](Snapshot& s) { return scheduled_changes(s).empty(); }));

  // A scheduled change that cannot apply any more is dropped with its reason.
  auto b = call("PATCH", "/Users/" + id, move_to(kSnv, R"("decision":"10/QĐ","effectiveDate":"2027-02-01","fromUnitCode":"000.02.02.H99")"));
  ASSERT_EQ(b.status, 200);
  auto dropped = run_due(dir_, "2027-02-01", kNow);
  ASSERT_EQ(dropped.failed.size(), 1u);
  EXPECT_NE(dropped.failed[0].second.find("not 000.02.02.H99"), std::string::npos);
  EXPECT_EQ(who("T003").unit, "000.01.02.H99");
  auto c = call("PATCH", "/Users/" + id, move_to(kSnv, R"("decision":"11/QĐ","effectiveDate":"2027-03-01")"));
  auto n = c.body.at(kCv).at("scheduled").at(0).at("number").as_int64();
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& ch) { return cancel_scheduled(ch, Authority::root("cli"), static_cast<std::uint64_t>(n)); }));
  EXPECT_EQ(run_due(dir_, "2027-03-01", kNow).applied, 0u);
}

TEST_P(Scim, SuspensionRetirementAndAppointment) {
  std::string id = id_of("T004");
  auto s = call("PATCH", "/Users/" + id, patch(R"([{"op":"replace","path":"active","value":false}])"));
  ASSERT_EQ(s.status, 200) << detail(s);
  EXPECT_EQ(who("T004").status, PersonStatus::suspended);
  EXPECT_FALSE(s.body.at("active").as_bool());
  ASSERT_EQ(call("PATCH", "/Users/" + id, patch(R"([{"op":"replace","value":{"active":true}}])")).status, 200);
  EXPECT_EQ(who("T004").status, PersonStatus::active);
  auto ap = call("PATCH", "/Users/" + id_of("T003"),
                 patch(R"([{"op":"replace","path":"title","value":"Phó Chánh Văn phòng"},{"op":"add","path":")" + std::string(kCv) +
                       R"(:change.decision","value":"3/QĐ"}])"));
  ASSERT_EQ(ap.status, 200) << detail(ap);
  EXPECT_EQ(who("T003").position, "Phó Chánh Văn phòng");
  EXPECT_EQ(dir_.read([&](Snapshot& sn) { return sn.audit_log(id_of("T003"), 1); }).front().action, "person.appointment");
  auto r = call("PATCH", "/Users/" + id,
                patch(R"([{"op":"replace","path":")" + std::string(kCv) + R"(:change","value":{"kind":"retire","decision":"99/QĐ","successor":")" +
                      who("T002").login + R"("}}])"));
  ASSERT_EQ(r.status, 200) << detail(r);
  auto retired = who("T004");
  EXPECT_EQ(retired.status, PersonStatus::retired);
  auto ret = dir_.read([&](Snapshot& sn) { return retirement_of(sn, retired.id); });
  ASSERT_TRUE(ret);
  EXPECT_EQ(ret->successor, id_of("T002"));
  EXPECT_EQ(ret->keep_until, "2031-11-22");
  // Retired people stay readable to the unit they left, and cannot come back.
  auto again = call("GET", "/Users/" + id);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.body.at(kCv).at("status").as_string(), "retired");
  unchanged([&] { EXPECT_EQ(call("PATCH", "/Users/" + id, patch(R"([{"op":"replace","path":"active","value":true}])")).status, 409); });
}

TEST_P(Scim, BulkAppliesEachOperationInOneCommit) {
  std::string hire = std::string(R"({"method":"POST","path":"/Users","bulkId":"h1","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
     "name":{"formatted":"Hoàng Minh Quân"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"T200"},")") +
                     kCv + R"(":{"unitCode":"000.01.02.H99","position":"Chuyên viên","change":{"decision":"1/QĐ"}}}})";
  std::string move = R"({"method":"PATCH","path":"/Users/bulkId:h1","data":)" + move_to("000.02.02.H99") + "}";
  std::string bad = R"({"method":"PATCH","path":"/Users/)" + id_of("T005") + R"(","data":)" + move_to(kSnv) + "}";
  std::string after = R"({"method":"PATCH","path":"/Users/)" + id_of("T003") + R"(","data":)" + move_to("000.01.02.H99") + "}";
  auto a = call("POST", "/Bulk", R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[)" + hire + "," +
                                      move + "," + bad + "," + after + "]}");
  ASSERT_EQ(a.status, 200) << json::serialize(a.body);
  const auto& ops = a.body.at("Operations").as_array();
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_EQ(ops[0].at("status").as_string(), "201");
  EXPECT_EQ(ops[1].at("status").as_string(), "200");
  EXPECT_EQ(ops[2].at("status").as_string(), "403");
  EXPECT_EQ(ops[2].at("response").at("schemas").at(0).as_string(), "urn:ietf:params:scim:api:messages:2.0:Error");
  EXPECT_EQ(ops[3].at("status").as_string(), "200");
  EXPECT_EQ(who("T200").unit, "000.02.02.H99");
  EXPECT_EQ(who("T003").unit, "000.01.02.H99");
  EXPECT_EQ(who("T005").unit, kVhttdl);
  // failOnErrors stops after the first error; later operations are not attempted.
  auto b = call("POST", "/Bulk", R"({"failOnErrors":1,"Operations":[)" + bad + "," +
                                     R"({"method":"PATCH","path":"/Users/)" + id_of("T003") + R"(","data":)" + move_to("000.02.02.H99") + "}]}");
  ASSERT_EQ(b.status, 200);
  EXPECT_EQ(b.body.at("Operations").as_array().size(), 1u);
  EXPECT_EQ(who("T003").unit, "000.01.02.H99");
  unchanged([&] {
    EXPECT_EQ(call("POST", "/Bulk", R"({"Operations":{}})").status, 400);
    auto missing = call("POST", "/Bulk", R"({"Operations":[{"method":"PATCH","path":"/Users/bulkId:nope","data":{}}]})");
    EXPECT_EQ(missing.body.at("Operations").at(0).at("status").as_string(), "409");
  });
}

TEST_P(Scim, GroupsStaticAndDerived) {
  std::string body = R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Ban chỉ đạo Chuyển đổi số",
    "members":[{"value":")" + id_of("T001") + R"("}]})";
  unchanged([&] { EXPECT_EQ(call("POST", "/Groups", body).status, 403); });  // static groups: province admins
  auto g = call("POST", "/Groups", body, "province");
  ASSERT_EQ(g.status, 201) << detail(g);
  EXPECT_EQ(g.body.at("id").as_string(), "ban-chi-dao-chuyen-doi-so");
  EXPECT_EQ(g.body.at("members").as_array().size(), 1u);
  auto add = call("PATCH", "/Groups/ban-chi-dao-chuyen-doi-so",
                  patch(R"([{"op":"add","path":"members","value":[{"value":")" + id_of("T005") + R"("}]}])"), "province");
  ASSERT_EQ(add.status, 200) << detail(add);
  EXPECT_EQ(add.body.at("members").as_array().size(), 2u);
  auto rm = call("PATCH", "/Groups/ban-chi-dao-chuyen-doi-so",
                 patch(R"([{"op":"remove","path":"members[value eq \")" + id_of("T001") + R"(\"]"}])"), "province");
  ASSERT_EQ(rm.status, 200) << detail(rm);
  ASSERT_EQ(rm.body.at("members").as_array().size(), 1u);
  EXPECT_EQ(rm.body.at("members").at(0).at("value").as_string(), id_of("T005"));
  auto list = call("GET", "/Groups?filter=members%20eq%20%22" + id_of("T005") + "%22&excludedAttributes=members");
  EXPECT_EQ(list.body.at("totalResults").as_int64(), 1);
  EXPECT_FALSE(list.body.at("Resources").at(0).as_object().contains("members"));
  // A derived group of the HR admin's own unit.
  auto d = call("POST", "/Groups", R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Toàn thể Sở Nội vụ",
    "urn:congvu:params:scim:schemas:extension:2.0:Group":{"name":"all-sonv","kind":"derived","unitCode":"000.00.02.H99"}})");
  ASSERT_EQ(d.status, 201) << detail(d);
  EXPECT_EQ(d.body.at("members").as_array().size(), 4u);
  unchanged([&] {
    EXPECT_EQ(call("PATCH", "/Groups/all-sonv", patch(R"([{"op":"add","path":"members","value":[{"value":")" + id_of("T005") + R"("}]}])")).status, 400);
    EXPECT_EQ(call("PATCH", "/Groups/ban-chi-dao-chuyen-doi-so", patch(R"([{"op":"add","path":"members","value":[{"value":"nobody"}]}])"), "province").status, 400);
    EXPECT_EQ(call("DELETE", "/Groups/all-sonv").status, 405);
  });
  // The person's groups follow a transfer.
  auto t3 = call("PATCH", "/Users/" + id_of("T003"), move_to(kVhttdl), "province");
  for (const auto& gr : t3.body.at("groups").as_array()) EXPECT_NE(gr.at("value").as_string(), "all-sonv");
}

// Authority by admin scope (issue: an hr-admin of one unit handed another unit's official inbox
// to one of its staff): source and target must both be in scope, nobody changes a person whose
// role covers their own scope, and a scheduled change is checked again when it comes due.
// Decree 13/2023: staff numbers, like birth dates and genders, go only to those who manage the
// person: not in an auditor's reads, not through a filter, not in a 403's detail.
TEST_P(Scim, StaffNumbersByNeedToKnow) {
  auto t5 = who("T005");
  auto read = call("GET", "/Users/" + t5.id.str(), {}, "auditor");
  ASSERT_EQ(read.status, 200);
  EXPECT_FALSE(read.body.as_object().contains("externalId"));
  EXPECT_FALSE(read.body.at(scim::kEnterpriseSchema).as_object().contains("employeeNumber"));
  EXPECT_FALSE(read.body.at(scim::kCongvuUserSchema).as_object().contains("birthDate"));
  auto found = call("GET", "/Users?filter=employeeNumber%20eq%20%22T005%22", {}, "auditor");
  ASSERT_EQ(found.status, 200);
  EXPECT_EQ(found.body.at("totalResults").as_int64(), 0) << "a filter cannot confirm whose number it is";
  auto managed = call("GET", "/Users/" + t5.id.str(), {}, "province");
  EXPECT_EQ(managed.body.at("externalId").as_string(), "T005");
  EXPECT_EQ(call("GET", "/Users?filter=employeeNumber%20eq%20%22T005%22", {}, "province").body.at("totalResults").as_int64(), 1);
  auto refused = call("PATCH", "/Users/" + t5.id.str(), move_to(kSnv));
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(detail(refused).find("T005"), std::string::npos) << detail(refused);
}

TEST_P(Scim, AuthorityIsComparedByAdminScope) {
  auto hr = dir_.read([&](Snapshot& s) { return authority_of_client(s, "hr-snv"); });
  auto t3 = who("T003");
  auto move = [&](const Authority& a, const Person& p, const std::string& to, const std::string& date = "2026-11-22") {
    LifeChange lc;
    lc.kind = LifeKind::transfer;
    lc.person = p.id;
    lc.to_unit = to;
    lc.position = "Văn thư";
    lc.decision = "9/QĐ";
    lc.date = date;
    return dir_.write(actor_, kNow, [&](Change& c) { return apply_change(c, a, lc, "2026-11-22"); });
  };
  // Into the Provincial People's Committee as its clerk: only a proposal; nothing moves, the
  // committee's official inbox is not handed over; its administrator refuses it with a reason.
  auto proposed = move(hr, t3, "000.00.00.H99");
  ASSERT_TRUE(proposed) << proposed.error().message;
  EXPECT_TRUE(proposed->proposed);
  EXPECT_EQ(who("T003").unit, t3.unit);
  EXPECT_TRUE(dir_.read([&](Snapshot& s) { return s.role_holders("000.00.00.H99"); }).empty());
  auto province = dir_.read([&](Snapshot& s) { return authority_of_client(s, "province"); });
  auto refuse = [&](const Authority& a, std::string_view why) {
    return dir_.write(actor_, kNow, [&](Change& c) { return refuse_proposal(c, a, proposed->number, why); });
  };
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& c) { return accept_proposal(c, hr, proposed->number, "2026-11-22"); }));
  EXPECT_FALSE(refuse(province, "")) << "the proposer must be told why";
  ASSERT_TRUE(refuse(province, "không còn chỉ tiêu biên chế"));
  auto said = dir_.read([&](Snapshot& s) { return s.audit_log(t3.id.str(), 1); });
  ASSERT_EQ(said.size(), 1u);
  EXPECT_EQ(said[0].action, "proposal.refuse");
  EXPECT_NE(said[0].detail.find("không còn chỉ tiêu biên chế"), std::string::npos);
  EXPECT_TRUE(dir_.read([](Snapshot& s) { return proposals(s).empty(); }));
  EXPECT_TRUE(move(hr, t3, "000.02.02.H99")) << "inside Sở Nội vụ it applies";
  // A province administrator sitting in Sở Nội vụ cannot be suspended or moved by its hr-admin.
  auto t4 = who("T004");
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return grant_role(c, t4.id, Role::province_admin, "000.00.00.H99", "1/QĐ"); }));
  unchanged([&] {
    LifeChange sus;
    sus.kind = LifeKind::suspend;
    sus.person = t4.id;
    auto r = dir_.write(actor_, kNow, [&](Change& c) { return apply_change(c, hr, sus, "2026-11-22"); });
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("holds an administrative role at or above client:hr-snv's scope"), std::string::npos)
        << r.error().message;
    EXPECT_EQ(call("PATCH", "/Users/" + t4.id.str(), move_to("000.02.02.H99")).status, 403);
  });
  // Scheduled by hr-snv for 2027; by then T003 was moved out of its scope: not applied, and
  // the failure is audited.
  auto sched = move(hr, who("T003"), "000.01.02.H99", "2027-01-05");
  ASSERT_TRUE(sched);
  ASSERT_TRUE(sched->scheduled);
  auto root = Authority::root("cli:test");
  ASSERT_TRUE(move(root, who("T003"), kVhttdl));
  auto due = run_due(dir_, "2027-01-05", kNow);
  EXPECT_EQ(due.applied, 0u);
  ASSERT_EQ(due.failed.size(), 1u);
  EXPECT_NE(due.failed[0].second.find("outside client:hr-snv's scope"), std::string::npos) << due.failed[0].second;
  EXPECT_EQ(who("T003").unit, kVhttdl);
  // And a change scheduled by an administrator who has since lost the grant.
  auto t2 = who("T002");
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return grant_role(c, t2.id, Role::hr_admin, kSnv, "2/QĐ"); }));
  auto t2_auth = dir_.read([&](Snapshot& s) { return authority_of(s, who("T002")); });
  ASSERT_TRUE(move(t2_auth, who("T001"), "000.02.02.H99", "2027-02-01"));
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return revoke_role(c, t2.id, Role::hr_admin, kSnv); }));
  due = run_due(dir_, "2027-02-01", kNow);
  EXPECT_EQ(due.applied, 0u);
  ASSERT_EQ(due.failed.size(), 1u);
  EXPECT_NE(who("T001").unit, "000.02.02.H99");
  auto log = dir_.read([&](Snapshot& s) { return s.audit_log(who("T001").id.str(), 1); });
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.front().action, "schedule.failed");
}

TEST_P(Scim, GrantsAndTheFirstProvinceAdministrator) {
  auto t1 = who("T001");
  auto first = dir_.write(actor_, kNow, [&](Change& c) { return admin_init(c, t1.id); });
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->role, Role::province_admin);
  EXPECT_EQ(first->unit, "000.00.00.H99");
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& c) { return admin_init(c, who("T002").id); }));
  auto auth = dir_.read([&](Snapshot& s) { return authority_of(s, t1); });
  EXPECT_TRUE(dir_.read([&](Snapshot& s) { return auth.is_province_admin(s); }));
  auto hr = dir_.write(actor_, kNow, [&](Change& c) { return grant_role(c, who("T005").id, Role::hr_admin, kVhttdl, "2/QĐ"); });
  ASSERT_TRUE(hr);
  auto t5 = dir_.read([&](Snapshot& s) { return authority_of(s, who("T005")); });
  EXPECT_TRUE(dir_.read([&](Snapshot& s) { return !t5.writes_person(s, who("T001")); }));
  // Nobody changes a person whose role covers their own scope: not even themselves.
  EXPECT_FALSE(dir_.read([&](Snapshot& s) { return t5.writes_person(s, who("T005")); }));
  EXPECT_TRUE(dir_.read([&](Snapshot& s) { return t5.outranked_by(s, who("T005")); }));
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& c) { return grant_role(c, who("T005").id, Role::hr_admin, kVhttdl, ""); }));
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& c) { return grant_role(c, who("T005").id, Role::auditor, "nope", ""); }));
  ASSERT_TRUE(dir_.write(actor_, kNow, [&](Change& c) { return revoke_role(c, who("T005").id, Role::hr_admin, kVhttdl); }));
  EXPECT_TRUE(dir_.read([&](Snapshot& s) { return list_grants(s).size(); }) == 1u);
  // Clients: the role and unit are checked when registered.
  Client bad;
  bad.id = "x";
  bad.grants = {"client_credentials"};
  bad.scopes = {"scim:write"};
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& c) { return add_client(c, bad); }));  // no role
  bad.role = "auditor";
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& c) { return add_client(c, bad); }));  // auditors read
  bad.role = "hr-admin";
  bad.unit = "nope";
  EXPECT_FALSE(dir_.write(actor_, kNow, [&](Change& c) { return add_client(c, bad); }));
}

TEST(ScimFilter, GrammarPrecedenceAndLimits) {
  using scim::Filter;
  auto f = scim::parse_filter(R"(userName eq "a" or title sw "b" and active eq true)", scim::Resource::user);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ((*f)->kind, Filter::or_);  // and binds tighter
  EXPECT_EQ((*f)->right->kind, Filter::and_);
  auto g = scim::parse_filter(R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "CB1")", scim::Resource::user);
  ASSERT_TRUE(g);
  EXPECT_EQ((*g)->attr, scim::Attr::employee_number);
  EXPECT_EQ((*g)->value.text, "CB1");
  auto esc = scim::parse_filter(R"(displayName eq "a \"q\" \u00e0")", scim::Resource::user);
  ASSERT_TRUE(esc);
  EXPECT_EQ((*esc)->value.text, "a \"q\" à");
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "(";
  deep += "userName pr";
  for (int i = 0; i < 70; ++i) deep += ")";
  EXPECT_FALSE(scim::parse_filter(deep, scim::Resource::user));
  std::string many = "userName pr";
  for (int i = 0; i < 300; ++i) many += " or userName pr";
  EXPECT_FALSE(scim::parse_filter(many, scim::Resource::user));
  EXPECT_FALSE(scim::parse_filter("members pr", scim::Resource::user));
  EXPECT_TRUE(scim::parse_filter("members pr", scim::Resource::group));
  EXPECT_FALSE(scim::parse_filter(R"(phoneNumbers[value eq "1"])", scim::Resource::user));
}

INSTANTIATE_TEST_SUITE_P(Stores, Scim, testing::Values(Backend::memory, Backend::lmdb), backend_name);

}  // namespace
}  // namespace congvu::test
