#pragma once

// Accessors for every resource type's descriptor; each is defined in its own file
// (resources/types/<type>.cc for legacy types, policies/<policy>/<policy>.cc for policies).

#include "control-plane/resources/resource_type.h"

namespace braid {

const ResourceType& meshType();
const ResourceType& dataplaneType();
const ResourceType& externalServiceType();
const ResourceType& zoneIngressType();
const ResourceType& zoneEgressType();
const ResourceType& zoneType();
const ResourceType& meshTrafficPermissionType();
const ResourceType& meshHttpRouteType();
const ResourceType& meshTcpRouteType();
const ResourceType& meshTimeoutType();
const ResourceType& meshRetryType();
const ResourceType& meshCircuitBreakerType();
const ResourceType& meshHealthCheckType();
const ResourceType& meshLoadBalancingStrategyType();
const ResourceType& meshRateLimitType();
const ResourceType& meshFaultInjectionType();
const ResourceType& meshAccessLogType();
const ResourceType& meshMetricType();
const ResourceType& meshTraceType();

}  // namespace braid
