#pragma once

// The proxy's workload identity: the private key it generated (it never leaves this process) and
// the certificates the CP issued for it, one per service of its inbounds (CONTRACT §6). Built by
// the identity manager on the main side, handed to the data path as an immutable shared_ptr; a
// renewal makes a new one. Never logged, never in a config dump.

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace braid::dataplane {

struct WorkloadIdentity {
  std::string backend;        // the mesh CA backend that issued the certificates
  std::string privateKeyPem;  // PKCS#8 PEM of the ECDSA P-256 key
  // service -> PEM chain: the leaf (URI SAN spiffe://<mesh>/<service>) and any intermediates.
  std::map<std::string, std::string> certChainPemByService;
  std::chrono::system_clock::time_point notBefore;
  std::chrono::system_clock::time_point notAfter;
};

using WorkloadIdentityPtr = std::shared_ptr<const WorkloadIdentity>;

}  // namespace braid::dataplane
