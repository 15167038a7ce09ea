// MeshTCPRoute rules: one rule per destination, backendRefs required and non-empty.
#include <gtest/gtest.h>

#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid {
namespace {

using testing::SpecCase;

class MeshTcpRoute : public ::testing::TestWithParam<SpecCase> {};

TEST_P(MeshTcpRoute, ReportsExactlyTheseErrors) {
  EXPECT_EQ(testing::specErrors("MeshTCPRoute", GetParam().spec), GetParam().errors);
}

const SpecCase kCases[] = {
    {"NoToIsAccepted", "{targetRef: {kind: Mesh}}", ""},
    {"EmptyTo", "{to: []}", "spec.to: must not be empty"},
    {"ZeroWeightIsAllowed",
     "{to: [{targetRef: {kind: MeshService, name: a}, rules: [{default: {backendRefs: "
     "[{kind: MeshService, name: a, weight: 0}]}}]}]}",
     ""},
    {"EmptyRulesList", "{to: [{targetRef: {kind: MeshService, name: a}, rules: []}]}", ""},
    {"TwoRules",
     "{to: [{targetRef: {kind: MeshService, name: a}, rules: ["
     "{default: {backendRefs: [{kind: MeshService, name: a}]}},"
     " {default: {backendRefs: [{kind: MeshService, name: b}]}}]}]}",
     "spec.to[0].rules: must have at most one rule"},
    {"BackendRefsRequired",
     "{to: [{targetRef: {kind: MeshService, name: a}, rules: [{default: {}}]}]}",
     "spec.to[0].rules[0].default.backendRefs: must be defined"},
    {"BackendRefsWrongType",
     "{to: [{targetRef: {kind: MeshService, name: a}, rules: [{default: {backendRefs: a}}]}]}",
     "spec.to[0].rules[0].default.backendRefs: must be a list"},
    {"MeshServiceByLabels",
     "{to: [{targetRef: {kind: MeshService, labels: {app: a}}, rules: [{default: {backendRefs: "
     "[{kind: MeshService, labels: {app: a}, namespace: ns}]}}]}]}",
     "spec.to[0].rules[0].default.backendRefs[0].namespace: must not be set together with "
     "'labels'"},
};

INSTANTIATE_TEST_SUITE_P(Cases, MeshTcpRoute, ::testing::ValuesIn(kCases), testing::caseName);

}  // namespace
}  // namespace braid
