#pragma once

// MeshLoadBalancingStrategy hashPolicies for an HTTP request (RingHash / Maglev clusters): the
// policies are evaluated in order, as Envoy's route hash_policy is; each one that finds its
// input (a header, a cookie, a query parameter, the caller's IP) mixes its hash into the result,
// and a `terminal` policy ends the evaluation once there is a hash. No input found: no hash,
// and the balancer picks at random, as Envoy does.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/http/headers.h"
#include "dataplane/config/snapshot.h"

namespace braid::dataplane::hcm {

struct HashInputs {
  const braid::http::Headers& headers;  // names lower case
  std::string_view target;              // origin-form "/path?query"
  std::string_view sourceIp;            // the caller's address, "" when unknown
};

std::optional<uint64_t> requestHash(const std::vector<HashPolicyConfig>& policies,
                                    const HashInputs& inputs);

}  // namespace braid::dataplane::hcm
