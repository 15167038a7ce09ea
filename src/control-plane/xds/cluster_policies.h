#pragma once

// Resilience policies of one outbound cluster, compiled from the merged `to` conf for its service
// (docs/policy-matching.md for the merged shapes). Pure: every function leaves the Cluster as it
// was when no policy applies, so a proxy without these policies gets the bytes it always had.
//
// - MeshLoadBalancingStrategy loadBalancer → lb_policy and `lb`: RoundRobin, LeastRequest
//   (choiceCount), Random, RingHash (ring sizes, hash function), Maglev (table size; braid-dp
//   balances it with its ring hash). `hashPolicies` (top level, or the deprecated ones inside
//   ringHash / maglev) → lb.hash_policies; a TCP proxy can only hash the connection (source IP)
//   and does so whatever the policies say. localityAwareness is not compiled (one zone).
// - MeshCircuitBreaker connectionLimits → circuit_breakers; outlierDetection (not disabled) →
//   outlier_detection with Envoy's defaults (interval 10 s, base ejection 30 s, 10 %) where
//   unset; a detector that is not set stays off; successRate and failurePercentage are not
//   compiled.
// - MeshRetry tcp.maxConnectAttempt and MeshTimeout idleTimeout → connection (idle timeout 1 h,
//   Envoy's, when only maxConnectAttempt is set).

#include <string>

#include "braid/proxy/v1/config.pb.h"
#include "control-plane/policy-matching/matched_policies.h"

namespace braid::xds {

// Envoy's TCP proxy idle timeout.
inline constexpr uint32_t kDefaultIdleTimeoutMs = 3600 * 1000;

void applyClusterPolicies(const policy_matching::MatchedPolicies& matched,
                          const std::string& service, braid::proxy::v1::Cluster& cluster);

}  // namespace braid::xds
