#pragma once

// Certificates for the mTLS tests, generated with OpenSSL when a test runs: CAs, SPIFFE
// X.509-SVID leaves (and broken ones), workload identities.

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/tls/workload_identity.h"

namespace braid::dataplane::test_pki {

struct Leaf {
  std::string certPem;  // the leaf alone
  std::string keyPem;   // PKCS#8
};

struct LeafOptions {
  std::vector<std::string> uris;  // URI SANs
  bool ca = false;                // basicConstraints CA:TRUE
  long notBeforeSeconds = -300;   // relative to now
  long notAfterSeconds = 3600;
  std::string keyPem;  // sign this key ("" = a new P-256 key)
};

// A self-signed root CA (ECDSA P-256).
class Ca {
 public:
  explicit Ca(const std::string& name);
  ~Ca();
  Ca(const Ca&) = delete;
  Ca& operator=(const Ca&) = delete;

  const std::string& certPem() const { return certPem_; }
  Leaf issue(const LeafOptions& options) const;
  // A valid SVID: one URI SAN spiffe://<trustDomain>/<service>.
  Leaf svid(const std::string& service, const std::string& trustDomain = "default") const;

 private:
  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  std::string certPem_;
};

// One key, a certificate per service, as the identity manager builds them.
WorkloadIdentityPtr makeIdentity(const Ca& ca, const std::vector<std::string>& services,
                                 const std::string& backend = "ca-1",
                                 const std::string& trustDomain = "default");

// The URI SANs of a certificate.
std::vector<std::string> uriSans(X509* cert);

}  // namespace braid::dataplane::test_pki
