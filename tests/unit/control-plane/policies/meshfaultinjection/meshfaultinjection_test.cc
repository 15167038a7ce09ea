// MeshFaultInjection rules: bandwidth limit syntax, percentage and status bounds, and which
// sections each targetRef scope allows (`rules` always, `from` for sidecars, `to` for gateways).
#include <gtest/gtest.h>

#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid {
namespace {

using testing::SpecCase;

class MeshFaultInjection : public ::testing::TestWithParam<SpecCase> {};

TEST_P(MeshFaultInjection, ReportsExactlyTheseErrors) {
  EXPECT_EQ(testing::specErrors("MeshFaultInjection", GetParam().spec), GetParam().errors);
}

#define FAULT(f) "{rules: [{default: {http: [" f "]}}]}"
#define BANDWIDTH(limit) FAULT("{responseBandwidth: {limit: " limit ", percentage: 1}}")
#define CONF "{http: [{delay: {value: 1s, percentage: 1}}]}"
#define FROM "from: [{targetRef: {kind: Mesh}, default: " CONF "}]"
#define TO "to: [{targetRef: {kind: Mesh}, default: " CONF "}]"
#define RULES "rules: [{default: " CONF "}]"

const SpecCase kCases[] = {
    {"BandwidthWithSpace", BANDWIDTH("'10 Gbps'"), ""},
    {"BandwidthZero", BANDWIDTH("0kbps"), ""},
    {"BandwidthTwoSpaces", BANDWIDTH("'10  Gbps'"),
     "spec.rules[0].default.http[0].responseBandwidth.limit: must be a whole number followed by "
     "kbps, Mbps or Gbps, such as 512kbps"},
    {"BandwidthUnitIsCaseSensitive", BANDWIDTH("10gbps"),
     "spec.rules[0].default.http[0].responseBandwidth.limit: must be a whole number followed by "
     "kbps, Mbps or Gbps, such as 512kbps"},
    {"BandwidthWithoutNumber", BANDWIDTH("kbps"),
     "spec.rules[0].default.http[0].responseBandwidth.limit: must be a whole number followed by "
     "kbps, Mbps or Gbps, such as 512kbps"},
    {"PercentageBounds",
     FAULT("{abort: {httpStatus: 100, percentage: 0}}, {abort: {httpStatus: "
           "599, percentage: '100'}}"),
     ""},
    {"PercentageJustAbove100", FAULT("{abort: {httpStatus: 500, percentage: '100.0001'}}"),
     "spec.rules[0].default.http[0].abort.percentage: must be <= 100"},
    {"StatusAbove599", FAULT("{abort: {httpStatus: 600, percentage: 1}}"),
     "spec.rules[0].default.http[0].abort.httpStatus: must be <= 599"},
    {"ZeroDelay", FAULT("{delay: {value: 0s, percentage: 1}}"), ""},
    {"NegativeDelay", FAULT("{delay: {value: -1ms, percentage: 1}}"),
     "spec.rules[0].default.http[0].delay.value: must not be negative"},
    {"EmptyFaultIsAccepted", FAULT("{}"), ""},
    {"RulesWithAnyScope", "{" RULES "}", ""},
    {"RulesAndToTogether", "{" RULES ", " TO "}", ""},
    {"FromWithMeshScope", "{" FROM "}",
     "spec.from: must not be defined when targetRef may select gateways: use 'rules', or set "
     "targetRef.proxyTypes to [Sidecar]"},
    {"FromWithServiceScope", "{targetRef: {kind: MeshService, name: a}, " FROM "}", ""},
    {"ToWithServiceScope", "{targetRef: {kind: MeshService, name: a}, " TO "}",
     "spec.to: must not be defined when targetRef selects only sidecars: 'to' injects faults "
     "into traffic through gateways"},
    {"GatewayProxyTypeIsUnsupportedAndForbidsFrom",
     "{targetRef: {kind: Mesh, proxyTypes: [Gateway]}, " FROM "}",
     "spec.targetRef.proxyTypes[0]: value 'Gateway' is not supported by Braid yet: gateways are "
     "not available\n"
     "spec.from: must not be defined when targetRef may select gateways: use 'rules', or set "
     "targetRef.proxyTypes to [Sidecar]"},
    {"FromExcludesRules", "{targetRef: {kind: MeshService, name: a}, " FROM ", " RULES "}",
     "spec.from: must be empty when 'rules' is defined"},
    {"FromKindMeshServiceSubset",
     "{targetRef: {kind: MeshService, name: a}, from: [{targetRef: {kind: MeshServiceSubset, "
     "name: b, tags: {v: '1'}}, default: " CONF "}]}",
     ""},
};

#undef RULES
#undef TO
#undef FROM
#undef CONF
#undef BANDWIDTH
#undef FAULT

INSTANTIATE_TEST_SUITE_P(Cases, MeshFaultInjection, ::testing::ValuesIn(kCases), testing::caseName);

}  // namespace
}  // namespace braid
