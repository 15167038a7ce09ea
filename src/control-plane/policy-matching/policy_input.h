#pragma once

// A policy as matching sees it: its type name, its name and its `spec`, independent of the
// resource registry so that matching works on any policy type.

#include <string>

#include "common/json.h"
#include "control-plane/policy-matching/target_ref_match.h"

namespace braid::policy_matching {

struct PolicyInput {
  std::string type;  // "MeshTimeout"
  std::string name;
  Json spec = Json::object();
};

// A policy that selects the dataplane, with the inbounds it selects.
struct MatchedPolicy {
  const PolicyInput* policy = nullptr;
  Selection selection;
};

}  // namespace braid::policy_matching
