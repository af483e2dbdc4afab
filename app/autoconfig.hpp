// Mail client autoconfiguration over HTTPS, so that a person types only address and password:
// - Thunderbird: GET /.well-known/autoconfig/mail/config-v1.1.xml (and /mail/config-v1.1.xml,
//   which autoconfig.<domain> serves) returns the clientConfig 1.1 document;
// - Outlook: POST /autodiscover/autodiscover.xml (any case) with the POX request returns the
//   "outlook" response schema 2006a (IMAP and SMTP, TLS on).
// Only addresses of the mail domain get an answer; the address is echoed as the login (Congvu
// accepts an address or an alias as a login name) and XML-escaped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace congvu::app {

struct MailEndpoints {
  std::string domain, hostname;
  std::uint16_t imaps = 0, imap = 0, smtps = 0, submission = 0;  // 0: not listening
};

std::string thunderbird_config(const MailEndpoints& e);
// nullopt when the request names no address of the domain (the caller answers 404).
std::optional<std::string> autodiscover_response(const MailEndpoints& e, const std::string& request_xml);

}  // namespace congvu::app
