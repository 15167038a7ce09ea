// The shared section rules and value helpers used by every policy.
#include "control-plane/policies/common/policy_sections.h"

#include <gtest/gtest.h>

#include "control-plane/policies/common/policy_values.h"
#include "control-plane/resources/registry.h"
#include "control-plane/resources/resource.h"
#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid::policies {
namespace {

std::string run(const schema::Check& check, const char* json) {
  FieldErrors errors;
  check(Json::parse(json), "spec", errors);
  return errors.toString();
}

std::string validate(const schema::S& s, const char* json) {
  FieldErrors errors;
  schema::validate(*s.node(), Json::parse(json), "v", errors);
  return errors.toString();
}

TEST(PolicySections, TopKindDefaultsToMesh) {
  EXPECT_EQ(topKind(Json::parse(R"({})")), "Mesh");
  EXPECT_EQ(topKind(Json::parse(R"({"targetRef": {}})")), "Mesh");
  EXPECT_EQ(topKind(Json::parse(R"({"targetRef": {"kind": 3}})")), "Mesh");
  EXPECT_EQ(topKind(Json::parse(R"({"targetRef": {"kind": "Dataplane"}})")), "Dataplane");
}

TEST(PolicySections, OmittedTopTargetRefIsNotWrittenIntoTheStoredSpec) {
  auto docs = parseYaml(testing::policyDocument(
      "MeshTimeout", "{to: [{targetRef: {kind: Mesh}, default: {idleTimeout: 1h}}]}"));
  auto parsed = parseResource(docs.documents.at(0));
  ASSERT_TRUE(parsed.resource) << parsed.errors.toString();
  EXPECT_FALSE(parsed.resource->body().contains("targetRef"));
  EXPECT_EQ(topKind(parsed.resource->body()), "Mesh");
}

TEST(PolicySections, EmptyListsDoNotCountAsSections) {
  auto check = requireSection({"to", "from", "rules"});
  EXPECT_EQ(run(check, R"({"to": [], "from": null})"),
            "spec: at least one of 'to', 'from' or 'rules' must be defined");
  EXPECT_EQ(run(check, R"({"rules": [{}]})"), "");
  EXPECT_EQ(run(requireSection({"from", "rules"}), R"({})"),
            "spec: at least one of 'from' or 'rules' must be defined");
}

TEST(PolicySections, RulesExcludeReportsEachConflictingSection) {
  auto check = rulesExclude({"to", "from"});
  EXPECT_EQ(run(check, R"({"rules": [{}], "to": [{}], "from": []})"),
            "spec.to: must be empty when 'rules' is defined");
  EXPECT_EQ(run(check, R"({"rules": [], "to": [{}], "from": [{}]})"), "");
}

TEST(PolicySections, SectionNameNeedsFromOrRules) {
  auto check = sectionNameNeedsInbound();
  const char* onlyTo = R"({"targetRef": {"kind": "Dataplane", "sectionName": "http"}, "to": [{}]})";
  EXPECT_EQ(run(check, onlyTo),
            "spec.targetRef.sectionName: can only be used when the policy configures inbound "
            "traffic (from or rules)");
  EXPECT_EQ(run(check, R"({"targetRef": {"kind": "Dataplane", "sectionName": "http"},
                           "from": [{}]})"),
            "");
  EXPECT_EQ(run(check, R"({"targetRef": {"kind": "MeshService", "sectionName": "http"}})"), "");
}

TEST(PolicySections, RequireOneOfExplainsAFieldThatCannotStandAlone) {
  auto check = requireOneOf({"a", "b"}, "c");
  EXPECT_EQ(run(check, R"({"a": 1})"), "");
  EXPECT_EQ(run(check, R"({"a": null})"), "spec: at least one of 'a' or 'b' must be defined");
  EXPECT_EQ(run(check, R"({"c": 1})"),
            "spec: at least one of 'a' or 'b' must be defined ('c' alone is not enough)");
}

TEST(PolicyValues, RegexMustCompile) {
  EXPECT_TRUE(isValidRegex("^/items/[0-9]+$"));
  EXPECT_TRUE(isValidRegex("(a|b){2,3}"));
  EXPECT_FALSE(isValidRegex("([0-9]"));
  EXPECT_FALSE(isValidRegex("*.php"));
  EXPECT_EQ(validate(regexString(), R"("[")"), "v: must be a valid regular expression");
}

TEST(PolicyValues, IntOneOfAcceptsSignedAndUnsignedJson) {
  auto codes = intOneOf({301, 302});
  // Json::parse reads positive integers as unsigned, YAML as signed: both must pass.
  EXPECT_EQ(validate(codes, "301"), "");
  EXPECT_EQ(validate(codes, "-301"), "v: must be one of 301, 302");
  EXPECT_EQ(validate(codes, "18446744073709551615"), "v: must be one of 301, 302");
  EXPECT_EQ(validate(codes, R"("301")"), "v: must be an integer");
}

TEST(PolicyValues, PercentNumberReadsEveryForm) {
  EXPECT_EQ(percentNumber(Json::parse("12")), 12.0);
  EXPECT_EQ(percentNumber(Json::parse("1.5")), 1.5);
  EXPECT_EQ(percentNumber(Json::parse(R"("12.5")")), 12.5);
  EXPECT_FALSE(percentNumber(Json::parse(R"("12.5%")")));
  EXPECT_FALSE(percentNumber(Json::parse(R"("")")));
  EXPECT_FALSE(percentNumber(Json::parse("true")));
}

TEST(PolicyRegistry, TypesAreRegisteredWithTheirNames) {
  struct Names {
    const char* name;
    const char* plural;
    const char* singular;
  };
  for (const auto& n :
       {Names{"MeshTrafficPermission", "meshtrafficpermissions", "meshtrafficpermission"},
        Names{"MeshHTTPRoute", "meshhttproutes", "meshhttproute"},
        Names{"MeshTCPRoute", "meshtcproutes", "meshtcproute"},
        Names{"MeshTimeout", "meshtimeouts", "meshtimeout"},
        Names{"MeshRetry", "meshretries", "meshretry"},
        Names{"MeshCircuitBreaker", "meshcircuitbreakers", "meshcircuitbreaker"}}) {
    const ResourceType* t = findTypeByName(n.name);
    ASSERT_NE(t, nullptr) << n.name;
    EXPECT_EQ(t->plural, n.plural);
    EXPECT_EQ(t->singular, n.singular);
    EXPECT_EQ(t->scope, Scope::kMesh);
    EXPECT_EQ(t->layout, Layout::kPolicy);
    EXPECT_FALSE(t->readOnly);
  }
}

}  // namespace
}  // namespace braid::policies
