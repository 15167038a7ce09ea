// MeshHTTPRoute rules that the corpus does not pin down one by one: path forms, prefix
// replacement, header modifier uniqueness, redirect values.
#include <gtest/gtest.h>

#include "control-plane/resources/resource.h"
#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid {
namespace {

using testing::SpecCase;

class MeshHttpRoute : public ::testing::TestWithParam<SpecCase> {};

// Wraps one rule's matches and default into a route to `backend`.
std::string route(const std::string& matches, const std::string& conf) {
  return "{to: [{targetRef: {kind: MeshService, name: backend}, rules: [{matches: " + matches +
         ", default: " + conf + "}]}]}";
}

TEST_P(MeshHttpRoute, ReportsExactlyTheseErrors) {
  EXPECT_EQ(testing::specErrors("MeshHTTPRoute", GetParam().spec), GetParam().errors);
}

const std::string kPrefixRewrite =
    "{filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, "
    "replacePrefixMatch: /v2}}}]}";
const std::string kOneFilter = "{filters: [{type: RequestHeaderModifier, requestHeaderModifier: ";

const std::string kSpecs[] = {
    route("[{path: {type: PathPrefix, value: /}}]", "{}"),
    route("[{path: {type: PathPrefix, value: /a/}}]", "{}"),
    route("[{path: {type: PathPrefix, value: //}}]", "{}"),
    route("[{path: {type: Exact, value: /a/}}]", "{}"),
    route("[{path: {type: Exact, value: a}}]", "{}"),
    route("[{path: {type: RegularExpression, value: a}}]", "{}"),
    route("[{path: {type: RegularExpression, value: '(a'}}]", "{}"),
    route("[{path: {type: PathPrefix, value: /a}}, {path: {type: PathPrefix, value: /b}}]",
          kPrefixRewrite),
    route("[{path: {type: PathPrefix, value: /a}}, {method: GET}]", kPrefixRewrite),
    route("[{path: {type: PathPrefix, value: /a}}]",
          "{filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch}}}]}"),
    route("[{}]", kOneFilter + "{add: [{name: x-a, value: '1'}, {name: x-a, value: '2'}]}}]}"),
    route("[{}]", kOneFilter + "{set: [{name: x-a, value: '1'}], remove: [x-b]}}]}"),
    route("[{}]", kOneFilter + "{set: []}}]}"),
    route("[{queryParams: [{type: Exact, name: a, value: '1'}]},"
          " {queryParams: [{type: Exact, name: a, value: '2'}]}]",
          "{}"),
    route("[{}]", "{filters: [{type: RequestRedirect, requestRedirect: {hostname: '::1'}}]}"),
    route("[{}]", "{filters: [{type: RequestRedirect, requestRedirect: {hostname: Example.com}}]}"),
    route("[{}]",
          "{filters: [{type: RequestRedirect, requestRedirect: {port: 0, statusCode: "
          "'301'}}]}"),
    route("[{}]",
          "{filters: [{type: RequestMirror, requestMirror: {backendRef: {kind: "
          "MeshService, name: b}, percentage: '0.5'}}]}"),
    route("[{}]", "{backendRefs: [{kind: MeshService, name: b, weight: 4294967296}]}"),
};

const SpecCase kCases[] = {
    {"RootPrefix", kSpecs[0].c_str(), ""},
    {"PrefixWithTrailingSlash", kSpecs[1].c_str(),
     "spec.to[0].rules[0].matches[0].path.value: must not end with '/' (except the prefix '/' "
     "itself)"},
    {"DoubleSlashPrefix", kSpecs[2].c_str(),
     "spec.to[0].rules[0].matches[0].path.value: must not end with '/' (except the prefix '/' "
     "itself)"},
    {"ExactMayEndWithSlash", kSpecs[3].c_str(), ""},
    {"ExactNeedsLeadingSlash", kSpecs[4].c_str(),
     "spec.to[0].rules[0].matches[0].path.value: must start with '/'"},
    {"RegexNeedsNoSlash", kSpecs[5].c_str(), ""},
    {"RegexMustCompile", kSpecs[6].c_str(),
     "spec.to[0].rules[0].matches[0].path.value: must be a valid regular expression"},
    {"PrefixReplacementWhenEveryMatchIsAPrefix", kSpecs[7].c_str(), ""},
    {"PrefixReplacementWithAMatchWithoutPath", kSpecs[8].c_str(),
     "spec.to[0].rules[0].default.filters[0].urlRewrite.path.replacePrefixMatch: can only be "
     "used when every match of the rule has a path of type PathPrefix"},
    {"PrefixReplacementTypeWithoutValue", kSpecs[9].c_str(),
     "spec.to[0].rules[0].default.filters[0].urlRewrite.path.replacePrefixMatch: must be "
     "defined when type is ReplacePrefixMatch"},
    {"HeaderAddedTwice", kSpecs[10].c_str(),
     "spec.to[0].rules[0].default.filters[0].requestHeaderModifier.add[1].name: header 'x-a' "
     "must appear only once across set, add and remove; it is already in add[0]"},
    {"DistinctHeadersAcrossLists", kSpecs[11].c_str(), ""},
    {"EmptyModifierLists", kSpecs[12].c_str(),
     "spec.to[0].rules[0].default.filters[0].requestHeaderModifier: at least one of 'set', "
     "'add' or 'remove' must be defined"},
    {"SameQueryParamInDifferentMatches", kSpecs[13].c_str(), ""},
    {"RedirectToIPv6Literal", kSpecs[14].c_str(),
     "spec.to[0].rules[0].default.filters[0].requestRedirect.hostname: must be a hostname, not "
     "an IP address"},
    {"RedirectToUppercaseHost", kSpecs[15].c_str(),
     "spec.to[0].rules[0].default.filters[0].requestRedirect.hostname: must be a lowercase "
     "DNS-1123 subdomain of 1 to 253 characters"},
    {"RedirectPortAndQuotedStatus", kSpecs[16].c_str(),
     "spec.to[0].rules[0].default.filters[0].requestRedirect.port: must be >= 1\n"
     "spec.to[0].rules[0].default.filters[0].requestRedirect.statusCode: must be an integer"},
    {"MirrorPercentageAsString", kSpecs[17].c_str(), ""},
    {"WeightAboveUint32", kSpecs[18].c_str(),
     "spec.to[0].rules[0].default.backendRefs[0].weight: must be <= 4294967295"},
    {"RoutesHaveNoRulesSection",
     "{rules: [{default: {}}], to: [{targetRef: {kind: MeshService, name: b}, rules: []}]}",
     "spec.rules: unknown field"},
};

INSTANTIATE_TEST_SUITE_P(Cases, MeshHttpRoute, ::testing::ValuesIn(kCases), testing::caseName);

// A REST body arrives as JSON, where positive integers are unsigned: the status code enum and the
// port must still accept them.
TEST(MeshHttpRouteJson, UnsignedIntegersFromJsonBodies) {
  auto doc = Json::parse(R"({"type": "MeshHTTPRoute", "mesh": "default", "name": "r", "spec": {
      "to": [{"targetRef": {"kind": "MeshService", "name": "b"}, "rules": [{
        "matches": [{}],
        "default": {"filters": [{"type": "RequestRedirect",
                                 "requestRedirect": {"port": 8443, "statusCode": 307}}]}}]}]}})");
  auto parsed = parseResource(doc);
  EXPECT_TRUE(parsed.errors.empty()) << parsed.errors.toString();
}

}  // namespace
}  // namespace braid
