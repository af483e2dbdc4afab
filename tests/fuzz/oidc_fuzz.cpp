// The IdP's parsers of untrusted input: form and query decoding, cookies, Basic credentials,
// compact JWS (headers, base64url), public JWKs, and the stored IdP records. None may crash or
// read out of bounds; decode_form must refuse repeated names. Also the OAUTHBEARER/XOAUTH2
// client messages of the mail protocols.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/codec.hpp"
#include "common/html.hpp"
#include "directory/clients.hpp"
#include "directory/jose.hpp"
#include "directory/sasl.hpp"
#include "idp/store.hpp"
#include "common/web.hpp"

using namespace congvu;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  if (auto f = web::decode_form(in)) {
    for (const auto& [k, v] : *f) (void)web::percent_encode(k + v);
  }
  net::HttpRequest r;
  r.headers["cookie"] = in;
  r.headers["authorization"] = "Basic " + in;
  (void)web::cookies(r);
  (void)web::basic_credentials(r);
  r.headers["authorization"] = "Bearer " + in;
  (void)web::bearer(r);
  (void)Html::text(in);
  if (auto p = directory::jose::parse_compact(in)) (void)p->kid;
  (void)directory::jose::b64url_decode(in);
  (void)directory::parse_bearer_message("OAUTHBEARER", in);
  (void)directory::parse_bearer_message("XOAUTH2", in);
  (void)directory::jose::SigningKey::from_public_jwk(in);
  try {
    (void)idp::decode_sso(in);
  } catch (const codec::DecodeError&) {
  }
  try {
    (void)idp::decode_code(in);
  } catch (const codec::DecodeError&) {
  }
  try {
    (void)idp::decode_refresh(in);
  } catch (const codec::DecodeError&) {
  }
  try {
    (void)directory::decode_client(in);
  } catch (const codec::DecodeError&) {
  }
  return 0;
}
