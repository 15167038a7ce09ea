// MeshLoadBalancingStrategy rules: Maglev's prime table size, ring sizes against Envoy's
// defaults, typed unions for balancers and hash policies, failover zones and thresholds, and
// where crossZone is allowed.
#include <gtest/gtest.h>

#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid {
namespace {

using testing::SpecCase;

class MeshLoadBalancingStrategy : public ::testing::TestWithParam<SpecCase> {};

TEST_P(MeshLoadBalancingStrategy, ReportsExactlyTheseErrors) {
  EXPECT_EQ(testing::specErrors("MeshLoadBalancingStrategy", GetParam().spec), GetParam().errors);
}

#define TO(conf) "{to: [{targetRef: {kind: Mesh}, default: " conf "}]}"
#define LB(lb) TO("{loadBalancer: " lb "}")
#define LA(la) \
  "{to: [{targetRef: {kind: MeshService, name: a}, default: {localityAwareness: " la "}}]}"

const SpecCase kCases[] = {
    {"SmallestPrimeTable", LB("{type: Maglev, maglev: {tableSize: 2}}"), ""},
    {"LargestTable", LB("{type: Maglev, maglev: {tableSize: 5000011}}"), ""},
    {"TableOfOneIsNotPrime", LB("{type: Maglev, maglev: {tableSize: 1}}"),
     "spec.to[0].default.loadBalancer.maglev.tableSize: must be a prime number"},
    {"TableOfSquareIsNotPrime", LB("{type: Maglev, maglev: {tableSize: 4489}}"),
     "spec.to[0].default.loadBalancer.maglev.tableSize: must be a prime number"},
    {"TableOfZero", LB("{type: Maglev, maglev: {tableSize: 0}}"),
     "spec.to[0].default.loadBalancer.maglev.tableSize: must be >= 1"},
    {"EqualRingSizes", LB("{type: RingHash, ringHash: {minRingSize: 8, maxRingSize: 8}}"), ""},
    {"MaxAtDefaultMin", LB("{type: RingHash, ringHash: {maxRingSize: 1024}}"), ""},
    {"MaxBelowDefaultMin", LB("{type: RingHash, ringHash: {maxRingSize: 1023}}"),
     "spec.to[0].default.loadBalancer.ringHash.maxRingSize: minRingSize (1024 by default) must "
     "not be greater than maxRingSize (1023)"},
    {"LargeMinAloneIsFine", LB("{type: RingHash, ringHash: {minRingSize: 8000000}}"), ""},
    {"TypeWithoutItsObject", LB("{type: RingHash}"), ""},
    {"EmptyRoundRobinObject", LB("{type: RoundRobin, roundRobin: {}}"), ""},
    {"RoundRobinTakesNoFields", LB("{type: RoundRobin, roundRobin: {weight: 1}}"),
     "spec.to[0].default.loadBalancer.roundRobin.weight: unknown field"},
    {"ObjectOfAnotherType", LB("{type: Random, maglev: {}}"),
     "spec.to[0].default.loadBalancer.maglev: must not be set when type is Random"},
    {"ChoiceCountTwo", LB("{type: LeastRequest, leastRequest: {choiceCount: 2}}"), ""},
    {"BiasZero", LB("{type: LeastRequest, leastRequest: {activeRequestBias: 0}}"), ""},
    {"BiasDecimalString", LB("{type: LeastRequest, leastRequest: {activeRequestBias: '1.5'}}"), ""},
    {"BiasNotANumber", LB("{type: LeastRequest, leastRequest: {activeRequestBias: high}}"),
     "spec.to[0].default.loadBalancer.leastRequest.activeRequestBias: string must be a valid "
     "number"},
    {"SourceIpSharesConnectionObject", TO("{hashPolicies: [{type: SourceIP, connection: {}}]}"),
     ""},
    {"ConnectionNeedsItsObject", TO("{hashPolicies: [{type: Connection}]}"),
     "spec.to[0].default.hashPolicies[0].connection: must be defined when type is Connection"},
    {"CookieRootPathAndZeroTtl",
     TO("{hashPolicies: [{type: Cookie, cookie: {name: s, ttl: 0s, path: /}}]}"), ""},
    {"DeprecatedMaglevPoliciesWithNewOnes",
     TO("{loadBalancer: {type: Maglev, maglev: {hashPolicies: [{type: Connection, connection: "
        "{}}]}}, hashPolicies: [{type: Connection, connection: {}}]}"),
     "spec.to[0].default.loadBalancer.maglev.hashPolicies: is deprecated and must not be set "
     "together with default.hashPolicies"},
    {"DeprecatedPoliciesAlone",
     TO("{loadBalancer: {type: RingHash, ringHash: {hashPolicies: [{type: Header, header: "
        "{name: x}}]}}}"),
     ""},
    {"AllAffinityTagsWeighted",
     LA("{localZone: {affinityTags: [{key: a, weight: 1}, {key: b, "
        "weight: 2}]}}"),
     ""},
    {"NoAffinityTagWeighted", LA("{localZone: {affinityTags: [{key: a}, {key: b}]}}"), ""},
    {"SomeAffinityTagsWeighted", LA("{localZone: {affinityTags: [{key: a}, {key: b, weight: 2}]}}"),
     "spec.to[0].default.localityAwareness.localZone.affinityTags: either every tag or none must "
     "have a weight"},
    {"FailoverAnyWithEmptyZones", LA("{crossZone: {failover: [{to: {type: Any, zones: []}}]}}"),
     ""},
    {"ThresholdHundredString", LA("{crossZone: {failoverThreshold: {percentage: '100'}}}"), ""},
    {"ThresholdZeroDecimalString", LA("{crossZone: {failoverThreshold: {percentage: '0.0'}}}"),
     "spec.to[0].default.localityAwareness.crossZone.failoverThreshold.percentage: must be "
     "greater than 0"},
    {"ThresholdNegativeIsOneError", LA("{crossZone: {failoverThreshold: {percentage: -1}}}"),
     "spec.to[0].default.localityAwareness.crossZone.failoverThreshold.percentage: must be >= 0"},
    {"ThresholdRequiresPercentage", LA("{crossZone: {failoverThreshold: {}}}"),
     "spec.to[0].default.localityAwareness.crossZone.failoverThreshold.percentage: must be "
     "defined"},
    {"CrossZoneWithSectionName",
     "{to: [{targetRef: {kind: MeshService, name: a, sectionName: http}, default: "
     "{localityAwareness: {crossZone: {failover: [{to: {type: Any}}]}}}}]}",
     "spec.to[0].default.localityAwareness.crossZone: must not be set when targetRef selects a "
     "MeshService by labels or sectionName"},
    {"LocalZoneWithLabels",
     "{to: [{targetRef: {kind: MeshService, labels: {app: a}}, default: {localityAwareness: "
     "{localZone: {affinityTags: [{key: a}]}}}}]}",
     ""},
    {"MissingTo", "{targetRef: {kind: Mesh}}", "spec.to: must be defined"},
    {"ToWithoutDefault", "{to: [{targetRef: {kind: Mesh}}]}",
     "spec.to[0].default: must be defined"},
};

#undef LA
#undef LB
#undef TO

INSTANTIATE_TEST_SUITE_P(Cases, MeshLoadBalancingStrategy, ::testing::ValuesIn(kCases),
                         testing::caseName);

}  // namespace
}  // namespace braid
