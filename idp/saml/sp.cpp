#include "idp/saml/sp.hpp"

#include <boost/url/parse.hpp>

#include "common/codec.hpp"
#include "common/json.hpp"
#include "directory/directory.hpp"
#include "idp/saml/xml.hpp"

namespace congvu::idp::saml {

namespace {
constexpr std::uint8_t kSpV1 = 1;

Error bad(std::string msg) { return make_error(Errc::invalid_argument, std::move(msg)); }

void put_endpoints(codec::Writer& w, const std::vector<Endpoint>& v) {
  w.varint(v.size());
  for (const auto& e : v)
    w.str(e.binding).str(e.location).str(e.response_location).varint(e.index).u8(e.is_default ? 1 : 0);
}

std::vector<Endpoint> get_endpoints(codec::Reader& r) {
  auto n = r.varint();
  if (n > 1000) throw codec::DecodeError("too many endpoints");
  std::vector<Endpoint> v(static_cast<std::size_t>(n));
  for (auto& e : v) {
    e.binding = r.str();
    e.location = r.str();
    e.response_location = r.str();
    e.index = static_cast<std::uint32_t>(r.varint());
    e.is_default = r.u8() == 1;
  }
  return v;
}

// https anywhere, http only on loopback (tests, a reverse proxy on the same host).
bool acceptable_url(const std::string& u) {
  auto url = boost::urls::parse_absolute_uri(u);
  if (!url || !url->has_authority() || url->host().empty()) return false;
  if (url->scheme() == "https") return true;
  std::string h = url->host();
  return url->scheme() == "http" && (h == "127.0.0.1" || h == "[::1]" || h == "::1" || h == "localhost");
}

std::string cert_of(xmlNode* key_descriptor) {
  xmlNode* ki = first_child(key_descriptor, kNsDs, "KeyInfo");
  xmlNode* x509 = first_child(ki, kNsDs, "X509Data");
  return text(first_child(x509, kNsDs, "X509Certificate"));
}
}  // namespace

const Endpoint* ServiceProvider::default_acs() const {
  for (const auto& e : acs)
    if (e.is_default) return &e;
  const Endpoint* best = nullptr;
  for (const auto& e : acs)
    if (!best || e.index < best->index) best = &e;
  return best;
}

const Endpoint* ServiceProvider::slo_for(std::string_view binding) const {
  for (const auto& e : slo)
    if (e.binding == binding) return &e;
  return nullptr;
}

const Endpoint* ServiceProvider::front_slo() const {
  if (auto e = slo_for(kBindingRedirect)) return e;
  return slo_for(kBindingPost);
}

const std::vector<std::string>& attribute_names() {
  static const std::vector<std::string> names = {"uid", "mail", "displayName", "givenName", "sn", "departmentNumber",
                                                 "ou", "title", "isMemberOf", "employeeNumber", "unitPath"};
  return names;
}

std::string encode(const ServiceProvider& sp) {
  codec::Writer w;
  w.u8(kSpV1).str(sp.entity_id).str(sp.name);
  put_endpoints(w, sp.acs);
  put_endpoints(w, sp.slo);
  w.strs(sp.signing_certs).str(sp.encryption_cert).u8(sp.authn_requests_signed ? 1 : 0)
      .u8(sp.want_assertions_signed ? 1 : 0).str(sp.name_id_format).strs(sp.attributes)
      .u8(sp.encrypt_assertions ? 1 : 0).u8(sp.idp_initiated ? 1 : 0).str(sp.default_relay_state)
      .strs(sp.logout_events).i64(sp.created);
  return w.take();
}

ServiceProvider decode_sp(std::string_view v) {
  codec::Reader r(v);
  if (r.u8() != kSpV1) throw codec::DecodeError("unknown SP record version");
  ServiceProvider sp;
  sp.entity_id = r.str();
  sp.name = r.str();
  sp.acs = get_endpoints(r);
  sp.slo = get_endpoints(r);
  sp.signing_certs = r.strs();
  sp.encryption_cert = r.str();
  sp.authn_requests_signed = r.u8() == 1;
  sp.want_assertions_signed = r.u8() == 1;
  sp.name_id_format = r.str();
  sp.attributes = r.strs();
  sp.encrypt_assertions = r.u8() == 1;
  sp.idp_initiated = r.u8() == 1;
  sp.default_relay_state = r.str();
  sp.logout_events = r.strs();
  sp.created = r.i64();
  r.expect_done();
  return sp;
}

Result<ServiceProvider> parse_metadata(std::string_view xml) {
  auto doc = parse(xml);
  if (!doc) return doc.error();
  xmlNode* root = xmlDocGetRootElement(doc->get());
  if (is(root, kNsMd, "EntitiesDescriptor")) {
    auto all = children(root, kNsMd, "EntityDescriptor");
    if (all.size() != 1) return bad("the metadata must describe exactly one entity (found " + std::to_string(all.size()) + ")");
    root = all[0];
  }
  if (!is(root, kNsMd, "EntityDescriptor")) return bad("the metadata's root is not md:EntityDescriptor");
  ServiceProvider sp;
  sp.entity_id = attr(root, "entityID");
  if (sp.entity_id.empty() || sp.entity_id.size() > 1024) return bad("the EntityDescriptor has no (or an overlong) entityID");
  xmlNode* d = first_child(root, kNsMd, "SPSSODescriptor");
  if (!d) return bad("the metadata has no SPSSODescriptor: it does not describe a service provider");
  if (attr(d, "protocolSupportEnumeration").find(kNsSamlp) == std::string::npos)
    return bad("the SPSSODescriptor does not support SAML 2.0 (protocolSupportEnumeration)");
  sp.authn_requests_signed = attr(d, "AuthnRequestsSigned") == "true" || attr(d, "AuthnRequestsSigned") == "1";
  sp.want_assertions_signed = attr(d, "WantAssertionsSigned") != "false";
  for (xmlNode* k : children(d, kNsMd, "KeyDescriptor")) {
    std::string use = attr(k, "use"), cert = cert_of(k);
    if (cert.empty()) continue;
    auto key = PeerKey::from_certificate(cert);
    if (!key) return bad("a KeyDescriptor's certificate: " + key.error().message);
    if (use.empty() || use == "signing") sp.signing_certs.push_back(key->cert_b64());
    if ((use.empty() || use == "encryption") && sp.encryption_cert.empty()) sp.encryption_cert = key->cert_b64();
  }
  for (xmlNode* e : children(d, kNsMd, "AssertionConsumerService")) {
    if (attr(e, "Binding") != kBindingPost) continue;  // Artifact and others are not offered
    Endpoint ep{kBindingPost, attr(e, "Location"), "", 0, attr(e, "isDefault") == "true"};
    try {
      ep.index = static_cast<std::uint32_t>(std::stoul(attr(e, "index")));
    } catch (...) {
      return bad("an AssertionConsumerService has no numeric index");
    }
    if (!acceptable_url(ep.location)) return bad("AssertionConsumerService " + ep.location + " is not an https URL");
    sp.acs.push_back(ep);
  }
  if (sp.acs.empty()) return bad("the SP has no AssertionConsumerService with the HTTP-POST binding");
  for (xmlNode* e : children(d, kNsMd, "SingleLogoutService")) {
    std::string b = attr(e, "Binding");
    if (b != kBindingRedirect && b != kBindingPost && b != kBindingSoap) continue;
    Endpoint ep{b, attr(e, "Location"), attr(e, "ResponseLocation"), 0, false};
    if (!acceptable_url(ep.location) || (!ep.response_location.empty() && !acceptable_url(ep.response_location)))
      return bad("SingleLogoutService " + ep.location + " is not an https URL");
    sp.slo.push_back(ep);
  }
  auto formats = children(d, kNsMd, "NameIDFormat");
  if (!formats.empty()) {
    std::string f = text(formats[0]);
    if (f == kNameIdPersistent || f == kNameIdTransient || f == kNameIdEmail || f == kNameIdUnspecified) sp.name_id_format = f;
  }
  sp.name = sp.entity_id;
  return sp;
}

std::optional<ServiceProvider> find_sp(directory::Snapshot& s, std::string_view entity_id) {
  auto v = s.get_raw(directory::schema::sp, entity_id);
  if (!v) return std::nullopt;
  return decode_sp(*v);
}

std::vector<ServiceProvider> list_sps(directory::Snapshot& s) {
  std::vector<ServiceProvider> out;
  s.scan(directory::schema::sp, "", [&](std::string_view, std::string_view v) {
    out.push_back(decode_sp(v));
    return true;
  });
  return out;
}

Status add_sp(directory::Change& c, const ServiceProvider& sp, bool replace) {
  if (sp.entity_id.empty()) return bad("the SP has no entity ID");
  if (!replace && find_sp(c, sp.entity_id)) return make_error(Errc::conflict, "the SP " + sp.entity_id + " is registered already (use --replace)");
  for (const auto& a : sp.attributes)
    if (std::find(attribute_names().begin(), attribute_names().end(), a) == attribute_names().end())
      return bad("unknown attribute '" + a + "'");
  for (const auto& e : sp.logout_events)
    if (e != "suspend" && e != "retire" && e != "transfer") return bad("logout events are suspend, retire and transfer, not '" + e + "'");
  if (!sp.logout_events.empty() && !sp.slo_for(kBindingSoap))
    return bad("--logout-events needs a SingleLogoutService with the SOAP binding in the SP's metadata");
  if (sp.encrypt_assertions && sp.encryption_cert.empty()) return bad("--encrypt needs an encryption certificate in the SP's metadata");
  if (sp.authn_requests_signed && sp.signing_certs.empty()) return bad("signed requests need a signing certificate in the SP's metadata");
  ServiceProvider rec = sp;
  rec.created = c.now();
  c.put(directory::schema::sp, rec.entity_id, encode(rec));
  c.audit(replace ? "sp.replace" : "sp.add", rec.entity_id, "", json_object({{"name", rec.name}}));
  return ok_status();
}

Status remove_sp(directory::Change& c, std::string_view entity_id) {
  if (!find_sp(c, entity_id)) return make_error(Errc::not_found, "no SP '" + std::string(entity_id) + "'");
  c.del(directory::schema::sp, entity_id);
  c.audit("sp.remove", std::string(entity_id), "", "{}");
  return ok_status();
}

}  // namespace congvu::idp::saml
