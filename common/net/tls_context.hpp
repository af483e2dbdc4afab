// The server TLS context shared by every listener (HTTPS, SMTP, IMAP, LDAP). Include only
// from server code: this header brings in Asio's SSL.
#pragma once

#include <boost/asio/ssl/context.hpp>

namespace congvu::net {

class TlsContext {
 public:
  boost::asio::ssl::context ctx{boost::asio::ssl::context::tls_server};
};

}  // namespace congvu::net
