#pragma once

// The control plane's own TLS material for its gRPC servers (CONTRACT §2): a CA kept in the data
// dir (cp-ca.pem is what dataplanes and zones verify the CP with) and a server certificate it
// issues.

#include <chrono>
#include <string>
#include <vector>

namespace braid::ca {

struct CpTlsMaterial {
  std::string caCertPem;      // contents of DATA_DIR/cp-ca.pem
  std::string serverCertPem;  // leaf followed by nothing else (the CA is separate)
  std::string serverKeyPem;   // PKCS#8 PEM
};

// Loads DATA_DIR/cp-ca.pem + cp-ca-key.pem (created if cp-ca.pem is absent: ECDSA P-256
// self-signed root, CN "braid-cp CA", 10 years, basicConstraints critical CA:TRUE pathlen:0,
// keyUsage critical keyCertSign+cRLSign, SKI) and issues DATA_DIR/cp-server.pem +
// cp-server-key.pem (ECDSA P-256, 1 year but never past the CA, CA:FALSE, keyUsage critical
// digitalSignature, EKU serverAuth, AKI/SKI, SANs = `hosts`: IP literals (v4 or v6, brackets
// allowed) become IP SANs, others DNS SANs), re-issuing the server certificate when it or its key
// is missing, unreadable or mismatched, when it expires within 30 days, was not signed by the
// current CA, or its SANs differ from `hosts` (as sets). Keys are written 0600, certificates 0644,
// each through a temp file + rename. Returns false with a message naming the file and the reason on
// any failure: a corrupt, expired or keyless cp-ca.pem is an error, never silently replaced,
// because dataplanes trust it.
bool loadOrCreateCpTls(const std::string& dataDir, const std::vector<std::string>& hosts,
                       CpTlsMaterial& out, std::string& error);

// The SANs braid-cp uses for --xds-address HOST:PORT: always "localhost", "127.0.0.1", "::1" and
// the machine's hostname (gethostname); plus HOST itself when it is not 0.0.0.0/::/empty.
std::vector<std::string> defaultServerHosts(const std::string& listenHost);

namespace detail {
// loadOrCreateCpTls with the clock injected: certificates are issued and checked as if it were
// `now`, so tests can make material that is already old.
bool loadOrCreateCpTlsAt(const std::string& dataDir, const std::vector<std::string>& hosts,
                         std::chrono::system_clock::time_point now, CpTlsMaterial& out,
                         std::string& error);
}  // namespace detail

}  // namespace braid::ca
