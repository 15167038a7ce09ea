// MeshCircuitBreaker (POLICY_FIELDS.md §6): connection limits and outlier detection (ejecting
// misbehaving endpoints), for outbounds (`to`) or inbounds (`from`, `rules`).
#include "control-plane/policies/common/policy_sections.h"
#include "control-plane/policies/common/policy_values.h"
#include "control-plane/policies/common/typed_fields.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using policies::positiveDuration;
using policies::requireOneOf;
using rules::RefPosition;
using schema::opt;
using schema::req;
using schema::S;

S positiveU32() { return S::u32().min(1); }

S connectionLimits() {
  return S::object({
      opt("maxConnections", positiveU32()),
      opt("maxConnectionPools", positiveU32()),
      opt("maxPendingRequests", positiveU32()),
      opt("maxRetries", positiveU32()),
      opt("maxRequests", positiveU32()),
  });
}

S detectors() {
  S consecutive = S::object({opt("consecutive", positiveU32())});
  // A number, a decimal, or a string holding one ("1.9"), strictly positive.
  S deviationFactor = S::percent()
                          .numberRange(std::nullopt, std::nullopt)
                          .check([](const Json& v, const std::string& path, FieldErrors& errors) {
                            auto d = policies::percentNumber(v);
                            if (d && *d <= 0) errors.add(path, "must be greater than 0");
                          });
  S successRate =
      S::object({opt("minimumHosts", positiveU32()), opt("requestVolume", positiveU32()),
                 opt("standardDeviationFactor", deviationFactor)});
  S failurePercentage =
      S::object({opt("minimumHosts", positiveU32()), opt("requestVolume", positiveU32()),
                 opt("threshold", S::u32().max(100))});
  return S::object({
                       opt("totalFailures", consecutive),
                       opt("gatewayFailures", consecutive),
                       opt("localOriginFailures", consecutive),
                       opt("successRate", successRate),
                       opt("failurePercentage", failurePercentage),
                   })
      .check(requireOneOf({"totalFailures", "gatewayFailures", "localOriginFailures", "successRate",
                           "failurePercentage"}));
}

S outlierDetection() {
  return S::object({
      opt("disabled", S::boolean()),
      opt("interval", positiveDuration()),
      opt("baseEjectionTime", positiveDuration()),
      opt("maxEjectionPercent", S::u32().max(100)),
      opt("splitExternalAndLocalErrors", S::boolean()),
      opt("healthyPanicThreshold", S::percent()),
      req("detectors", detectors()),
  });
}

S conf() {
  return S::object({opt("connectionLimits", connectionLimits()),
                    opt("outlierDetection", outlierDetection())})
      .check(requireOneOf({"connectionLimits", "outlierDetection"}));
}

S spec() {
  const std::vector<std::string> topKinds = {
      rules::kMesh,  rules::kMeshSubset,        rules::kMeshService,
      "MeshGateway", rules::kMeshServiceSubset, rules::kDataplane};
  const std::vector<std::string> toKinds = {rules::kMesh, rules::kMeshService,
                                            "MeshExternalService", "MeshMultiZoneService"};
  return policies::toFromRulesSpec(topKinds, toKinds, conf(),
                                   policies::ruleItem(conf(), /*withMatches=*/false));
}

}  // namespace

const ResourceType& meshCircuitBreakerType() {
  static const ResourceType kType{
      .name = "MeshCircuitBreaker",
      .plural = "meshcircuitbreakers",
      .singular = "meshcircuitbreaker",
      .scope = Scope::kMesh,
      .layout = Layout::kPolicy,
      .readOnly = false,
      .body = spec(),
  };
  return kType;
}

}  // namespace braid
