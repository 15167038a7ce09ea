// MeshRateLimit rules: the 50ms interval floor, which sections each targetRef scope allows, and
// the TCP limits a rule matching on spiffeID may not set.
#include <gtest/gtest.h>

#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid {
namespace {

using testing::SpecCase;

class MeshRateLimit : public ::testing::TestWithParam<SpecCase> {};

TEST_P(MeshRateLimit, ReportsExactlyTheseErrors) {
  EXPECT_EQ(testing::specErrors("MeshRateLimit", GetParam().spec), GetParam().errors);
}

#define HTTP_LIMIT "{local: {http: {disabled: true}}}"
#define FROM "from: [{targetRef: {kind: Mesh}, default: " HTTP_LIMIT "}]"
#define TO "to: [{targetRef: {kind: Mesh}, default: " HTTP_LIMIT "}]"
#define RULES "rules: [{default: " HTTP_LIMIT "}]"
#define SIDECARS "targetRef: {kind: Mesh, proxyTypes: [Sidecar]}"
#define RATE(interval)                                                        \
  "{" SIDECARS                                                                \
  ", from: [{targetRef: {kind: Mesh}, default: {local: {http: {requestRate: " \
  "{num: 1, interval: " interval "}}}}}]}"

const SpecCase kCases[] = {
    {"IntervalJustAbove50ms", RATE("51ms"), ""},
    {"IntervalOf50ms", RATE("50ms"),
     "spec.from[0].default.local.http.requestRate.interval: must be greater than 50ms"},
    {"IntervalOf50msInSeconds", RATE("0.05s"),
     "spec.from[0].default.local.http.requestRate.interval: must be greater than 50ms"},
    {"IntervalWithoutUnit", RATE("'100'"),
     "spec.from[0].default.local.http.requestRate.interval: must be a duration string such as "
     "500ms, 1m30s or 24h"},
    {"NoSectionsIsFine", "{}", ""},
    {"OmittedTargetRefAllowsTo", "{" TO "}", ""},
    {"OmittedTargetRefForbidsFrom", "{" FROM "}",
     "spec.from: must not be defined when targetRef may select gateways: set "
     "targetRef.proxyTypes to [Sidecar]"},
    {"SidecarMeshAllowsFromAndRulesSeparately", "{" SIDECARS ", " FROM "}", ""},
    {"SidecarMeshForbidsTo", "{" SIDECARS ", " TO "}",
     "spec.to: must not be defined when targetRef selects only sidecars: 'to' limits traffic "
     "through gateways"},
    {"SubsetWithoutProxyTypesForbidsRules",
     "{targetRef: {kind: MeshSubset, tags: {a: b}}, " RULES "}",
     "spec.rules: must not be defined when targetRef may select gateways: set "
     "targetRef.proxyTypes to [Sidecar]"},
    {"ServiceScopeAllowsRules", "{targetRef: {kind: MeshService, name: a}, " RULES "}", ""},
    {"DataplaneScopeForbidsTo", "{targetRef: {kind: Dataplane, name: dp}, " TO "}",
     "spec.to: must not be defined when targetRef selects only sidecars: 'to' limits traffic "
     "through gateways"},
    {"EmptyFromDoesNotCount", "{from: []}", ""},
    {"UnsupportedTopKindSkipsScopeRules", "{targetRef: {kind: MeshGateway, name: g}, " FROM "}",
     "spec.targetRef.kind: value 'MeshGateway' is not supported by Braid yet; must be one of "
     "Mesh, MeshSubset, MeshService, MeshServiceSubset, Dataplane"},
    {"StatusBounds",
     "{" SIDECARS ", rules: [{default: {local: {http: {onRateLimit: {status: 599}}}}}]}", ""},
    {"StatusAbove599",
     "{" SIDECARS ", rules: [{default: {local: {http: {onRateLimit: {status: 600}}}}}]}",
     "spec.rules[0].default.local.http.onRateLimit.status: must be <= 599"},
    {"SniRuleMayLimitConnections",
     "{" SIDECARS ", rules: [{matches: [{sni: {type: Exact, value: a.mesh}}], default: {local: "
     "{tcp: {disabled: true}}}}]}",
     ""},
    {"SpiffeRuleMayLimitRequests",
     "{" SIDECARS ", rules: [{matches: [{spiffeID: {type: Prefix, value: 'spiffe://default'}}], "
     "default: " HTTP_LIMIT "}]}",
     ""},
    {"SpiffeAmongMatchesForbidsTcp",
     "{" SIDECARS ", rules: [{matches: [{sni: {type: Exact, value: a.mesh}}, {spiffeID: {type: "
     "Exact, value: 'spiffe://default/a'}}], default: {local: {tcp: {disabled: true}}}}]}",
     "spec.rules[0].default.local.tcp: must not be set in a rule that matches on spiffeID: "
     "connections are limited before the caller is known"},
    {"InboundSectionNameWithFrom",
     "{targetRef: {kind: Dataplane, name: dp, sectionName: http}, " FROM "}", ""},
};

#undef RATE
#undef SIDECARS
#undef RULES
#undef TO
#undef FROM
#undef HTTP_LIMIT

INSTANTIATE_TEST_SUITE_P(Cases, MeshRateLimit, ::testing::ValuesIn(kCases), testing::caseName);

}  // namespace
}  // namespace braid
