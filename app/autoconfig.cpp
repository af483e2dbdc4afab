#include "app/autoconfig.hpp"

#include <algorithm>

#include "common/text.hpp"

namespace congvu::app {

namespace {

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// A plain address of the mail domain: letters, digits and . _ - + in the local part.
bool ours(const std::string& address, const std::string& domain) {
  auto at = address.rfind('@');
  if (at == std::string::npos || at == 0 || address.size() > 254) return false;
  if (text::ascii_lower(address.substr(at + 1)) != domain) return false;
  return std::all_of(address.begin(), address.begin() + static_cast<long>(at), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '+';
  });
}

std::string server(const char* kind, const char* type, const std::string& host, std::uint16_t port, const char* socket) {
  return std::string("    <") + kind + " type=\"" + type + "\">\n      <hostname>" + xml_escape(host) +
         "</hostname>\n      <port>" + std::to_string(port) + "</port>\n      <socketType>" + socket +
         "</socketType>\n      <authentication>password-cleartext</authentication>\n"
         "      <username>%EMAILADDRESS%</username>\n    </" + kind + ">\n";
}

}  // namespace

std::string thunderbird_config(const MailEndpoints& e) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n  <emailProvider id=\"" +
      xml_escape(e.domain) + "\">\n    <domain>" + xml_escape(e.domain) + "</domain>\n    <displayName>Thư công vụ " +
      xml_escape(e.domain) + "</displayName>\n    <displayShortName>Congvu</displayShortName>\n";
  // Implicit TLS first: clients take the first server they can reach.
  if (e.imaps) out += server("incomingServer", "imap", e.hostname, e.imaps, "SSL");
  if (e.imap) out += server("incomingServer", "imap", e.hostname, e.imap, "STARTTLS");
  if (e.smtps) out += server("outgoingServer", "smtp", e.hostname, e.smtps, "SSL");
  if (e.submission) out += server("outgoingServer", "smtp", e.hostname, e.submission, "STARTTLS");
  out += "  </emailProvider>\n</clientConfig>\n";
  return out;
}

std::optional<std::string> autodiscover_response(const MailEndpoints& e, const std::string& req) {
  auto open = req.find("<EMailAddress>");
  auto close = req.find("</EMailAddress>");
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  std::string address(text::squeeze(req.substr(open + 14, close - open - 14)));
  if (!ours(address, e.domain)) return std::nullopt;
  auto protocol = [&](const char* type, std::uint16_t port, bool ssl, bool smtp) {
    std::string p = std::string("      <Protocol>\n        <Type>") + type + "</Type>\n        <Server>" +
                    xml_escape(e.hostname) + "</Server>\n        <Port>" + std::to_string(port) +
                    "</Port>\n        <DomainRequired>off</DomainRequired>\n        <LoginName>" +
                    xml_escape(address) + "</LoginName>\n        <SPA>off</SPA>\n        <SSL>on</SSL>\n" +
                    (ssl ? "" : "        <Encryption>TLS</Encryption>\n") + "        <AuthRequired>on</AuthRequired>\n";
    if (smtp) p += "        <UsePOPAuth>off</UsePOPAuth>\n        <SMTPLast>off</SMTPLast>\n";
    return p + "      </Protocol>\n";
  };
  std::string out =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n"
      "  <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\n"
      "    <Account>\n      <AccountType>email</AccountType>\n      <Action>settings</Action>\n";
  if (e.imaps) out += protocol("IMAP", e.imaps, true, false);
  else if (e.imap) out += protocol("IMAP", e.imap, false, false);
  if (e.smtps) out += protocol("SMTP", e.smtps, true, true);
  else if (e.submission) out += protocol("SMTP", e.submission, false, true);
  out += "    </Account>\n  </Response>\n</Autodiscover>\n";
  return out;
}

}  // namespace congvu::app
