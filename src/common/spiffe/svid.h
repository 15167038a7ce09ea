#pragma once

// Checks that an X.509 certificate is a valid SPIFFE X.509-SVID leaf for a trust domain. Used by
// the CP before handing out what its CA signed and by braid-dp on every peer certificate.

#include <openssl/x509.h>

#include <string>

#include "common/spiffe/spiffe_id.h"

namespace braid::spiffe {

// True when `leaf` has exactly one URI SAN, that URI is a valid SPIFFE ID (parseSpiffeId) in
// `trustDomain`, basicConstraints says CA:FALSE (or is absent), and keyUsage, when present, has
// digitalSignature and not keyCertSign/cRLSign. `out` gets the ID. Validity dates and the chain are
// NOT checked here (OpenSSL's verification does that). `error` names the first problem:
// "certificate has 2 URI SANs", "certificate is a CA", "trust domain 'x' is not 'y'", …
bool checkSvid(X509* leaf, const std::string& trustDomain, SpiffeId& out, std::string& error);

}  // namespace braid::spiffe
