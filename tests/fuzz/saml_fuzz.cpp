// The SAML IdP's parsers of untrusted input: the safe XML parser (DTDs refused), signature
// verification of whatever parses (must refuse, never crash: no valid signature can be made by
// the fuzzer), SP metadata, raw DEFLATE with its output limit, xs:dateTime, and the stored SP
// and SSO session records.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "common/codec.hpp"
#include "idp/saml/saml.hpp"
#include "idp/store.hpp"

using namespace congvu;
using namespace congvu::idp::saml;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  static auto key = [] {
    // A key of its own (made once per process): no signature by the fuzzer can match it.
    std::string dir = "/tmp/congvu-saml-fuzz-key-" + std::to_string(::getpid());
    auto k = SigningKey::load_or_make(dir, "fuzz", "fuzz");
    std::filesystem::remove_all(dir);
    return PeerKey::from_certificate(k->cert_b64());
  }();
  if (auto doc = parse(in)) {
    xmlNode* root = xmlDocGetRootElement(doc->get());
    if (key) (void)verify(doc->get(), root, *key);
    (void)attr(root, "ID");
    (void)text(first_child(root, kNsSaml, "Issuer"));
  }
  (void)parse_metadata(in);
  (void)inflate_raw(in, 64 * 1024);
  (void)parse_instant(in);
  (void)PeerKey::from_certificate(in);
  if (key) (void)verify_raw(in, in, kRsaSha256, *key);
  try {
    (void)decode_sp(in);
  } catch (const codec::DecodeError&) {
  }
  try {
    (void)idp::decode_sso(in);
  } catch (const codec::DecodeError&) {
  }
  return 0;
}
