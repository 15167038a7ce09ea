// MeshHealthCheck rules: base64 payloads, threshold and percentage bounds, what counts as a
// configured check, and the `to` section it requires.
#include <gtest/gtest.h>

#include <string>

#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid {
namespace {

using testing::SpecCase;

class MeshHealthCheck : public ::testing::TestWithParam<SpecCase> {};

TEST_P(MeshHealthCheck, ReportsExactlyTheseErrors) {
  EXPECT_EQ(testing::specErrors("MeshHealthCheck", GetParam().spec), GetParam().errors);
}

#define TO(conf) "{to: [{targetRef: {kind: Mesh}, default: " conf "}]}"

const SpecCase kCases[] = {
    {"PaddedBase64", TO("{tcp: {send: cGluZw==, receive: [YQ==, YWI=, YWJj]}}"), ""},
    {"EmptyPayloadIsBase64", TO("{tcp: {send: ''}}"), ""},
    {"Base64LengthNotMultipleOfFour", TO("{tcp: {send: abc}}"),
     "spec.to[0].default.tcp.send: must be valid base64"},
    {"Base64PaddingInTheMiddle", TO("{tcp: {receive: [ab=c]}}"),
     "spec.to[0].default.tcp.receive[0]: must be valid base64"},
    {"Base64TooMuchPadding", TO("{tcp: {send: a===}}"),
     "spec.to[0].default.tcp.send: must be valid base64"},
    {"Base64UrlAlphabetRefused", TO("{tcp: {send: a-b_}}"),
     "spec.to[0].default.tcp.send: must be valid base64"},
    {"ThresholdsAtOne", TO("{http: {}, unhealthyThreshold: 1, healthyThreshold: 1}"), ""},
    {"ThresholdAboveInt32", TO("{http: {}, unhealthyThreshold: 2147483648}"),
     "spec.to[0].default.unhealthyThreshold: must be <= 2147483647"},
    {"JitterPercentBounds", TO("{http: {}, intervalJitterPercent: 0}"), ""},
    {"JitterPercentAbove100", TO("{http: {}, intervalJitterPercent: 101}"),
     "spec.to[0].default.intervalJitterPercent: must be <= 100"},
    {"PanicThresholdAsDecimalString", TO("{http: {}, healthyPanicThreshold: '100'}"), ""},
    {"PanicThresholdAbove100", TO("{http: {}, healthyPanicThreshold: '100.5'}"),
     "spec.to[0].default.healthyPanicThreshold: must be <= 100"},
    {"StatusBounds", TO("{http: {expectedStatuses: [100, 599]}}"), ""},
    {"StatusAbove599", TO("{http: {expectedStatuses: [600]}}"),
     "spec.to[0].default.http.expectedStatuses[0]: must be <= 599"},
    {"RelativeEventLogPath", TO("{grpc: {}, eventLogPath: health.log}"), ""},
    {"EmptyEventLogPath", TO("{grpc: {}, eventLogPath: ''}"),
     "spec.to[0].default.eventLogPath: must not be empty"},
    {"SettingsWithoutAProtocol", TO("{interval: 5s, timeout: 1s}"),
     "spec.to[0].default: at least one of 'http', 'tcp' or 'grpc' must be defined"},
    {"DisabledProtocolStillCounts", TO("{tcp: {disabled: true}}"), ""},
    {"SubMillisecondInterval", TO("{http: {}, interval: 1us}"), ""},
    {"NegativeNoTrafficInterval", TO("{http: {}, noTrafficInterval: -1m}"),
     "spec.to[0].default.noTrafficInterval: must be greater than 0"},
    {"EmptyTo", "{to: []}", "spec.to: must not be empty"},
    {"ToMeshServiceByLabels",
     "{to: [{targetRef: {kind: MeshService, labels: {app: a}}, default: {http: {}}}]}", ""},
    {"ToMeshServiceSectionName",
     "{to: [{targetRef: {kind: MeshService, name: a, sectionName: http}, default: {http: {}}}]}",
     ""},
    {"SeventeenHeaders",
     TO("{http: {requestHeadersToAdd: {add: [{name: a, value: '1'}, {name: a, value: '2'}, "
        "{name: a, value: '3'}, {name: a, value: '4'}, {name: a, value: '5'}, {name: a, value: "
        "'6'}, {name: a, value: '7'}, {name: a, value: '8'}, {name: a, value: '9'}, {name: a, "
        "value: '10'}, {name: a, value: '11'}, {name: a, value: '12'}, {name: a, value: '13'}, "
        "{name: a, value: '14'}, {name: a, value: '15'}, {name: a, value: '16'}, {name: a, value: "
        "'17'}]}}}"),
     "spec.to[0].default.http.requestHeadersToAdd.add: must have at most 16 items"},
    {"TopDataplaneWithSectionName",
     "{targetRef: {kind: Dataplane, sectionName: http}, to: [{targetRef: {kind: Mesh}, default: "
     "{http: {}}}]}",
     "spec.targetRef.sectionName: can only be used in policies that configure inbound traffic "
     "(from or rules)"},
};

#undef TO

INSTANTIATE_TEST_SUITE_P(Cases, MeshHealthCheck, ::testing::ValuesIn(kCases), testing::caseName);

}  // namespace
}  // namespace braid
