#pragma once

// Every policy of one mesh, as the generator's policy matching takes them.

#include <string>
#include <vector>

#include "control-plane/policy-matching/policy_input.h"
#include "control-plane/store/store.h"

namespace braid::xds {

std::vector<policy_matching::PolicyInput> loadMeshPolicies(store::Store& store,
                                                           const std::string& mesh);

// True for the store types that are policies (their changes can affect every proxy of a mesh).
bool isPolicyType(const std::string& type);

}  // namespace braid::xds
