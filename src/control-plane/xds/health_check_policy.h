#pragma once

// MeshHealthCheck for one outbound cluster: the merged `to` conf for its service turned into the
// cluster's HealthCheck, every default filled in (POLICY_FIELDS.md §7; Kuma's MeshHealthCheck
// API and Envoy's HealthCheck for those Kuma leaves to Envoy).
//
// The checker follows Kuma's selectHealthCheckType: http for an http/http2 outbound, grpc for a
// grpc one, tcp for a tcp one, each when configured and not disabled; an http/http2/grpc outbound
// whose own checker is disabled falls back to tcp when tcp is configured and not disabled. No
// checker: no health_check (the panic threshold alone does nothing without one).

#include <string>

#include "braid/proxy/v1/config.pb.h"
#include "control-plane/policy-matching/matched_policies.h"

namespace braid::xds {

// Kuma's defaults (MeshHealthCheck API) and Envoy's (healthy_panic_threshold, expected status).
inline constexpr uint32_t kDefaultHcIntervalMs = 60000;
inline constexpr uint32_t kDefaultHcTimeoutMs = 15000;
inline constexpr uint32_t kDefaultHcUnhealthyThreshold = 5;
inline constexpr uint32_t kDefaultHcHealthyThreshold = 1;
inline constexpr uint32_t kDefaultHcPanicThreshold = 50;
inline constexpr uint32_t kDefaultHcNoTrafficIntervalMs = 60000;
inline constexpr uint32_t kDefaultHcExpectedStatus = 200;

// Sets cluster.health_check for traffic to `service` over `protocol` (tcp, http, http2, grpc);
// leaves it unset when no MeshHealthCheck applies or no checker fits.
void compileHealthCheck(const policy_matching::MatchedPolicies& matched, const std::string& service,
                        const std::string& protocol, braid::proxy::v1::Cluster& cluster);

}  // namespace braid::xds
