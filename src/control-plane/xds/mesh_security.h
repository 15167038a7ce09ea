#pragma once

// What the generator needs to secure a mesh's traffic (CONTRACT §6): whether mTLS is on, which CA
// backend signs, the inbound mode, and the roots proxies trust. Read once per mesh per generation
// pass from the Mesh resource (roots from the mesh CA, ca/mesh_ca.h), shared by its proxies.

#include <string>
#include <vector>

#include "braid/proxy/v1/config.pb.h"
#include "control-plane/policy-matching/matched_policies.h"

namespace braid::xds {

struct MeshSecurity {
  bool mtlsEnabled = false;
  std::string backend;  // mtls.enabledBackend
  braid::proxy::v1::TlsMode mode = braid::proxy::v1::STRICT;
  std::vector<std::string> trustedRootsPem;  // every backend's root
  bool complete = true;  // false: a backend's CA could not be loaded (its root is missing)
};

// The Mesh's mtls settings; roots are filled in by the caller. `meshJson` is the stored Mesh.
MeshSecurity meshSecurityOf(const Json& meshJson);

// The ordered permission rules of inbound `inboundIndex` (its index in networking.inbound) from
// the MeshTrafficPermissions that select it, first match wins (docs/security.md):
//   1. rules[] deny matches, 2. rules[] allow, 3. rules[] allowWithShadowDeny,
//   4. from[] entries naming one service (most specific first), 5. the from[] Mesh entry.
// No rule matching denies. `mesh` is the trust domain.
// Appended to `out`'s permissions.
void compilePermissions(const policy_matching::MatchedPolicies& matched, size_t inboundIndex,
                        const std::string& mesh, braid::proxy::v1::InboundSecurity& out);

// SNI of mesh traffic to an outbound's tags: "<service>{mesh=<mesh>[,k=v…]}", tags sorted
// (CONTRACT §8).
std::string meshSni(const std::string& mesh, const std::map<std::string, std::string>& tags);

}  // namespace braid::xds
