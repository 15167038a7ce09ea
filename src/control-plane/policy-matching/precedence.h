#pragma once

// The order in which the policies of one type that select a dataplane are merged. Policies are
// sorted ascending by (specificity of the top-level targetRef, policy name) and merged in that
// order, so the most specific policy is applied last and wins on conflicting fields:
//
//   rank  top-level targetRef
//     0   Mesh (or no targetRef)
//    10   MeshSubset
//    20   MeshService
//    30   MeshServiceSubset
//    40   Dataplane without name or labels        41 … with sectionName
//    42   Dataplane{labels}                       43 … with sectionName
//    44   Dataplane{name} (with or without labels) 45 … with sectionName
//
// Equal ranks are ordered by name, ascending: of two equally specific policies the one whose name
// sorts later is merged later and wins. Names are unique per type and mesh, so the order is total.

#include <compare>
#include <string>

#include "common/json.h"

namespace braid::policy_matching {

// Rank of a top-level targetRef (table above); a null targetRef is Mesh. Unknown kinds rank -1.
int topLevelRank(const Json& targetRef);

struct MergeOrderKey {
  int rank = 0;
  std::string name;
  auto operator<=>(const MergeOrderKey&) const = default;
};

MergeOrderKey mergeOrderKey(const Json& targetRef, const std::string& policyName);

}  // namespace braid::policy_matching
