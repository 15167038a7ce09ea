// MeshTimeout rules: duration bounds, what counts as "configured", and the timeouts that a rule
// matching callers by spiffeID may not set.
#include <gtest/gtest.h>

#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid {
namespace {

using testing::SpecCase;

class MeshTimeout : public ::testing::TestWithParam<SpecCase> {};

TEST_P(MeshTimeout, ReportsExactlyTheseErrors) {
  EXPECT_EQ(testing::specErrors("MeshTimeout", GetParam().spec), GetParam().errors);
}

const SpecCase kCases[] = {
    {"ZeroIdleDisables", "{to: [{targetRef: {kind: Mesh}, default: {idleTimeout: 0s}}]}", ""},
    {"ZeroConnectionTimeout",
     "{to: [{targetRef: {kind: Mesh}, default: {connectionTimeout: '0'}}]}",
     "spec.to[0].default.connectionTimeout: must be greater than 0"},
    {"NegativeRequestTimeout",
     "{to: [{targetRef: {kind: Mesh}, default: {http: {requestTimeout: -1ms}}}]}",
     "spec.to[0].default.http.requestTimeout: must not be negative"},
    {"DayUnit", "{from: [{targetRef: {kind: Mesh}, default: {idleTimeout: 1d}}]}", ""},
    {"NumberIsNotADuration", "{from: [{targetRef: {kind: Mesh}, default: {idleTimeout: 30}}]}",
     "spec.from[0].default.idleTimeout: must be a duration string such as 500ms, 1m30s or 24h"},
    {"EmptyHttp", "{to: [{targetRef: {kind: Mesh}, default: {http: {}}}]}",
     "spec.to[0].default.http: at least one of 'requestTimeout', 'streamIdleTimeout', "
     "'maxStreamDuration' or 'maxConnectionDuration' must be defined"},
    {"RequestHeadersTimeoutWithAnotherIsFine",
     "{to: [{targetRef: {kind: Mesh}, default: {http: {requestHeadersTimeout: 1s, "
     "maxStreamDuration: 0s}}}]}",
     ""},
    {"SniRuleMaySetConnectionTimeouts",
     "{rules: [{matches: [{sni: {type: Exact, value: a.mesh}}], default: {connectionTimeout: 1s, "
     "idleTimeout: 1s, http: {maxStreamDuration: 1s}}}]}",
     ""},
    {"RuleWithoutMatchesMaySetConnectionTimeouts", "{rules: [{default: {connectionTimeout: 1s}}]}",
     ""},
    {"PrefixSpiffeRuleMaySetRequestTimeouts",
     "{rules: [{matches: [{spiffeID: {type: Prefix, value: spiffe://default}}], default: "
     "{http: {requestTimeout: 1s, streamIdleTimeout: 1m}}}]}",
     ""},
    {"SpiffeAmongSeveralMatchesStillForbids",
     "{rules: [{matches: [{sni: {type: Exact, value: a.mesh}}, {spiffeID: {type: Exact, value: "
     "spiffe://default/a}}], default: {idleTimeout: 1s}}]}",
     "spec.rules[0].default.idleTimeout: must not be set in a rule that matches on spiffeID: it "
     "cannot depend on the caller"},
    {"FromOnlyAcceptsMesh",
     "{from: [{targetRef: {kind: MeshSubset, tags: {a: b}}, default: {idleTimeout: 1s}}]}",
     "spec.from[0].targetRef.kind: value 'MeshSubset' is not supported here; must be one of "
     "Mesh"},
    {"SectionNameWithToOnly",
     "{targetRef: {kind: Dataplane, name: dp, sectionName: http},"
     " to: [{targetRef: {kind: Mesh}, default: {idleTimeout: 1s}}]}",
     "spec.targetRef.sectionName: can only be used when the policy configures inbound traffic "
     "(from or rules)"},
};

INSTANTIATE_TEST_SUITE_P(Cases, MeshTimeout, ::testing::ValuesIn(kCases), testing::caseName);

}  // namespace
}  // namespace braid
