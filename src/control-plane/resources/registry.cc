#include "control-plane/resources/registry.h"

#include "control-plane/resources/types/types.h"

namespace braid {

// One explicit list (not static initialisers, which static libraries drop). Order = CONTRACT §4.
const std::vector<const ResourceType*>& allResourceTypes() {
  static const std::vector<const ResourceType*> kTypes = {
      &meshType(),
      &dataplaneType(),
      &externalServiceType(),
      &zoneIngressType(),
      &zoneEgressType(),
      &zoneType(),
      &meshTrafficPermissionType(),
      &meshHttpRouteType(),
      &meshTcpRouteType(),
      &meshTimeoutType(),
      &meshRetryType(),
      &meshCircuitBreakerType(),
      &meshHealthCheckType(),
      &meshLoadBalancingStrategyType(),
      &meshRateLimitType(),
      &meshFaultInjectionType(),
      &meshAccessLogType(),
      &meshMetricType(),
      &meshTraceType(),
  };
  return kTypes;
}

const ResourceType* findTypeByName(std::string_view name) {
  for (const auto* t : allResourceTypes()) {
    if (t->name == name) return t;
  }
  return nullptr;
}

const ResourceType* findTypeByPlural(std::string_view plural) {
  for (const auto* t : allResourceTypes()) {
    if (t->plural == plural) return t;
  }
  return nullptr;
}

const ResourceType* findTypeBySingular(std::string_view singular) {
  for (const auto* t : allResourceTypes()) {
    if (t->singular == singular) return t;
  }
  return nullptr;
}

}  // namespace braid
