#pragma once

// Builds self-signed EC P-256 certificates with chosen SANs, basicConstraints and keyUsage, so
// that tests can feed real certificates (good and deliberately bad) to the SVID checks.

#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

namespace braid::spiffe::test {

struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

struct TestCertSpec {
  std::vector<std::string> uris;      // URI SANs, written byte for byte (NULs included)
  std::vector<std::string> dnsNames;  // DNS SANs
  // OpenSSL config values ("critical,CA:FALSE"); "" leaves the extension out. Each entry is added
  // as its own extension, so two entries make a certificate with a repeated extension.
  std::vector<std::string> basicConstraints = {"critical,CA:FALSE"};
  std::vector<std::string> keyUsage = {"critical,digitalSignature"};
};

// A certificate for `spec`, self-signed with a fresh P-256 key and SHA-256. Never null: failures
// throw std::runtime_error naming the step.
X509Ptr makeTestCert(const TestCertSpec& spec);

}  // namespace braid::spiffe::test
