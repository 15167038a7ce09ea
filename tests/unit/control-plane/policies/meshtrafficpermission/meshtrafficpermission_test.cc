// MeshTrafficPermission rules that the corpus does not pin down one by one.
#include <gtest/gtest.h>

#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid {
namespace {

using testing::SpecCase;

class MeshTrafficPermission : public ::testing::TestWithParam<SpecCase> {};

TEST_P(MeshTrafficPermission, ReportsExactlyTheseErrors) {
  EXPECT_EQ(testing::specErrors("MeshTrafficPermission", GetParam().spec), GetParam().errors);
}

const SpecCase kCases[] = {
    {"EveryActionIsAccepted",
     "{from: [{targetRef: {kind: Mesh}, default: {action: Allow}},"
     " {targetRef: {kind: Mesh}, default: {action: Deny}},"
     " {targetRef: {kind: Mesh}, default: {action: AllowWithShadowDeny}}]}",
     ""},
    {"ActionIsRequired", "{from: [{targetRef: {kind: Mesh}, default: {}}]}",
     "spec.from[0].default.action: must be defined"},
    {"NoSpecAtAll", "null", "spec: at least one of 'from' or 'rules' must be defined"},
    {"EmptyFromWithRulesIsFine",
     "{from: [], rules: [{default: {deny: [{spiffeID: {type: Exact, value: spiffe://d/a}}]}}]}",
     ""},
    {"SniMatchesAreRefused", "{rules: [{default: {deny: [{sni: {type: Exact, value: a.b}}]}}]}",
     "spec.rules[0].default.deny[0].sni: sni matches are not supported by MeshTrafficPermission "
     "in Braid yet; match the caller's spiffeID"},
    {"UnprovableSourceTagIsRefused",
     "{from: [{targetRef: {kind: MeshSubset, tags: {braid.io/service: web, version: v2}},"
     " default: {action: Allow}}]}",
     "spec.from[0].targetRef.tags.version: cannot be proven by a caller: its identity "
     "(spiffe://<mesh>/<service>) carries only the braid.io/service tag"},
    {"EmptyListsInRuleDoNotCount", "{rules: [{default: {allow: [], deny: []}}]}",
     "spec.rules[0].default: at least one of 'allow', 'deny' or 'allowWithShadowDeny' must be "
     "defined"},
    {"RulesHaveNoMatches",
     "{rules: [{matches: [{sni: {type: Exact, value: a.b}}], default: {allow: [{spiffeID: {type: "
     "Exact, value: spiffe://d/a}}]}}]}",
     "spec.rules[0].matches: unknown field"},
    {"SectionNameWithRulesIsFine",
     "{targetRef: {kind: Dataplane, name: dp, sectionName: http},"
     " rules: [{default: {allow: [{spiffeID: {type: Exact, value: spiffe://default/web}}]}}]}",
     ""},
    {"SectionNameOnlyOnDataplane",
     "{targetRef: {kind: MeshSubset, sectionName: http},"
     " from: [{targetRef: {kind: Mesh}, default: {action: Allow}}]}",
     "spec.targetRef.sectionName: must not be set with kind MeshSubset"},
    {"DeprecatedMeshServiceCallerIsStillAccepted",
     "{from: [{targetRef: {kind: MeshService, name: web}, default: {action: Allow}}]}", ""},
    {"DataplaneCallerIsRefused",
     "{from: [{targetRef: {kind: Dataplane}, default: {action: Allow}}]}",
     "spec.from[0].targetRef.kind: value 'Dataplane' is not supported here; must be one of "
     "Mesh, MeshSubset, MeshService, MeshServiceSubset"},
    {"ToIsNotPartOfThisPolicy",
     "{to: [{targetRef: {kind: Mesh}, default: {action: Allow}}],"
     " from: [{targetRef: {kind: Mesh}, default: {action: Allow}}]}",
     "spec.to: unknown field"},
};

INSTANTIATE_TEST_SUITE_P(Cases, MeshTrafficPermission, ::testing::ValuesIn(kCases),
                         testing::caseName);

}  // namespace
}  // namespace braid
