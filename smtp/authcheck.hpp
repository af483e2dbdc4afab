// Checks of mail from outside (RFC 7208 SPF, RFC 6376/8463 DKIM, RFC 7489 DMARC) and the
// Authentication-Results header (RFC 8601) that records them. Blocking DNS through a
// DnsClient: servers run check_inbound on the worker pool.
// SPF follows the RFC's limits (10 DNS mechanisms, 2 void lookups) and the common macros;
// DKIM verifies rsa-sha256 and ed25519-sha256 with simple or relaxed canonicalization (up to
// 5 signatures; rsa-sha1 is refused as RFC 8301 asks); DMARC finds the organizational domain
// with the public suffix list from Debian's `publicsuffix` (falling back to the last two
// labels when the file is missing).
#pragma once

#include <string>
#include <vector>

#include "common/time.hpp"
#include "smtp/dns.hpp"

namespace congvu::smtp {

enum class AuthResult { none, pass, fail, softfail, neutral, temperror, permerror, policy };
const char* auth_result_name(AuthResult r);

struct DkimCheck {
  std::string domain, selector, algorithm;
  AuthResult result = AuthResult::none;
  std::string reason;
};

struct InboundAuth {
  AuthResult spf = AuthResult::none;
  std::string spf_domain;  // MAIL FROM's domain, or the HELO name for the null sender
  std::vector<DkimCheck> dkim;
  AuthResult dmarc = AuthResult::none;
  std::string from_domain;
  std::string dmarc_policy = "none";  // what the From domain asks for failing mail
  bool dmarc_applies = false;         // pct= sampled this message
  // The Authentication-Results field (with CRLF), for `authserv_id` (our hostname).
  std::string header(const std::string& authserv_id) const;
};

struct InboundMessage {
  std::string client_ip, helo, mail_from;  // mail_from empty: the null sender
  std::string_view message;
  UnixMs now = 0;  // for DKIM x= (expiry); 0: not checked
};

InboundAuth check_inbound(const DnsClient& dns, const InboundMessage& in);

// The parts, exposed for tests.
AuthResult check_spf(const DnsClient& dns, const std::string& ip, const std::string& domain, const std::string& sender,
                     const std::string& helo);
std::vector<DkimCheck> verify_dkim(const DnsClient& dns, std::string_view message, UnixMs now);
std::string organizational_domain(const std::string& domain);

}  // namespace congvu::smtp
