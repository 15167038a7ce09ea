#pragma once

// The proxy's side of workload identity: a fresh ECDSA P-256 key and a certificate signing request
// for it. The key stays in this process; only the CSR (public key + signature) goes to the CP.

#include <string>

namespace braid::dataplane {

struct KeyAndCsr {
  std::string privateKeyPem;  // PKCS#8
  std::string csrPem;         // PEM "CERTIFICATE REQUEST", subject CN=<commonName>, SHA-256
};

// false with `error` when OpenSSL fails (never quoting key material).
bool generateKeyAndCsr(const std::string& commonName, KeyAndCsr& out, std::string& error);

}  // namespace braid::dataplane
