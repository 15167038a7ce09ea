#pragma once

// How the `default` blocks (confs) that apply to one target are combined. Most policies use JSON
// merge patch (merge_patch.h). Two families differ, as in Kuma:
//
//   MeshTrafficPermission  the lists `allow`, `deny` and `allowWithShadowDeny` of `rules[].default`
//                          are appended (every matched policy adds its principals) instead of
//                          replaced; other fields merge as patches.
//   MeshHTTPRoute,         a `to[]` entry's conf is {"rules": [...]}; rules are merged by their
//   MeshTCPRoute           `matches`: a rule whose `matches` equal an earlier rule's patches that
//                          rule's `default` in place, any other rule is appended after the others.

#include <string>
#include <vector>

#include "common/json.h"

namespace braid::policy_matching {

enum class MergeStyle { kPatch, kAppendPermissions, kRouteRules };

MergeStyle mergeStyleFor(const std::string& policyType);

// Merges `patch` into the accumulated conf `acc`.
void mergeConf(Json& acc, const Json& patch, MergeStyle style);

// A conf contributing to one target, with the specificity of the selector that brought it in.
struct RankedConf {
  int rank = 0;
  const Json* conf = nullptr;
};

// Stable-sorts `confs` by rank (given in policy order, so policy order breaks ties) and merges
// them, in that order, into an empty object.
Json mergeRanked(std::vector<RankedConf> confs, MergeStyle style);

}  // namespace braid::policy_matching
