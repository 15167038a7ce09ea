#pragma once

// MeshTrafficPermission on an inbound (CONTRACT §6): the CP compiles the policies into an ordered
// rule list; the data path only matches the caller's SPIFFE ID against it.

#include <string>
#include <vector>

#include "dataplane/config/snapshot.h"

namespace braid::dataplane::tcp_proxy {

struct PermissionDecision {
  PermissionAction action = PermissionAction::kDeny;
  const PermissionRule* rule = nullptr;  // the rule that decided; nullptr: none matched
};

// The first rule matching `caller` decides; none matching denies. `caller` is the peer's SPIFFE
// ID, or "" for a plaintext caller (PERMISSIVE), whom only Match::kAny rules match.
PermissionDecision evaluatePermissions(const std::vector<PermissionRule>& rules,
                                       const std::string& caller);

}  // namespace braid::dataplane::tcp_proxy
