#pragma once

// The resilience fields of a Cluster (MeshLoadBalancingStrategy, MeshCircuitBreaker, MeshRetry
// tcp, MeshTimeout idleTimeout; config.proto fields 7-10) → ClusterConfig. Kept apart from
// proxy_config_compiler.cc so each policy's checks live in one place.

#include <string>
#include <vector>

#include "braid/proxy/v1/config.pb.h"
#include "dataplane/config/snapshot.h"

namespace braid::dataplane {

// Fills `out`'s lbPolicy and the resilience fields from `in`; what cannot be served is appended
// to `problems` (prefixed with `where`).
void compileClusterPolicies(const braid::proxy::v1::Cluster& in, const std::string& where,
                            ClusterConfig& out, std::vector<std::string>& problems);

}  // namespace braid::dataplane
