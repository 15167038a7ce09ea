// The merge order of the policies that select a dataplane.
#include "control-plane/policy-matching/precedence.h"

#include <gtest/gtest.h>

#include "control-plane/policy-matching/matched_policies.h"
#include "control-plane/policy-matching/peer_target.h"

namespace braid::policy_matching {
namespace {

struct RankCase {
  const char* targetRef;
  int rank;
};

const RankCase kRanks[] = {
    {"null", 0},
    {R"({"kind":"Mesh"})", 0},
    {R"({"kind":"Mesh","proxyTypes":["Sidecar"]})", 0},
    {R"({"kind":"MeshSubset","tags":{"a":"b"}})", 10},
    {R"({"kind":"MeshService","name":"web"})", 20},
    {R"({"kind":"MeshServiceSubset","name":"web","tags":{"v":"1"}})", 30},
    {R"({"kind":"Dataplane"})", 40},
    {R"({"kind":"Dataplane","sectionName":"http"})", 41},
    {R"({"kind":"Dataplane","labels":{"a":"b"}})", 42},
    {R"({"kind":"Dataplane","labels":{"a":"b"},"sectionName":"http"})", 43},
    {R"({"kind":"Dataplane","name":"web-1"})", 44},
    {R"({"kind":"Dataplane","name":"web-1","labels":{"a":"b"}})", 44},
    {R"({"kind":"Dataplane","name":"web-1","sectionName":"http"})", 45},
    {R"({"kind":"MeshGateway","name":"gw"})", -1},
    {R"({"name":"x"})", -1},
};

TEST(Precedence, TopLevelRanks) {
  for (const RankCase& c : kRanks) {
    EXPECT_EQ(topLevelRank(Json::parse(c.targetRef)), c.rank) << c.targetRef;
  }
}

TEST(Precedence, InnerTargetRanks) {
  EXPECT_EQ(parsePeerTarget(Json::parse(R"({"kind":"Mesh"})"))->rank(), 0);
  EXPECT_EQ(parsePeerTarget(Json::parse(R"({"kind":"MeshSubset","tags":{"a":"b"}})"))->rank(), 1);
  EXPECT_EQ(parsePeerTarget(Json::parse(R"({"kind":"MeshService","name":"a"})"))->rank(), 2);
  EXPECT_EQ(
      parsePeerTarget(Json::parse(R"({"kind":"MeshServiceSubset","name":"a","tags":{}})"))->rank(),
      3);
}

const char* kDataplane = R"({"labels": {"team": "a"}, "networking": {"inbound": [
    {"port": 8080, "name": "http", "tags": {"braid.io/service": "web", "version": "v1"}}]}})";

PolicyInput policy(const char* name, const char* targetRef) {
  PolicyInput p{"MeshTimeout", name, Json::object()};
  if (std::string(targetRef) != "null") p.spec["targetRef"] = Json::parse(targetRef);
  p.spec["to"] =
      Json::parse(std::string(R"([{"targetRef":{"kind":"Mesh"},"default":{"idleTimeout":")") +
                  name + R"("}}])");
  return p;
}

TEST(Precedence, MatchedPoliciesAreOrderedBySpecificityThenName) {
  // Given in scrambled order; two ties (z-mesh/a-mesh, and the two MeshService ones).
  std::vector<PolicyInput> policies = {
      policy("dp-name-section", R"({"kind":"Dataplane","name":"web-1","sectionName":"http"})"),
      policy("z-mesh", "null"),
      policy("svc-b", R"({"kind":"MeshService","name":"web"})"),
      policy("dp-labels", R"({"kind":"Dataplane","labels":{"team":"a"}})"),
      policy("subset", R"({"kind":"MeshSubset","tags":{"version":"v1"}})"),
      policy("svc-a", R"({"kind":"MeshService","name":"web"})"),
      policy("dp-name", R"({"kind":"Dataplane","name":"web-1"})"),
      policy("a-mesh", R"({"kind":"Mesh"})"),
      policy("svc-subset", R"({"kind":"MeshServiceSubset","name":"web","tags":{"version":"v1"}})"),
      policy("dp-labels-section",
             R"({"kind":"Dataplane","labels":{"team":"a"},"sectionName":"http"})"),
      policy("not-me", R"({"kind":"Dataplane","name":"other"})"),
  };
  auto result = matchPolicies(makeDataplaneView("web-1", Json::parse(kDataplane)), policies);
  const TypeResult& r = result.at("MeshTimeout");
  EXPECT_EQ(r.matched, (std::vector<std::string>{"a-mesh", "z-mesh", "subset", "svc-a", "svc-b",
                                                 "svc-subset", "dp-labels", "dp-labels-section",
                                                 "dp-name", "dp-name-section"}));
  // The most specific policy is merged last and wins.
  ASSERT_EQ(r.to.size(), 1u);
  EXPECT_EQ(r.to[0].conf, Json::parse(R"({"idleTimeout":"dp-name-section"})"));
}

TEST(Precedence, TiesGoToTheNameThatSortsLater) {
  std::vector<PolicyInput> policies = {policy("b", R"({"kind":"Mesh"})"),
                                       policy("a", R"({"kind":"Mesh"})")};
  auto result = matchPolicies(makeDataplaneView("web-1", Json::parse(kDataplane)), policies);
  EXPECT_EQ(result.at("MeshTimeout").matched, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(result.at("MeshTimeout").to.at(0).conf, Json::parse(R"({"idleTimeout":"b"})"));
}

}  // namespace
}  // namespace braid::policy_matching
