// The local certificate authority that lets `congvu serve` run TLS on every port with no
// setup: on first start it creates data_dir/tls/ca.pem (+ ca.key) and a server certificate
// signed by it for the configured hostname, localhost, 127.0.0.1 and ::1. Clients are told to
// trust ca.pem (`congvu tls export-ca`), so tests verify certificates instead of skipping it.
// Keys are ECDSA P-256, certificates SHA-256; private keys are written mode 0600.
// Thread-safety: call once at start-up. Failures throw std::runtime_error naming the file.
#pragma once

#include <string>

namespace congvu::net {

struct TlsFiles {
  std::string ca_cert;     // PEM of the CA (what clients trust)
  std::string cert_chain;  // PEM: server certificate then the CA
  std::string key;         // PEM private key of the server certificate
};

// Creates what is missing under `dir` and returns the paths. A server certificate whose names
// do not cover `hostname`, or that expires within 30 days, is issued again.
TlsFiles ensure_local_ca(const std::string& dir, const std::string& hostname);

}  // namespace congvu::net
