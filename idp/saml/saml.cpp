#include "idp/saml/saml.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <ctime>

#include "common/codec.hpp"
#include "common/html.hpp"
#include "common/crypto.hpp"
#include "directory/factors.hpp"
#include "directory/jose.hpp"
#include "idp/logout.hpp"
#include "idp/provider_impl.hpp"

namespace congvu::idp::saml {

using directory::Change;
using directory::Snapshot;

constexpr std::uint8_t kAuthn = 1, kLogout = 2;

// A checked AuthnRequest waiting for the login page, or a single logout in progress.
struct Pending {
  std::uint8_t kind = kAuthn;
  std::string sp, request_id, acs, relay_state, name_id_format;
  bool force_authn = false, passive = false, need_mfa = false;
  // Single logout: the participants still to visit, who asked (SP, request ID, binding, relay
  // state; empty sp: the IdP itself), the request awaiting its response, and where to end.
  std::vector<SamlParticipant> queue;
  std::string origin_binding, waiting_sp, waiting_for, done;
  UnixMs created = 0, expires = 0;
};

namespace {

constexpr const char* kSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success";
constexpr const char* kResponder = "urn:oasis:names:tc:SAML:2.0:status:Responder";
constexpr const char* kRequester = "urn:oasis:names:tc:SAML:2.0:status:Requester";
constexpr const char* kNoPassive = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
constexpr const char* kInvalidNameIdPolicy = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy";
constexpr const char* kNoAuthnContext = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext";
constexpr const char* kClassPassword = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
constexpr const char* kClassTotp = "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken";
constexpr char kSubmitScript[] = "document.forms[0].submit()";  // markup: allowed by its hash in the CSP
constexpr UnixMs kPendingTtl = 10 * 60 * 1000;
constexpr const char* kContinueContext = "congvu saml continue";
constexpr std::string_view kSealedPrefix = "s.";
constexpr std::size_t kMaxToken = 4096;
constexpr std::size_t kMaxParam = 384 * 1024;


std::string encode(const Pending& p) {
  codec::Writer w;
  w.u8(p.kind).str(p.sp).str(p.request_id).str(p.acs).str(p.relay_state).str(p.name_id_format)
      .u8(p.force_authn).u8(p.passive).u8(p.need_mfa).varint(p.queue.size());
  for (const auto& q : p.queue) w.str(q.sp).str(q.name_id).str(q.format).str(q.session_index);
  w.str(p.origin_binding).str(p.waiting_sp).str(p.waiting_for).str(p.done).i64(p.created).i64(p.expires);
  return w.take();
}

Pending decode_pending(std::string_view v) {
  codec::Reader r(v);
  Pending p;
  p.kind = r.u8();
  if (p.kind != kAuthn && p.kind != kLogout) throw codec::DecodeError("unknown SAML pending record");
  p.sp = r.str();
  p.request_id = r.str();
  p.acs = r.str();
  p.relay_state = r.str();
  p.name_id_format = r.str();
  p.force_authn = r.u8() == 1;
  p.passive = r.u8() == 1;
  p.need_mfa = r.u8() == 1;
  auto n = r.varint();
  if (n > 1000) throw codec::DecodeError("too many participants");
  p.queue.resize(static_cast<std::size_t>(n));
  for (auto& q : p.queue) {
    q.sp = r.str();
    q.name_id = r.str();
    q.format = r.str();
    q.session_index = r.str();
  }
  p.origin_binding = r.str();
  p.waiting_sp = r.str();
  p.waiting_for = r.str();
  p.done = r.str();
  p.created = r.i64();
  p.expires = r.i64();
  r.expect_done();
  return p;
}

std::optional<Pending> find_pending(Snapshot& s, const std::string& token, UnixMs now) {
  if (token.empty() || token.size() > 100) return std::nullopt;
  auto v = s.get_raw(directory::schema::saml_pending, secret_key(token));
  if (!v) return std::nullopt;
  auto p = decode_pending(*v);
  if (now >= p.expires) return std::nullopt;
  return p;
}

std::string seen_key(const std::string& sp, const std::string& id) { return directory::schema::join0(sp, id); }

// The replay-table key that marks a continuation answered: the request's ID, or for an
// IdP-initiated sign-in (which has none) its token.
std::string answered_key(const Pending& p, const std::string& token) {
  return seen_key(p.sp, p.request_id.empty() ? "continue " + directory::jose::b64url(crypto::sha256_raw(token)) : p.request_id);
}

bool seen(Snapshot& s, const std::string& key, UnixMs now) {
  auto v = s.get_raw(directory::schema::saml_seen, key);
  return v && v->size() == 8 && static_cast<UnixMs>(codec::get_be64(*v)) > now;
}

net::HttpResponse error_page(int status, std::string_view vi, std::string_view en) {
  return html_page(status, message_html("Không thể đăng nhập", "Cannot sign in", vi, en));
}

// The raw (still percent-encoded) value of `name` in a query string.
std::optional<std::string> raw_param(std::string_view query, std::string_view name) {
  std::size_t i = 0;
  while (i <= query.size()) {
    auto j = query.find('&', i);
    if (j == std::string_view::npos) j = query.size();
    auto part = query.substr(i, j - i);
    if (part.size() > name.size() && part.substr(0, name.size()) == name && part[name.size()] == '=')
      return std::string(part.substr(name.size() + 1));
    i = j + 1;
  }
  return std::nullopt;
}

std::string origin_of(const std::string& url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) return "'none'";
  std::string o = std::string(u->scheme()) + "://" + std::string(u->encoded_host_and_port());
  return o;
}

struct AttributeDef {
  const char* short_name;
  const char* oid;
};
constexpr AttributeDef kAttributes[] = {
    {"uid", "urn:oid:0.9.2342.19200300.100.1.1"},         {"mail", "urn:oid:0.9.2342.19200300.100.1.3"},
    {"displayName", "urn:oid:2.16.840.1.113730.3.1.241"}, {"givenName", "urn:oid:2.5.4.42"},
    {"sn", "urn:oid:2.5.4.4"},                            {"departmentNumber", "urn:oid:2.16.840.1.113730.3.1.2"},
    {"ou", "urn:oid:2.5.4.11"},                           {"title", "urn:oid:2.5.4.12"},
    {"isMemberOf", "urn:oid:1.3.6.1.4.1.5923.1.5.1.1"},   {"employeeNumber", "urn:oid:2.16.840.1.113730.3.1.3"},
};

std::vector<std::string> attribute_values(Snapshot& s, const directory::Person& p, std::string_view name) {
  if (name == "uid") return {p.login};
  if (name == "mail") return {p.address};
  if (name == "displayName") return {p.full_name};
  if (name == "givenName") return {p.given};
  if (name == "sn") return {p.family};
  if (name == "departmentNumber") return {p.unit};
  if (name == "ou") {
    auto u = s.unit(p.unit);
    return {u ? u->name : std::string()};
  }
  if (name == "title") return {p.position};
  if (name == "isMemberOf") return s.groups_of(p);
  if (name == "employeeNumber") return {p.staff_no};
  return {};
}

}  // namespace

std::optional<UnixMs> parse_instant(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fff...](Z|+00:00)
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return std::nullopt;
  auto num = [&](std::size_t at, std::size_t n) -> int {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  std::tm t{};
  t.tm_year = num(0, 4) - 1900;
  t.tm_mon = num(5, 2) - 1;
  t.tm_mday = num(8, 2);
  t.tm_hour = num(11, 2);
  t.tm_min = num(14, 2);
  t.tm_sec = num(17, 2);
  if (t.tm_year < 0 || t.tm_mon < 0 || t.tm_mon > 11 || t.tm_mday < 1 || t.tm_mday > 31 || t.tm_hour < 0 ||
      t.tm_hour > 23 || t.tm_min < 0 || t.tm_min > 59 || t.tm_sec < 0 || t.tm_sec > 60)
    return std::nullopt;
  std::size_t i = 19;
  UnixMs ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 3) ms = ms * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) ms *= 10;
  }
  std::string_view zone = s.substr(i);
  if (zone != "Z" && zone != "+00:00" && zone != "-00:00") return std::nullopt;
  return static_cast<UnixMs>(timegm(&t)) * 1000 + ms;
}

std::string format_instant(UnixMs t) {
  std::time_t secs = static_cast<std::time_t>(t / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

struct Idp::Inbound {
  DocPtr doc;
  xmlNode* root = nullptr;
  ServiceProvider sp;
  std::string id, relay_state, binding;
  bool is_signed = false;
};

Idp::Idp(directory::Directory& dir, SigningKey key, Config cfg, Log log)
    : dir_(dir), key_(std::move(key)), cfg_(std::move(cfg)), log_(std::move(log)) {
  init();
  if (cfg_.seal_key.size() != 32) cfg_.seal_key = crypto::random_string(32);
  entity_id_ = endpoint("/saml/metadata");
  std::string sso = escape(endpoint("/saml/sso")), slo = escape(endpoint("/saml/slo"));
  std::string xml = std::string("<md:EntityDescriptor xmlns:md=\"") + kNsMd + "\" xmlns:ds=\"" + kNsDs +
                    "\" ID=\"" + new_id() + "\" entityID=\"" + escape(entity_id_) + "\">" +
                    "<md:IDPSSODescriptor WantAuthnRequestsSigned=\"false\" protocolSupportEnumeration=\"" + kNsSamlp +
                    "\"><md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>" +
                    key_.cert_b64() + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>" +
                    "<md:SingleLogoutService Binding=\"" + kBindingRedirect + "\" Location=\"" + slo + "\"/>" +
                    "<md:SingleLogoutService Binding=\"" + kBindingPost + "\" Location=\"" + slo + "\"/>" +
                    "<md:NameIDFormat>" + kNameIdPersistent + "</md:NameIDFormat><md:NameIDFormat>" + kNameIdEmail +
                    "</md:NameIDFormat><md:NameIDFormat>" + kNameIdUnspecified + "</md:NameIDFormat><md:NameIDFormat>" +
                    kNameIdTransient + "</md:NameIDFormat>" + "<md:SingleSignOnService Binding=\"" + kBindingRedirect +
                    "\" Location=\"" + sso + "\"/><md:SingleSignOnService Binding=\"" + kBindingPost +
                    "\" Location=\"" + sso + "\"/></md:IDPSSODescriptor></md:EntityDescriptor>";
  auto doc = parse(xml);
  if (!doc) throw std::runtime_error("SAML metadata: " + doc.error().message);
  xmlNode* root = xmlDocGetRootElement(doc->get());
  if (auto st = sign(doc->get(), root, nullptr, key_); !st) throw std::runtime_error("SAML metadata: " + st.error().message);
  metadata_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + serialize(doc->get()) + "\n";
}

// The replay record's value: its expiry, past the oldest IssueInstant still accepted.
std::string Idp::seen_until(UnixMs now) const {
  std::string v;
  codec::put_be64(v, static_cast<std::uint64_t>(now + cfg_.max_age + cfg_.skew + 60 * 1000));
  return v;
}

std::string Idp::new_id() const { return "_" + crypto::hex(crypto::random_string(16)); }

net::HttpResponse Idp::refuse(const std::string& why, const std::string& from) {
  if (log_) log_("saml: refused a message from " + from + ": " + why);
  return error_page(400, "Yêu cầu SAML bị từ chối: " + why, "The SAML message was refused: " + why);
}

std::optional<net::HttpResponse> Idp::handle(const net::HttpRequest& req, const std::string& cookie, UnixMs now) {
  std::string path(web::path_of(req.target));
  if (path.rfind("/saml/", 0) != 0) return std::nullopt;
  bool post = req.method == "POST", get = req.method == "GET" || req.method == "HEAD";
  if (!post && !get) return net::HttpResponse{405, "text/plain; charset=utf-8", {{"Allow", "GET, POST"}}, "method not allowed\n"};
  if (path == "/saml/metadata") {
    if (!get) return net::HttpResponse{405, "text/plain; charset=utf-8", {{"Allow", "GET"}}, "method not allowed\n"};
    return net::HttpResponse{200, "application/samlmetadata+xml", {{"Cache-Control", "max-age=3600"}}, metadata_};
  }
  try {
    if (path == "/saml/sso") return sso(req, cookie, now);
    if (path == "/saml/slo") return slo(req, cookie, now);
    auto q = web::decode_form(web::query_of(req.target));
    if (!get) return net::HttpResponse{405, "text/plain; charset=utf-8", {{"Allow", "GET"}}, "method not allowed\n"};
    if (path == "/saml/continue") return resume(q && q->count("p") ? q->at("p") : std::string(), cookie, now);
    if (path == "/saml/init") return idp_initiated(req, cookie, now);
  } catch (const std::exception& e) {
    if (log_) log_(std::string("saml: ") + e.what());
    return error_page(500, "Lỗi máy chủ.", "Server error.");
  }
  return net::HttpResponse{404, "text/plain; charset=utf-8", {}, "not found\n"};
}

std::variant<Idp::Inbound, net::HttpResponse> Idp::receive(const net::HttpRequest& req, bool response, UnixMs now) {
  const std::string& from = req.peer;
  const char* param = response ? "SAMLResponse" : "SAMLRequest";
  Inbound in;
  std::string value, sig_alg;
  bool redirect = req.method != "POST";
  std::optional<std::map<std::string, std::string>> params;
  if (redirect) {
    auto query = web::query_of(req.target);
    if (query.size() > kMaxParam) return refuse("the message is larger than the limit", from);
    params = web::decode_form(query);
  } else {
    auto ct = req.headers.count("content-type") ? req.headers.at("content-type") : std::string();
    if (ct.rfind("application/x-www-form-urlencoded", 0) != 0) return refuse("the body is not a form", from);
    if (req.body.size() > kMaxParam) return refuse("the message is larger than the limit", from);
    params = web::decode_form(req.body);
  }
  if (!params) return refuse("malformed or repeated parameters", from);
  auto get = [&](const char* k) { return params->count(k) ? params->at(k) : std::string(); };
  value = get(param);
  if (value.empty()) return refuse(std::string("no ") + param + " parameter", from);
  in.relay_state = get("RelayState");
  if (in.relay_state.size() > cfg_.relay_state_max)
    return refuse("RelayState is longer than " + std::to_string(cfg_.relay_state_max) + " bytes", from);
  std::string clean;
  for (char c : value)
    if (!std::isspace(static_cast<unsigned char>(c))) clean += c;
  auto raw = crypto::base64_decode(clean);
  if (!raw) return refuse(std::string(param) + " is not base64", from);
  std::string xml;
  if (redirect) {
    auto inflated = inflate_raw(*raw, kMaxXml);
    if (!inflated) return refuse(inflated.error().message, from);
    xml = std::move(*inflated);
  } else {
    xml = std::move(*raw);
  }
  auto doc = parse(xml);
  if (!doc) return refuse(doc.error().message, from);
  in.doc = std::move(*doc);
  in.root = xmlDocGetRootElement(in.doc.get());
  in.binding = redirect ? kBindingRedirect : kBindingPost;
  if (attr(in.root, "Version") != "2.0") return refuse("the message is not SAML 2.0", from);
  in.id = attr(in.root, "ID");
  if (in.id.empty() || in.id.size() > 256) return refuse("the message has no (or an overlong) ID", from);
  auto issued = parse_instant(attr(in.root, "IssueInstant"));
  if (!issued) return refuse("the message has no valid IssueInstant", from);
  if (*issued < now - cfg_.max_age) return refuse("the message expired (IssueInstant " + attr(in.root, "IssueInstant") + ")", from);
  if (*issued > now + cfg_.skew) return refuse("the message's IssueInstant is in the future", from);
  std::string issuer = text(first_child(in.root, kNsSaml, "Issuer"));
  if (issuer.empty()) return refuse("the message has no Issuer", from);
  auto sp = dir_.read([&](Snapshot& s) { return find_sp(s, issuer); });
  if (!sp) return refuse("the Issuer " + issuer + " is not a registered service provider", from);
  in.sp = std::move(*sp);
  std::string path(web::path_of(req.target));
  std::string destination = attr(in.root, "Destination");
  if (has_attr(in.root, "Destination") && destination != endpoint(path))
    return refuse("the message is for another Destination (" + destination + ")", from);
  // Signatures: the query signature in the Redirect binding, the XML signature in POST.
  // The SP's keys, decoded only when a signature is there to check.
  auto keys_of = [&] {
    std::vector<PeerKey> keys;
    for (const auto& c : in.sp.signing_certs)
      if (auto k = PeerKey::from_certificate(c)) keys.push_back(*k);
    return keys;
  };
  if (redirect && params->count("Signature")) {
    sig_alg = get("SigAlg");
    auto raw_value = raw_param(web::query_of(req.target), param);
    auto raw_relay = raw_param(web::query_of(req.target), "RelayState");
    auto raw_alg = raw_param(web::query_of(req.target), "SigAlg");
    if (!raw_alg) return refuse("a signed Redirect message needs SigAlg", from);
    if (!raw_value) return refuse("the signed Redirect message must name " + std::string(param) + " as it is signed", from);
    std::string octets = std::string(param) + "=" + *raw_value;
    if (raw_relay) octets += "&RelayState=" + *raw_relay;
    octets += "&SigAlg=" + *raw_alg;
    auto sig_raw = crypto::base64_decode(get("Signature"));
    if (!sig_raw) return refuse("the Signature is not base64", from);
    Status last = make_error(Errc::invalid_argument, "the SP has no signing certificate");
    for (const auto& k : keys_of()) {
      last = verify_raw(octets, *sig_raw, sig_alg, k);
      if (last) break;
    }
    if (!last) return refuse(last.error().message, from);
    in.is_signed = true;
  } else if (!redirect && has_signature(in.root)) {
    Status last = make_error(Errc::invalid_argument, "the SP has no signing certificate");
    for (const auto& k : keys_of()) {
      last = verify(in.doc.get(), in.root, k);
      if (last) break;
    }
    if (!last) return refuse(last.error().message, from);
    in.is_signed = true;
  }
  bool is_authn = !response && is(in.root, kNsSamlp, "AuthnRequest");
  bool required = is_authn ? in.sp.authn_requests_signed : !in.sp.signing_certs.empty();
  if (required && !in.is_signed) return refuse("the SP requires signed messages and this one is not signed", from);
  if (in.is_signed && destination.empty()) return refuse("a signed message must name its Destination", from);
  bool replayed = dir_.read([&](Snapshot& s) { return seen(s, seen_key(in.sp.entity_id, in.id), now); });
  if (replayed) return refuse("the message ID " + in.id + " was seen before (replay)", from);
  return in;
}

net::HttpResponse Idp::sso(const net::HttpRequest& req, const std::string& cookie, UnixMs now) {
  auto got = receive(req, false, now);
  if (auto* r = std::get_if<net::HttpResponse>(&got)) return std::move(*r);
  auto& in = std::get<Inbound>(got);
  if (!is(in.root, kNsSamlp, "AuthnRequest")) return refuse("SAMLRequest is not an AuthnRequest", req.peer);
  Pending p;
  p.kind = kAuthn;
  p.sp = in.sp.entity_id;
  p.request_id = in.id;
  p.relay_state = in.relay_state;
  std::string acs_url = attr(in.root, "AssertionConsumerServiceURL");
  std::string binding = attr(in.root, "ProtocolBinding");
  if (!binding.empty() && binding != kBindingPost) return refuse("only the HTTP-POST binding is offered for responses", req.peer);
  if (!acs_url.empty()) {
    bool known = std::any_of(in.sp.acs.begin(), in.sp.acs.end(), [&](const Endpoint& e) { return e.location == acs_url; });
    if (!known) return refuse("AssertionConsumerServiceURL " + acs_url + " is not in the SP's metadata", req.peer);
    p.acs = acs_url;
  } else if (has_attr(in.root, "AssertionConsumerServiceIndex")) {
    std::string idx = attr(in.root, "AssertionConsumerServiceIndex");
    for (const auto& e : in.sp.acs)
      if (std::to_string(e.index) == idx) p.acs = e.location;
    if (p.acs.empty()) return refuse("AssertionConsumerServiceIndex " + idx + " is not in the SP's metadata", req.peer);
  } else {
    p.acs = in.sp.default_acs()->location;
  }
  p.force_authn = attr(in.root, "ForceAuthn") == "true" || attr(in.root, "ForceAuthn") == "1";
  p.passive = attr(in.root, "IsPassive") == "true" || attr(in.root, "IsPassive") == "1";
  p.name_id_format = in.sp.name_id_format;
  std::string status;
  if (xmlNode* pol = first_child(in.root, kNsSamlp, "NameIDPolicy"); pol && has_attr(pol, "Format")) {
    std::string f = attr(pol, "Format");
    if (f == kNameIdPersistent || f == kNameIdEmail || f == kNameIdTransient) p.name_id_format = f;
    else if (f != kNameIdUnspecified) status = kInvalidNameIdPolicy;
  }
  if (xmlNode* rac = first_child(in.root, kNsSamlp, "RequestedAuthnContext")) {
    std::string cmp = attr(rac, "Comparison");
    bool any_known = false;
    for (xmlNode* c : children(rac, kNsSaml, "AuthnContextClassRef")) {
      std::string v = text(c);
      if (v == kClassTotp || v == "https://refeds.org/profile/mfa") {
        p.need_mfa = true;
        any_known = true;
      } else if (v == kClassPassword || v == "urn:oasis:names:tc:SAML:2.0:ac:classes:Password" ||
                 v == "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified") {
        any_known = true;
      }
    }
    if (!any_known && (cmp.empty() || cmp == "exact" || cmp == "minimum")) status = kNoAuthnContext;
  }
  p.created = now;
  p.expires = now + kPendingTtl;
  if (!status.empty()) {
    // A status carries no assertion: nothing to book against a replay, nothing stored.
    if (log_) log_("saml: " + p.sp + " asked for what cannot be given: " + status);
    return post_form(p.acs, "SAMLResponse", status_response(p.acs, p.request_id, kRequester, status, now), p.relay_state);
  }
  return answer(p, in.sp, "", cookie, now, true);
}

net::HttpResponse Idp::idp_initiated(const net::HttpRequest& req, const std::string& cookie, UnixMs now) {
  auto q = web::decode_form(web::query_of(req.target));
  if (!q) return refuse("malformed or repeated parameters", req.peer);
  std::string entity = q->count("sp") ? q->at("sp") : std::string();
  auto sp = dir_.read([&](Snapshot& s) { return find_sp(s, entity); });
  if (!sp || !sp->idp_initiated) return refuse("no service provider " + entity + " open to IdP-initiated login", req.peer);
  Pending p;
  p.sp = sp->entity_id;
  p.acs = sp->default_acs()->location;
  p.relay_state = q->count("RelayState") ? q->at("RelayState") : sp->default_relay_state;
  if (p.relay_state.size() > cfg_.relay_state_max)
    return refuse("RelayState is longer than " + std::to_string(cfg_.relay_state_max) + " bytes", req.peer);
  p.name_id_format = sp->name_id_format;
  p.created = now;
  p.expires = now + kPendingTtl;
  return answer(p, *sp, "", cookie, now, true);
}

std::string Idp::seal(const Pending& p) const {
  return std::string(kSealedPrefix) + directory::jose::b64url(crypto::seal(cfg_.seal_key, encode(p), kContinueContext));
}

std::optional<Pending> Idp::unseal(const std::string& token, UnixMs now) const {
  if (token.size() > kMaxToken || token.rfind(kSealedPrefix, 0) != 0) return std::nullopt;
  auto raw = directory::jose::b64url_decode(std::string_view(token).substr(kSealedPrefix.size()));
  if (!raw) return std::nullopt;
  auto plain = crypto::open_sealed(cfg_.seal_key, *raw, kContinueContext);
  if (!plain) return std::nullopt;
  try {
    auto p = decode_pending(*plain);
    if (p.kind != kAuthn || now >= p.expires) return std::nullopt;
    return p;
  } catch (const codec::DecodeError&) {
    return std::nullopt;
  }
}

net::HttpResponse Idp::resume(const std::string& token, const std::string& cookie, UnixMs now) {
  auto p = unseal(token, now);
  if (!p)
    return error_page(400, "Yêu cầu đăng nhập đã hết hạn. Hãy quay lại ứng dụng và thử lại.",
                      "The sign-in request expired. Go back to the application and try again.");
  if (dir_.read([&](Snapshot& s) { return seen(s, answered_key(*p, token), now); }))
    return error_page(400, "Yêu cầu đăng nhập này đã được trả lời. Hãy quay lại ứng dụng và thử lại.",
                      "This sign-in request was answered already. Go back to the application and try again.");
  auto sp = dir_.read([&](Snapshot& s) { return find_sp(s, p->sp); });
  if (!sp) return error_page(400, "Ứng dụng không còn được đăng ký.", "The application is no longer registered.");
  return answer(*p, *sp, token, cookie, now, false);
}

// `fresh`: the request was checked just now; otherwise it comes back sealed in `token` from
// /saml/continue. A signed-in browser is answered at once with one commit, which books the
// request (its ID, or the token of an IdP-initiated one) in the replay table so that it is
// answered once; one that must sign in is sent on with the request sealed in its continuation
// token, and nothing is stored for it.
net::HttpResponse Idp::answer(const Pending& p, const ServiceProvider& sp, const std::string& token,
                              const std::string& cookie, UnixMs now, bool fresh) {
  const bool books = !fresh || !p.request_id.empty();
  const std::string once = books ? answered_key(p, token) : std::string();
  bool spent = false;  // another answer to the same continuation committed first
  auto book = [&](Change& c) -> Status {
    if (!books) return ok_status();
    spent = seen(c, once, now);
    if (spent) return make_error(Errc::conflict, "this sign-in request was answered already");
    c.put(directory::schema::saml_seen, once, seen_until(now));
    return ok_status();
  };
  auto failed = [&](const Error& e) {
    if (spent)
      return error_page(400, "Yêu cầu đăng nhập này đã được trả lời. Hãy quay lại ứng dụng và thử lại.",
                        "This sign-in request was answered already. Go back to the application and try again.");
    return store_failed(e);
  };
  auto park = [&](const std::string& next) -> net::HttpResponse {
    std::string here = web::with_params("/saml/continue", {{"p", fresh ? seal(p) : token}});
    return web::redirect(next.empty() ? here : web::with_params(next, {{"return_to", here}}));
  };
  // The browser comes back with a GET first: a cross-site POST carries no SameSite=Lax cookie,
  // so "no cookie" here does not yet mean "not signed in".
  if (fresh && cookie.empty()) return park("");
  // A status carries no assertion: nothing to book against a replay, nothing stored.
  auto answer_status = [&](const char* sub) {
    return post_form(p.acs, "SAMLResponse", status_response(p.acs, p.request_id, kResponder, sub, now), p.relay_state);
  };
  auto session = dir_.read([&](Snapshot& s) { return find_session(s, cookie, now); });
  std::optional<directory::Person> person;
  if (session) {
    person = dir_.read([&](Snapshot& s) { return s.person(session->person); });
    if (!person || person->status != directory::PersonStatus::active) session.reset();
  }
  if (!session || !person || (p.force_authn && session->auth_time < p.created)) {
    if (p.passive) return answer_status(kNoPassive);
    return park("/login");
  }
  bool has_otp = session->amr.find("otp") != std::string::npos;
  if (session->otp_pending || (!has_otp && p.need_mfa) ||
      (!has_otp && dir_.read([&](Snapshot& s) { return s.second_factor_required(*person); }))) {
    if (p.passive) return answer_status(kNoPassive);
    auto enrolled = dir_.read([&](Snapshot& s) {
      auto f = directory::find_factor(s, person->id);
      return f && f->confirmed;
    });
    return park(enrolled ? "/login/otp" : "/mfa/enrol");
  }
  SamlParticipant part;
  auto xml = response(sp, *person, *session, Assertion{p.acs, p.request_id, p.name_id_format, has_otp}, now, &part);
  if (!xml) {
    if (log_) log_("saml: response for " + sp.entity_id + ": " + xml.error().message);
    return error_page(500, "Không tạo được phản hồi SAML.", "The SAML response could not be made.");
  }
  auto written = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
    if (auto st = book(c); !st) return st;
    auto current = find_session(c, cookie, now);
    if (!current) return make_error(Errc::conflict, "the session ended");
    bool known = std::any_of(current->saml.begin(), current->saml.end(), [&](const SamlParticipant& x) {
      return x.sp == part.sp && (x.format != kNameIdTransient || x.name_id == part.name_id);
    });
    if (!known) {
      current->saml.push_back(part);
      current->last_seen = now;
      put_session(c, cookie, *current);
    }
    return ok_status();
  });
  if (!written) return failed(written.error());
  return post_form(p.acs, "SAMLResponse", *xml, p.relay_state);
}

Result<std::string> Idp::response(const ServiceProvider& sp, const directory::Person& person, const SsoSession& s,
                                  const Assertion& a, UnixMs now, SamlParticipant* participant) {
  std::string name_id;
  if (a.name_id_format == kNameIdEmail) name_id = person.address;
  else if (a.name_id_format == kNameIdUnspecified) name_id = person.login;
  else if (a.name_id_format == kNameIdTransient) name_id = new_id();
  else name_id = person.id.str();
  std::string issue = format_instant(now), not_after = format_instant(now + cfg_.assertion_ttl);
  std::string in_resp = a.in_response_to.empty() ? "" : " InResponseTo=\"" + escape(a.in_response_to) + "\"";
  std::string issuer = "<saml:Issuer>" + escape(entity_id_) + "</saml:Issuer>";
  std::string attrs;
  dir_.read([&](Snapshot& snap) {
    for (const auto& def : kAttributes) {
      if (std::find(sp.attributes.begin(), sp.attributes.end(), def.short_name) == sp.attributes.end()) continue;
      auto values = attribute_values(snap, person, def.short_name);
      attrs += std::string("<saml:Attribute Name=\"") + def.oid +
               "\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\" FriendlyName=\"" + def.short_name + "\">";
      for (const auto& v : values) attrs += "<saml:AttributeValue xsi:type=\"xs:string\">" + escape(v) + "</saml:AttributeValue>";
      attrs += "</saml:Attribute>";
    }
    return 0;
  });
  std::string assertion =
      std::string("<saml:Assertion xmlns:saml=\"") + kNsSaml +
      "\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ID=\"" +
      new_id() + "\" Version=\"2.0\" IssueInstant=\"" + issue + "\">" + issuer + "<saml:Subject><saml:NameID Format=\"" +
      escape(a.name_id_format) + "\">" + escape(name_id) +
      "</saml:NameID><saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">"
      "<saml:SubjectConfirmationData NotOnOrAfter=\"" + not_after + "\" Recipient=\"" + escape(a.acs) + "\"" + in_resp +
      "/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore=\"" + format_instant(now - 60 * 1000) +
      "\" NotOnOrAfter=\"" + not_after + "\"><saml:AudienceRestriction><saml:Audience>" + escape(sp.entity_id) +
      "</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant=\"" +
      format_instant(s.auth_time) + "\" SessionIndex=\"" + escape(s.sid) + "\" SessionNotOnOrAfter=\"" +
      format_instant(s.expires) + "\"><saml:AuthnContext><saml:AuthnContextClassRef>" +
      (a.mfa ? kClassTotp : kClassPassword) + "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>" +
      (attrs.empty() ? "" : "<saml:AttributeStatement>" + attrs + "</saml:AttributeStatement>") + "</saml:Assertion>";
  bool encrypt_it = sp.encrypt_assertions && !sp.encryption_cert.empty();
  std::string xml = std::string("<samlp:Response xmlns:samlp=\"") + kNsSamlp + "\" xmlns:saml=\"" + kNsSaml + "\" ID=\"" +
                    new_id() + "\" Version=\"2.0\" IssueInstant=\"" + issue + "\" Destination=\"" + escape(a.acs) +
                    "\"" + in_resp + ">" + issuer + "<samlp:Status><samlp:StatusCode Value=\"" + kSuccess +
                    "\"/></samlp:Status>" + (encrypt_it ? "<saml:EncryptedAssertion>" : "") + assertion +
                    (encrypt_it ? "</saml:EncryptedAssertion>" : "") + "</samlp:Response>";
  auto doc = parse(xml);
  if (!doc) return doc.error();
  xmlNode* root = xmlDocGetRootElement(doc->get());
  xmlNode* holder = encrypt_it ? first_child(root, kNsSaml, "EncryptedAssertion") : root;
  xmlNode* an = first_child(holder, kNsSaml, "Assertion");
  if (auto st = sign(doc->get(), an, first_child(an, kNsSaml, "Issuer"), key_); !st) return st.error();
  if (encrypt_it) {
    auto key = PeerKey::from_certificate(sp.encryption_cert);
    if (!key) return key.error();
    if (auto st = encrypt(doc->get(), an, *key); !st) return st.error();
  }
  if (auto st = sign(doc->get(), root, first_child(root, kNsSaml, "Issuer"), key_); !st) return st.error();
  if (participant) *participant = SamlParticipant{sp.entity_id, name_id, a.name_id_format, s.sid};
  return serialize(doc->get());
}

std::string Idp::status_response(const std::string& acs, const std::string& in_response_to, const std::string& status,
                                 const std::string& sub_status, UnixMs now) {
  std::string in_resp = in_response_to.empty() ? "" : " InResponseTo=\"" + escape(in_response_to) + "\"";
  std::string code = "<samlp:StatusCode Value=\"" + status + "\">" +
                     (sub_status.empty() ? "" : "<samlp:StatusCode Value=\"" + sub_status + "\"/>") + "</samlp:StatusCode>";
  std::string xml = std::string("<samlp:Response xmlns:samlp=\"") + kNsSamlp + "\" xmlns:saml=\"" + kNsSaml + "\" ID=\"" +
                    new_id() + "\" Version=\"2.0\" IssueInstant=\"" + format_instant(now) + "\" Destination=\"" +
                    escape(acs) + "\"" + in_resp + "><saml:Issuer>" + escape(entity_id_) + "</saml:Issuer><samlp:Status>" +
                    code + "</samlp:Status></samlp:Response>";
  return signed_xml(xml);
}

net::HttpResponse Idp::post_form(const std::string& url, const std::string& field, const std::string& xml,
                                 const std::string& relay_state) {
  // Markup only from literals; the field name is ours, the URL and RelayState are escaped (common/html.hpp).
  Html body("<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            "content=\"width=device-width, initial-scale=1\"><title>Đang chuyển tiếp — Redirecting</title>"
            "<link rel=\"stylesheet\" href=\"/idp/style.css\"></head><body><main><form method=\"post\" action=\"");
  body << url << "\"><input type=\"hidden\" name=\"" << field << "\" value=\"" << crypto::base64_encode(xml) << "\">";
  if (!relay_state.empty()) body << "<input type=\"hidden\" name=\"RelayState\" value=\"" << relay_state << "\">";
  body << "<noscript><p>Trình duyệt không chạy JavaScript: bấm Tiếp tục. <span lang=\"en\">JavaScript is off: press "
          "Continue.</span></p><button type=\"submit\">Tiếp tục — Continue</button></noscript></form></main>"
          "<script>"
       << kSubmitScript << "</script></body></html>";
  static const std::string script_hash = crypto::base64_encode(crypto::sha256_raw(kSubmitScript));
  return net::HttpResponse{200,
                           "text/html; charset=utf-8",
                           {{"Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'sha256-" +
                                                            script_hash + "'; form-action " + origin_of(url) +
                                                            "; frame-ancestors 'none'; base-uri 'none'"},
                            {"X-Frame-Options", "DENY"},
                            {"Cache-Control", "no-store"}},
                           std::move(body).str()};
}

net::HttpResponse Idp::redirect_signed(const std::string& url, const std::string& field, const std::string& xml,
                                       const std::string& relay_state) {
  std::string q = field + "=" + web::percent_encode(crypto::base64_encode(deflate_raw(xml)));
  if (!relay_state.empty()) q += "&RelayState=" + web::percent_encode(relay_state);
  q += "&SigAlg=" + web::percent_encode(kRsaSha256);
  q += "&Signature=" + web::percent_encode(crypto::base64_encode(sign_raw(q, key_)));
  auto r = web::redirect(url + (url.find('?') == std::string::npos ? "?" : "&") + q);
  r.headers["Cache-Control"] = "no-store";
  return r;
}

std::string Idp::logout_request(const SamlParticipant& p, const std::string& dest, std::string& id_out, UnixMs now) {
  id_out = new_id();
  std::string xml = std::string("<samlp:LogoutRequest xmlns:samlp=\"") + kNsSamlp + "\" xmlns:saml=\"" + kNsSaml +
                    "\" ID=\"" + id_out + "\" Version=\"2.0\" IssueInstant=\"" + format_instant(now) +
                    "\" Destination=\"" + escape(dest) + "\" NotOnOrAfter=\"" + format_instant(now + cfg_.assertion_ttl) +
                    "\"><saml:Issuer>" + escape(entity_id_) + "</saml:Issuer><saml:NameID Format=\"" + escape(p.format) +
                    "\">" + escape(p.name_id) + "</saml:NameID><samlp:SessionIndex>" + escape(p.session_index) +
                    "</samlp:SessionIndex></samlp:LogoutRequest>";
  return xml;
}

std::string Idp::logout_response(const std::string& dest, const std::string& in_response_to, bool success, UnixMs now) {
  std::string xml = std::string("<samlp:LogoutResponse xmlns:samlp=\"") + kNsSamlp + "\" xmlns:saml=\"" + kNsSaml +
                    "\" ID=\"" + new_id() + "\" Version=\"2.0\" IssueInstant=\"" + format_instant(now) +
                    "\" Destination=\"" + escape(dest) + "\" InResponseTo=\"" + escape(in_response_to) +
                    "\"><saml:Issuer>" + escape(entity_id_) + "</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"" +
                    (success ? kSuccess : kResponder) + "\"/></samlp:Status></samlp:LogoutResponse>";
  return xml;
}

std::string Idp::signed_xml(const std::string& xml) const {
  auto doc = parse(xml);
  if (!doc) return xml;
  xmlNode* root = xmlDocGetRootElement(doc->get());
  if (!sign(doc->get(), root, first_child(root, kNsSaml, "Issuer"), key_)) return xml;
  return serialize(doc->get());
}

net::HttpResponse Idp::slo(const net::HttpRequest& req, const std::string& cookie, UnixMs now) {
  bool is_response =
      raw_param(req.method == "POST" ? std::string_view(req.body) : web::query_of(req.target), "SAMLResponse").has_value();
  auto got = receive(req, is_response, now);
  if (auto* r = std::get_if<net::HttpResponse>(&got)) return std::move(*r);
  auto& in = std::get<Inbound>(got);
  if (is_response) {
    if (!is(in.root, kNsSamlp, "LogoutResponse")) return refuse("SAMLResponse is not a LogoutResponse", req.peer);
    auto p = dir_.read([&](Snapshot& s) { return find_pending(s, in.relay_state, now); });
    if (!p || p->kind != kLogout || p->waiting_for != attr(in.root, "InResponseTo") || p->waiting_sp != in.sp.entity_id)
      return refuse("a LogoutResponse that answers no logout in progress", req.peer);
    std::string code = attr(first_child(first_child(in.root, kNsSamlp, "Status"), kNsSamlp, "StatusCode"), "Value");
    if (log_) log_("saml: " + in.sp.entity_id + " answered the logout with " + code);
    return logout_step(in.relay_state, now);
  }
  if (!is(in.root, kNsSamlp, "LogoutRequest")) return refuse("SAMLRequest is not a LogoutRequest", req.peer);
  std::string name_id = text(first_child(in.root, kNsSaml, "NameID"));
  if (name_id.empty()) return refuse("the LogoutRequest has no NameID (EncryptedID is not supported)", req.peer);
  std::vector<std::string> indexes;
  for (xmlNode* n : children(in.root, kNsSamlp, "SessionIndex")) indexes.push_back(text(n));
  Pending p;
  p.kind = kLogout;
  p.sp = in.sp.entity_id;
  p.request_id = in.id;
  p.relay_state = in.relay_state;
  p.origin_binding = in.binding;
  p.created = now;
  p.expires = now + kPendingTtl;
  auto named = [&](const SsoSession& s) {
    return std::any_of(s.saml.begin(), s.saml.end(), [&](const SamlParticipant& part) {
      return part.sp == in.sp.entity_id && part.name_id == name_id &&
             (indexes.empty() || std::find(indexes.begin(), indexes.end(), part.session_index) != indexes.end());
    });
  };
  // The sessions this logout names. Signed: found through the NameID index (the POST binding
  // brings no cookie). Unsigned (an SP without a signing certificate): anybody could have
  // written it, so it ends at most the session of the browser that brought it, never a
  // NameID's sessions elsewhere.
  auto named_sessions = [&](Snapshot& s) {
    std::vector<std::pair<std::string, SsoSession>> out;
    if (in.is_signed) {
      out = sessions_named(s, in.sp.entity_id, name_id);
    } else if (!cookie.empty()) {
      if (auto v = s.get_raw(directory::schema::sso, secret_key(cookie))) out.emplace_back(secret_key(cookie), decode_sso(*v));
    }
    std::erase_if(out, [&](const auto& e) { return !named(e.second); });
    return out;
  };
  // Nothing to end: answered at once, and nothing is stored.
  if (dir_.read([&](Snapshot& s) { return named_sessions(s).empty(); })) return logout_done(p, now);
  std::vector<SsoSession> ended;
  std::string token = new_secret();
  auto written = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
    ended.clear();
    p.queue.clear();
    for (auto& [key, s] : named_sessions(c)) {
      erase_session(c, key);
      c.audit("session.logout", s.person.str(), "", "{\"sid\":\"" + s.sid + "\",\"saml\":true}");
      for (const auto& part : s.saml)
        if (part.sp != in.sp.entity_id) p.queue.push_back(part);
      ended.push_back(std::move(s));
    }
    c.put(directory::schema::saml_seen, seen_key(p.sp, p.request_id), seen_until(now));
    c.put(directory::schema::saml_pending, secret_key(token), encode(p));
    return ok_status();
  });
  if (!written) return store_failed(written.error());
  for (const auto& s : ended) {
    if (logouts_) logouts_->session_ended(s, "logout", now);
    if (log_) log_("saml: " + in.sp.entity_id + " ended session " + s.sid);
  }
  return logout_step(token, now);
}

std::optional<net::HttpResponse> Idp::logout_chain(const SsoSession& s, const std::string& done, UnixMs now) {
  if (s.saml.empty()) return std::nullopt;
  Pending p;
  p.kind = kLogout;
  p.queue = s.saml;
  p.done = done;
  p.created = now;
  p.expires = now + kPendingTtl;
  std::string token = new_secret();
  auto written = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
    c.put(directory::schema::saml_pending, secret_key(token), encode(p));
    return ok_status();
  });
  if (!written) return store_failed(written.error());
  return logout_step(token, now);
}

net::HttpResponse Idp::logout_step(const std::string& token, UnixMs now) {
  auto p = dir_.read([&](Snapshot& s) { return find_pending(s, token, now); });
  if (!p) return error_page(400, "Phiên đăng xuất đã hết hạn.", "The sign-out expired.");
  // The next SP that can be reached through the browser; SOAP-only ones are told directly.
  while (!p->queue.empty()) {
    SamlParticipant part = p->queue.front();
    p->queue.erase(p->queue.begin());
    auto sp = dir_.read([&](Snapshot& s) { return find_sp(s, part.sp); });
    if (!sp) continue;
    const Endpoint* ep = sp->front_slo();
    if (!ep) {
      if (logouts_) {
        SsoSession one;
        one.saml = {part};
        for (auto& m : soap_logouts(one, "logout", now)) logouts_->post_soap(std::move(m.url), std::move(m.body), std::move(m.sp));
      }
      continue;
    }
    std::string id;
    std::string xml = logout_request(part, ep->location, id, now);
    p->waiting_sp = sp->entity_id;
    p->waiting_for = id;
    auto written = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
      c.put(directory::schema::saml_pending, secret_key(token), encode(*p));
      return ok_status();
    });
    if (!written) return store_failed(written.error());
    if (ep->binding == kBindingRedirect) return redirect_signed(ep->location, "SAMLRequest", xml, token);
    return post_form(ep->location, "SAMLRequest", signed_xml(xml), token);
  }
  auto dropped = dir_.write(directory::Actor{"idp"}, now, [&](Change& c) -> Status {
    c.del(directory::schema::saml_pending, secret_key(token));
    return ok_status();
  });
  if (!dropped) return store_failed(dropped.error());
  return logout_done(*p, now);
}

net::HttpResponse Idp::logout_done(const Pending& p, UnixMs now) {
  net::HttpResponse res;
  if (!p.sp.empty()) {
    auto sp = dir_.read([&](Snapshot& s) { return find_sp(s, p.sp); });
    const Endpoint* ep = sp ? sp->slo_for(p.origin_binding) : nullptr;
    if (sp && !ep) ep = sp->front_slo();
    if (ep) {
      std::string dest = ep->response_location.empty() ? ep->location : ep->response_location;
      std::string xml = logout_response(dest, p.request_id, true, now);
      res = ep->binding == kBindingRedirect ? redirect_signed(dest, "SAMLResponse", xml, p.relay_state)
                                            : post_form(dest, "SAMLResponse", signed_xml(xml), p.relay_state);
      res.headers["Set-Cookie"] = clear_cookie();
      return res;
    }
  }
  if (!p.done.empty()) res = web::redirect(p.done);
  else
    res = html_page(200, message_html("Đã đăng xuất", "Signed out", "Bạn đã đăng xuất khỏi Congvu và các ứng dụng.",
                                      "You have signed out of Congvu and its applications."));
  res.headers["Set-Cookie"] = clear_cookie();
  return res;
}

std::vector<Idp::SoapMessage> Idp::soap_logouts(const SsoSession& s, const std::string& event, UnixMs now) {
  std::vector<SoapMessage> out;
  for (const auto& part : s.saml) {
    auto sp = dir_.read([&](Snapshot& snap) { return find_sp(snap, part.sp); });
    if (!sp) continue;
    const Endpoint* soap = sp->slo_for(kBindingSoap);
    if (!soap) continue;
    bool wanted = event == "logout" || std::find(sp->logout_events.begin(), sp->logout_events.end(), event) != sp->logout_events.end();
    if (!wanted) continue;
    std::string id;
    std::string xml = signed_xml(logout_request(part, soap->location, id, now));
    out.push_back({soap->location,
                   std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"") + kNsSoap +
                       "\"><soap:Body>" + xml + "</soap:Body></soap:Envelope>",
                   sp->entity_id});
  }
  return out;
}

std::size_t sweep_saml(Change& c, UnixMs now, std::size_t limit) {
  std::vector<std::pair<directory::schema::Table, std::string>> gone;
  c.scan(directory::schema::saml_seen, "", [&](std::string_view k, std::string_view v) {
    if (v.size() == 8 && static_cast<UnixMs>(codec::get_be64(v)) <= now) gone.emplace_back(directory::schema::saml_seen, k);
    return gone.size() < limit;
  });
  c.scan(directory::schema::saml_pending, "", [&](std::string_view k, std::string_view v) {
    bool over = true;
    try {
      over = decode_pending(v).expires <= now;
    } catch (const codec::DecodeError&) {
    }
    if (over) gone.emplace_back(directory::schema::saml_pending, k);
    return gone.size() < limit;
  });
  for (const auto& [t, k] : gone) c.del(t, k);
  return gone.size();
}

}  // namespace congvu::idp::saml
