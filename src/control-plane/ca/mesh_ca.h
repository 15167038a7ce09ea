#pragma once

// The per-mesh certificate authority (CONTRACT §6 "mTLS", KUMA_FACTS "Identity and CA"): the roots
// of a Mesh's mTLS backends, and workload certificates (X.509-SVIDs) for dataplanes' CSRs, signed
// by the enabled backend. Builtin roots live in the store under an internal type the REST API
// does not expose:
//   {type "MeshCaRoot", mesh, name "ca-builtin-cert-<backend>"}  content {"cert": PEM, "key": PEM}
// Provided roots come from the backend's conf.cert / conf.key data sources.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json.h"
#include "control-plane/ca/x509_util.h"
#include "control-plane/store/store.h"

namespace braid::ca {

inline constexpr char kMeshCaRootType[] = "MeshCaRoot";
inline constexpr char kBuiltinRootPrefix[] = "ca-builtin-cert-";

struct IssuedSvid {
  std::string service;
  // The leaf, then the CA certificate when the CA is not a self-signed root (a provided
  // intermediate), so that peers trusting the root can build the chain.
  std::string certChainPem;
  TimePoint notBefore, notAfter;
};

struct LoadedCa;  // a backend's certificate and key, parsed (mesh_ca_backends.h)

class MeshCa {
 public:
  explicit MeshCa(store::Store& store);
  ~MeshCa();

  // The PEM roots of every backend in `meshJson` (the Mesh as stored: {"type":"Mesh","name":…,
  // "mtls":{…}}), in backend order; none when the mesh has no backends. Creates missing builtin
  // roots (ECDSA P-256, self-signed, 10 years, CN "<mesh> <backend> CA"); loads provided ones
  // and checks them (a CA, the key matches, not expired). Loaded CAs are cached by (mesh,
  // backend, hash of the certificate and key bytes), so a repeated call costs one store read per
  // builtin backend and one file read per file source. Thread-safe. `error` names the mesh,
  // backend and field: "mesh default: backend ca-2: conf.cert: file /x: No such file or directory".
  bool trustedRoots(const Json& meshJson, std::vector<std::string>& rootsPem, std::string& error);
  bool trustedRoots(const Json& meshJson, std::vector<std::string>& rootsPem, std::string& error,
                    TimePoint now);

  // Signs one certificate per distinct service in `services` (in order) for the public key of
  // `csrPem`, with the enabled backend (whose name goes to `backend`). The CSR's signature must
  // verify and its key must be EC P-256; nothing else of the CSR is used: each certificate gets
  // exactly one URI SAN spiffe://<mesh>/<service>, CA:FALSE, keyUsage digitalSignature, EKU
  // serverAuth+clientAuth, AKI+SKI, a random 128-bit serial, subject O=<mesh> CN=<service>,
  // validity [now - 60 s, now + dpCert.rotation.expiration (default 24h)], never past the CA's end.
  // Fails (nothing in `out`) when the mesh has no enabled mTLS backend, the CSR is refused, a
  // service is no valid SPIFFE path segment, or the CA cannot be loaded.
  bool issue(const Json& meshJson, const std::string& csrPem,
             const std::vector<std::string>& services, std::vector<IssuedSvid>& out,
             std::string& backend, std::string& error);
  // The same as if the clock said `now`.
  bool issue(const Json& meshJson, const std::string& csrPem,
             const std::vector<std::string>& services, std::vector<IssuedSvid>& out,
             std::string& backend, std::string& error, TimePoint now);

 private:
  struct CacheEntry {
    std::string hash;
    std::shared_ptr<const LoadedCa> ca;
  };

  // The backend's CA, from the cache or loaded (and, for builtin, created). `error` is prefixed
  // with "mesh M: backend B: ".
  std::shared_ptr<const LoadedCa> backendCa(const std::string& mesh, const Json& backend,
                                            TimePoint now, std::string& error);

  store::Store& store_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, CacheEntry> cache_;  // (mesh, backend) → CA
};

// Kuma's certificate durations, as the Mesh validator accepts them: "0" or <digits><unit> with
// one unit of y (365 days), w, d, h, m, s, ms. nullopt for anything else or an overflow.
std::optional<std::chrono::nanoseconds> parseKumaDuration(std::string_view text);

}  // namespace braid::ca
