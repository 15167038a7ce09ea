#pragma once

// The pieces of MeshCa (mesh_ca.h): reading a backend's CA material (mesh_ca_backends.cc) and
// signing workload certificates with it (svid_issuer.cc). Not for use outside src/control-plane/ca.

#include <string>

#include "common/json.h"
#include "control-plane/ca/x509_util.h"
#include "control-plane/store/store.h"

namespace braid::ca {

struct LoadedCa {
  X509Ptr cert;
  PkeyPtr key;
  std::string certPem;  // as read (builtin) or re-encoded from the parsed certificate (provided)
  TimePoint notBefore, notAfter;
  bool selfSigned = false;  // false for a provided intermediate: its certificate joins the chain
};

// The PEM text of a backend's certificate and key. Builtin: the store record of the mesh's
// backend, created (a new self-signed P-256 root valid from `now` for 10 years) when absent; two
// CPs racing to create it both end up with the one that was stored first. Provided: conf.cert and
// conf.key from `file`, `inline` (base64) or `inlineString`. `error` names the field
// ("conf.cert: file /x: No such file or directory").
bool readCaMaterial(store::Store& store, const std::string& mesh, const Json& backend,
                    TimePoint now, std::string& certPem, std::string& keyPem, std::string& error);

// Parses the material and checks that the certificate is a CA (basicConstraints CA:TRUE, and
// keyCertSign when keyUsage is present) and that the key belongs to it. Expiry is the caller's
// check (a cached CA expires too). Errors name conf.cert / conf.key.
bool parseCa(const std::string& certPem, const std::string& keyPem, LoadedCa& out,
             std::string& error);

// A hex SHA-256 over the parts, each length-prefixed, so different splits never collide.
std::string materialHash(const std::string& kind, const std::string& certPem,
                         const std::string& keyPem);

// The public key of a PEM CSR whose self-signature verifies and whose key is EC P-256.
PkeyPtr csrPublicKey(const std::string& csrPem, std::string& error);

struct SvidSpec {
  std::string mesh, service, spiffeId;
  TimePoint notBefore, notAfter;
};

// A workload certificate for `subjectKey` signed by `ca`: exactly one URI SAN (spec.spiffeId),
// basicConstraints critical CA:FALSE, keyUsage critical digitalSignature, EKU serverAuth +
// clientAuth, SKI + AKI, random 128-bit serial, subject O=<mesh> CN=<service> (each cut to the
// 64 bytes X.520 allows: informational only, the SAN is the identity).
X509Ptr issueSvid(const LoadedCa& ca, EVP_PKEY* subjectKey, const SvidSpec& spec,
                  std::string& error);

}  // namespace braid::ca
