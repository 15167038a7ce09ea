// Which dataplanes and inbounds a top-level targetRef selects.
#include "control-plane/policy-matching/target_ref_match.h"

#include <gtest/gtest.h>

#include "control-plane/policy-matching/dataplane_view.h"

namespace braid::policy_matching {
namespace {

DataplaneView webDataplane() {
  return makeDataplaneView("web-1", Json::parse(R"({
    "labels": {"team": "a", "env": "prod"},
    "networking": {
      "address": "10.0.0.1",
      "inbound": [
        {"port": 8080, "name": "http",
         "tags": {"braid.io/service": "web", "version": "v1", "braid.io/zone": "z1"}},
        {"port": 9090, "tags": {"braid.io/service": "web-admin", "version": "v1"}}
      ],
      "outbound": [
        {"port": 10001, "tags": {"braid.io/service": "backend"}},
        {"port": 10002, "tags": {"braid.io/service": "db"}},
        {"port": 10003, "tags": {"braid.io/service": "backend", "version": "v2"}}
      ]
    }})"));
}

DataplaneView bareDataplane() {
  return makeDataplaneView("bare", Json::parse(R"({"networking": {"address": "10.0.0.2"}})"));
}

struct SelectCase {
  const char* targetRef;  // "null" = absent
  bool matched;
  std::vector<size_t> inbounds;
};

const SelectCase kWebCases[] = {
    {"null", true, {0, 1}},
    {R"({"kind":"Mesh"})", true, {0, 1}},
    {R"({"kind":"Mesh","proxyTypes":["Sidecar"]})", true, {0, 1}},
    {R"({"kind":"Mesh","proxyTypes":["Gateway"]})", false, {}},
    {R"({"kind":"Mesh","proxyTypes":["Gateway","Sidecar"]})", true, {0, 1}},
    {R"({"kind":"MeshSubset"})", true, {0, 1}},
    {R"({"kind":"MeshSubset","tags":{}})", true, {0, 1}},
    {R"({"kind":"MeshSubset","tags":{"version":"v1"}})", true, {0, 1}},
    {R"({"kind":"MeshSubset","tags":{"braid.io/zone":"z1"}})", true, {0}},
    {R"({"kind":"MeshSubset","tags":{"braid.io/zone":"z2"}})", false, {}},
    {R"({"kind":"MeshSubset","tags":{"braid.io/zone":"z1","version":"v2"}})", false, {}},
    {R"({"kind":"MeshSubset","tags":{"version":"v1"},"proxyTypes":["Gateway"]})", false, {}},
    {R"({"kind":"MeshService","name":"web"})", true, {0}},
    {R"({"kind":"MeshService","name":"web-admin"})", true, {1}},
    {R"({"kind":"MeshService","name":"backend"})", false, {}},
    {R"({"kind":"MeshService","labels":{"app":"web"}})", false, {}},
    {R"({"kind":"MeshServiceSubset","name":"web","tags":{"version":"v1"}})", true, {0}},
    {R"({"kind":"MeshServiceSubset","name":"web","tags":{"version":"*"}})", true, {0}},
    {R"({"kind":"MeshServiceSubset","name":"web","tags":{"version":"v2"}})", false, {}},
    {R"({"kind":"MeshServiceSubset","name":"web","tags":{"region":"*"}})", false, {}},
    {R"({"kind":"MeshServiceSubset","name":"web"})", true, {0}},
    {R"({"kind":"MeshServiceSubset","name":"db","tags":{"version":"v1"}})", false, {}},
    {R"({"kind":"Dataplane"})", true, {0, 1}},
    {R"({"kind":"Dataplane","name":"web-1"})", true, {0, 1}},
    {R"({"kind":"Dataplane","name":"web-2"})", false, {}},
    {R"({"kind":"Dataplane","labels":{"team":"a"}})", true, {0, 1}},
    {R"({"kind":"Dataplane","labels":{"team":"a","env":"prod"}})", true, {0, 1}},
    {R"({"kind":"Dataplane","labels":{"team":"b"}})", false, {}},
    {R"({"kind":"Dataplane","labels":{"team":"*"}})", false, {}},
    {R"({"kind":"Dataplane","labels":{"owner":"a"}})", false, {}},
    {R"({"kind":"Dataplane","name":"web-1","labels":{"team":"b"}})", false, {}},
    {R"({"kind":"Dataplane","name":"web-1","sectionName":"http"})", true, {0}},
    {R"({"kind":"Dataplane","name":"web-1","sectionName":"9090"})", true, {1}},
    {R"({"kind":"Dataplane","sectionName":"8080"})", true, {0}},
    {R"({"kind":"Dataplane","labels":{"env":"prod"},"sectionName":"http"})", true, {0}},
    {R"({"kind":"Dataplane","name":"web-1","sectionName":"grpc"})", false, {}},
    {R"({"kind":"Dataplane","name":"web-2","sectionName":"http"})", false, {}},
    {R"({"kind":"MeshGateway","name":"gw"})", false, {}},
    {R"({"kind":"MeshHTTPRoute","name":"r"})", false, {}},
    {R"({"kind":"Nonsense"})", false, {}},
    {R"({})", false, {}},
    {R"("Mesh")", false, {}},
};

const SelectCase kBareCases[] = {
    {"null", true, {}},
    {R"({"kind":"Mesh"})", true, {}},
    {R"({"kind":"MeshSubset"})", true, {}},
    {R"({"kind":"MeshSubset","tags":{"version":"v1"}})", false, {}},
    {R"({"kind":"MeshService","name":"bare"})", false, {}},
    {R"({"kind":"MeshServiceSubset","name":"bare","tags":{}})", false, {}},
    {R"({"kind":"Dataplane","name":"bare"})", true, {}},
    {R"({"kind":"Dataplane","name":"bare","sectionName":"http"})", false, {}},
};

void expectCases(const DataplaneView& dp, const SelectCase* begin, const SelectCase* end) {
  for (const SelectCase* c = begin; c != end; ++c) {
    Selection s = selectDataplane(Json::parse(c->targetRef), dp);
    EXPECT_EQ(s.matched, c->matched) << dp.name << " / " << c->targetRef;
    EXPECT_EQ(s.inbounds, c->inbounds) << dp.name << " / " << c->targetRef;
  }
}

TEST(SelectDataplane, EveryKindOnADataplaneWithInbounds) {
  expectCases(webDataplane(), std::begin(kWebCases), std::end(kWebCases));
}

TEST(SelectDataplane, DataplaneWithoutInboundsHasNoTags) {
  expectCases(bareDataplane(), std::begin(kBareCases), std::end(kBareCases));
}

TEST(SelectDataplane, SectionNamePrefersInboundNamesOverPorts) {
  // An inbound named "9090" wins over the inbound listening on port 9090.
  DataplaneView dp = makeDataplaneView("dp", Json::parse(R"({"networking": {"inbound": [
      {"port": 9090, "tags": {"braid.io/service": "a"}},
      {"port": 7070, "name": "9090", "tags": {"braid.io/service": "b"}}]}})"));
  Selection s = selectDataplane(Json::parse(R"({"kind":"Dataplane","sectionName":"9090"})"), dp);
  EXPECT_TRUE(s.matched);
  EXPECT_EQ(s.inbounds, std::vector<size_t>{1});
}

TEST(SelectorMatches, WildcardNeedsThePresentKey) {
  Json tags = Json::parse(R"({"braid.io/service":"web","version":"v1"})");
  EXPECT_TRUE(selectorMatches(Json::parse(R"({})"), tags));
  EXPECT_TRUE(selectorMatches(Json::parse(R"({"version":"*"})"), tags));
  EXPECT_FALSE(selectorMatches(Json::parse(R"({"zone":"*"})"), tags));
  EXPECT_FALSE(selectorMatches(Json::parse(R"({"version":"v2"})"), tags));
  EXPECT_FALSE(selectorMatches(Json::parse(R"({"version":"v1"})"), Json::object()));
}

TEST(DataplaneView, ReadsInboundsLabelsAndDistinctOutboundServices) {
  DataplaneView dp = webDataplane();
  EXPECT_EQ(dp.name, "web-1");
  EXPECT_EQ(dp.labels, Json::parse(R"({"team":"a","env":"prod"})"));
  ASSERT_EQ(dp.inbounds.size(), 2u);
  EXPECT_EQ(dp.inbounds[0].label(), "http");
  EXPECT_EQ(dp.inbounds[0].service(), "web");
  EXPECT_EQ(dp.inbounds[1].label(), "9090");
  EXPECT_EQ(dp.inbounds[1].port, 9090);
  EXPECT_EQ(dp.outboundServices, (std::vector<std::string>{"backend", "db"}));

  DataplaneView bare = bareDataplane();
  EXPECT_TRUE(bare.inbounds.empty());
  EXPECT_TRUE(bare.outboundServices.empty());
  EXPECT_EQ(bare.labels, Json::object());
}

}  // namespace
}  // namespace braid::policy_matching
