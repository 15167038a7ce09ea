// MeshCircuitBreaker rules: limits, percentages and the pct-style deviation factor.
#include <gtest/gtest.h>

#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid {
namespace {

using testing::SpecCase;

class MeshCircuitBreaker : public ::testing::TestWithParam<SpecCase> {};

TEST_P(MeshCircuitBreaker, ReportsExactlyTheseErrors) {
  EXPECT_EQ(testing::specErrors("MeshCircuitBreaker", GetParam().spec), GetParam().errors);
}

// An outlierDetection block for every destination.
std::string outlier(const std::string& block) {
  return "{to: [{targetRef: {kind: Mesh}, default: {outlierDetection: " + block + "}}]}";
}

const std::string kSpecs[] = {
    outlier("{detectors: {successRate: {standardDeviationFactor: '0.5'}}}"),
    outlier("{detectors: {successRate: {standardDeviationFactor: 0}}}"),
    outlier("{detectors: {successRate: {standardDeviationFactor: 'x'}}}"),
    outlier("{healthyPanicThreshold: '100', maxEjectionPercent: 100, detectors: "
            "{failurePercentage: {threshold: 100}}}"),
    outlier("{healthyPanicThreshold: '100.5', detectors: {failurePercentage: {threshold: 0}}}"),
    outlier("{healthyPanicThreshold: -1, maxEjectionPercent: -1, detectors: {gatewayFailures: "
            "{}}}"),
    outlier("{disabled: true}"),
};

const SpecCase kCases[] = {
    {"DeviationFactorAsString", kSpecs[0].c_str(), ""},
    {"ZeroDeviationFactor", kSpecs[1].c_str(),
     "spec.to[0].default.outlierDetection.detectors.successRate.standardDeviationFactor: must "
     "be greater than 0"},
    {"NonNumericDeviationFactor", kSpecs[2].c_str(),
     "spec.to[0].default.outlierDetection.detectors.successRate.standardDeviationFactor: string "
     "must be a valid number"},
    {"UpperBoundsAreInclusive", kSpecs[3].c_str(), ""},
    {"PanicThresholdAbove100", kSpecs[4].c_str(),
     "spec.to[0].default.outlierDetection.healthyPanicThreshold: must be <= 100"},
    {"NegativePercentages", kSpecs[5].c_str(),
     "spec.to[0].default.outlierDetection.maxEjectionPercent: must be >= 0\n"
     "spec.to[0].default.outlierDetection.healthyPanicThreshold: must be >= 0"},
    {"DisabledStillNeedsDetectors", kSpecs[6].c_str(),
     "spec.to[0].default.outlierDetection.detectors: must be defined"},
    {"RulesWithLimits", "{rules: [{default: {connectionLimits: {maxConnectionPools: 1}}}]}", ""},
    {"NoSections", "{targetRef: {kind: MeshService, name: a}}",
     "spec: at least one of 'to', 'from' or 'rules' must be defined"},
    {"MeshServiceSubsetDestinationIsRefused",
     "{to: [{targetRef: {kind: MeshServiceSubset, name: a}, default: {connectionLimits: "
     "{maxConnections: 1}}}]}",
     "spec.to[0].targetRef.kind: value 'MeshServiceSubset' is not supported here; must be one "
     "of Mesh, MeshService"},
};

INSTANTIATE_TEST_SUITE_P(Cases, MeshCircuitBreaker, ::testing::ValuesIn(kCases), testing::caseName);

}  // namespace
}  // namespace braid
