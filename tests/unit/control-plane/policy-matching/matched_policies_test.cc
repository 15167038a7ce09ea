// Merging the sections of the policies that select a dataplane, and the JSON the REST API shows.
#include "control-plane/policy-matching/matched_policies.h"

#include <gtest/gtest.h>

namespace braid::policy_matching {
namespace {

const char* kWebDataplane = R"({
  "labels": {"team": "a"},
  "networking": {
    "address": "10.0.0.1",
    "inbound": [
      {"port": 8080, "name": "http", "tags": {"braid.io/service": "web", "version": "v1"}},
      {"port": 9090, "tags": {"braid.io/service": "web-admin"}}
    ],
    "outbound": [
      {"port": 10001, "tags": {"braid.io/service": "backend"}},
      {"port": 10002, "tags": {"braid.io/service": "db"}}
    ]
  }})";

DataplaneView webDataplane() { return makeDataplaneView("web-1", Json::parse(kWebDataplane)); }

PolicyInput policy(const char* type, const char* name, const char* spec) {
  return {type, name, Json::parse(spec)};
}

// Compares the JSON the REST API would show, so that failures print both documents.
void expectJson(const MatchedPolicies& result, const char* expected) {
  Json actual = toJson(result);
  EXPECT_EQ(actual, Json::parse(expected)) << "actual:\n"
                                           << actual.dump(2) << "\nexpected:\n"
                                           << Json::parse(expected).dump(2);
}

TEST(MatchedPolicies, ToMergesMeshAndServiceEntriesAcrossPolicies) {
  std::vector<PolicyInput> policies = {
      policy("MeshTimeout", "c-dp", R"({
        "targetRef": {"kind": "Dataplane", "name": "web-1"},
        "to": [{"targetRef": {"kind": "MeshService", "name": "db"},
                "default": {"idleTimeout": null,
                            "http": {"streamIdleTimeout": null, "maxStreamDuration": "1m"}}}]})"),
      policy("MeshTimeout", "a-mesh", R"({
        "targetRef": {"kind": "Mesh"},
        "to": [{"targetRef": {"kind": "Mesh"},
                "default": {"connectionTimeout": "1s", "idleTimeout": "1h",
                            "http": {"requestTimeout": "10s", "streamIdleTimeout": "30m"}}},
               {"targetRef": {"kind": "MeshService", "name": "backend"},
                "default": {"http": {"requestTimeout": "2s"}}}]})"),
      policy("MeshTimeout", "b-web", R"({
        "targetRef": {"kind": "MeshService", "name": "web"},
        "to": [{"targetRef": {"kind": "Mesh"},
                "default": {"connectionTimeout": "3s", "http": {"requestTimeout": "5s"}}},
               {"targetRef": {"kind": "MeshService", "name": "extra"},
                "default": {"idleTimeout": "0s"}}]})"),
      policy("MeshTimeout", "other", R"({
        "targetRef": {"kind": "MeshService", "name": "other"},
        "to": [{"targetRef": {"kind": "Mesh"}, "default": {"connectionTimeout": "9s"}}]})"),
  };
  auto result = matchPolicies(webDataplane(), policies);
  // The backend entry of the least specific policy still beats the Mesh entry of a more
  // specific one: entries are ordered by their own targetRef first.
  expectJson(result, R"({"MeshTimeout": {
    "matched": ["a-mesh", "b-web", "c-dp"],
    "to": [
      {"targetRef": {"kind": "Mesh"},
       "conf": {"connectionTimeout": "3s", "idleTimeout": "1h",
                "http": {"requestTimeout": "5s", "streamIdleTimeout": "30m"}}},
      {"targetRef": {"kind": "MeshService", "name": "backend"},
       "conf": {"connectionTimeout": "3s", "idleTimeout": "1h",
                "http": {"requestTimeout": "2s", "streamIdleTimeout": "30m"}}},
      {"targetRef": {"kind": "MeshService", "name": "db"},
       "conf": {"connectionTimeout": "3s",
                "http": {"requestTimeout": "5s", "maxStreamDuration": "1m"}}},
      {"targetRef": {"kind": "MeshService", "name": "extra"},
       "conf": {"connectionTimeout": "3s", "idleTimeout": "0s",
                "http": {"requestTimeout": "5s", "streamIdleTimeout": "30m"}}}
    ]}})");

  const TypeResult& r = result.at("MeshTimeout");
  ASSERT_NE(r.toService("backend"), nullptr);
  EXPECT_EQ(r.toService("backend")->at("http").at("requestTimeout"), "2s");
  ASSERT_NE(r.toService("not-listed"), nullptr);  // falls back to the Mesh catch-all
  EXPECT_EQ(*r.toService("not-listed"), r.to.at(0).conf);
}

TEST(MatchedPolicies, ToWithoutMeshEntryListsOnlyCoveredTargets) {
  std::vector<PolicyInput> policies = {policy("MeshRetry", "retries", R"({
    "targetRef": {"kind": "Mesh"},
    "to": [{"targetRef": {"kind": "MeshServiceSubset", "name": "backend",
                          "tags": {"version": "v2"}},
            "default": {"http": {"numRetries": 5}}},
           {"targetRef": {"kind": "MeshService", "name": "backend"},
            "default": {"http": {"numRetries": 3}, "tcp": {"maxConnectAttempt": 2}}},
           {"targetRef": {"kind": "MeshExternalService", "name": "ext"},
            "default": {"http": {"numRetries": 9}}}]})")};
  auto result = matchPolicies(webDataplane(), policies);
  // db gets nothing (no Mesh entry); the subset inherits the service entry; the unsupported
  // MeshExternalService entry is skipped.
  expectJson(result, R"({"MeshRetry": {
    "matched": ["retries"],
    "to": [
      {"targetRef": {"kind": "MeshService", "name": "backend"},
       "conf": {"http": {"numRetries": 3}, "tcp": {"maxConnectAttempt": 2}}},
      {"targetRef": {"kind": "MeshServiceSubset", "name": "backend", "tags": {"version": "v2"}},
       "conf": {"http": {"numRetries": 5}, "tcp": {"maxConnectAttempt": 2}}}
    ]}})");
  EXPECT_EQ(result.at("MeshRetry").toService("db"), nullptr);
}

TEST(MatchedPolicies, FromIsMergedPerInboundThePolicySelects) {
  std::vector<PolicyInput> policies = {
      policy("MeshTrafficPermission", "admin-lockdown", R"({
        "targetRef": {"kind": "Dataplane", "sectionName": "9090"},
        "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Deny"}}]})"),
      policy("MeshTrafficPermission", "allow-all", R"({
        "targetRef": {"kind": "Mesh"},
        "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}]})"),
      policy("MeshTrafficPermission", "web-backend", R"({
        "targetRef": {"kind": "MeshService", "name": "web"},
        "from": [{"targetRef": {"kind": "MeshServiceSubset", "name": "backend",
                                "tags": {"version": "v2"}},
                  "default": {"action": "AllowWithShadowDeny"}},
                 {"targetRef": {"kind": "MeshService", "name": "backend"},
                  "default": {"action": "Deny"}}]})"),
  };
  expectJson(matchPolicies(webDataplane(), policies), R"({"MeshTrafficPermission": {
    "matched": ["allow-all", "web-backend", "admin-lockdown"],
    "from": [
      {"inbound": "http", "targetRef": {"kind": "Mesh"}, "conf": {"action": "Allow"}},
      {"inbound": "http", "targetRef": {"kind": "MeshService", "name": "backend"},
       "conf": {"action": "Deny"}},
      {"inbound": "http",
       "targetRef": {"kind": "MeshServiceSubset", "name": "backend", "tags": {"version": "v2"}},
       "conf": {"action": "AllowWithShadowDeny"}},
      {"inbound": "9090", "targetRef": {"kind": "Mesh"}, "conf": {"action": "Deny"}}
    ]}})");
}

TEST(MatchedPolicies, FromThatSelectsNoInboundIsShownEmpty) {
  DataplaneView bare = makeDataplaneView("bare", Json::parse(R"({"networking": {}})"));
  std::vector<PolicyInput> policies = {policy("MeshTimeout", "t", R"({
    "from": [{"targetRef": {"kind": "Mesh"}, "default": {"idleTimeout": "1m"}}]})")};
  expectJson(matchPolicies(bare, policies), R"({"MeshTimeout": {"matched": ["t"], "from": []}})");
}

TEST(MatchedPolicies, TrafficPermissionRulesAppendTheirLists) {
  std::vector<PolicyInput> policies = {
      policy("MeshTrafficPermission", "web-extra", R"({
        "targetRef": {"kind": "MeshService", "name": "web"},
        "rules": [{"default": {
          "deny": [{"spiffeID": {"type": "Exact", "value": "spiffe://default/bad"}}],
          "allow": [{"spiffeID": {"type": "Exact", "value": "spiffe://other/web"}}]}}]})"),
      policy("MeshTrafficPermission", "base", R"({
        "targetRef": {"kind": "Mesh"},
        "rules": [{"default": {
          "allow": [{"spiffeID": {"type": "Prefix", "value": "spiffe://default/"}}]}}]})"),
  };
  expectJson(matchPolicies(webDataplane(), policies), R"({"MeshTrafficPermission": {
    "matched": ["base", "web-extra"],
    "rules": [
      {"inbound": "http", "conf": {
        "allow": [{"spiffeID": {"type": "Prefix", "value": "spiffe://default/"}},
                  {"spiffeID": {"type": "Exact", "value": "spiffe://other/web"}}],
        "deny": [{"spiffeID": {"type": "Exact", "value": "spiffe://default/bad"}}]}},
      {"inbound": "9090", "conf": {
        "allow": [{"spiffeID": {"type": "Prefix", "value": "spiffe://default/"}}]}}
    ]}})");
}

TEST(MatchedPolicies, InboundRulesAreGroupedByMatches) {
  std::vector<PolicyInput> policies = {
      policy("MeshTimeout", "t-admin", R"({
        "targetRef": {"kind": "Dataplane", "sectionName": "9090"},
        "rules": [{"default": {"connectionTimeout": "2s"}}]})"),
      policy("MeshTimeout", "t-mesh", R"({
        "rules": [
          {"default": {"http": {"requestTimeout": "10s"}}},
          {"matches": [{"spiffeID": {"type": "Exact", "value": "spiffe://default/x"}}],
           "default": {"http": {"requestTimeout": "1s"}}}]})"),
      policy("MeshTimeout", "t-web", R"({
        "targetRef": {"kind": "MeshService", "name": "web"},
        "rules": [{"matches": [], "default": {"idleTimeout": "5m"}}]})"),
  };
  // The matched group takes the all-traffic rules first, whatever policy they come from.
  expectJson(matchPolicies(webDataplane(), policies), R"({"MeshTimeout": {
    "matched": ["t-mesh", "t-web", "t-admin"],
    "rules": [
      {"inbound": "http", "conf": {"http": {"requestTimeout": "10s"}, "idleTimeout": "5m"}},
      {"inbound": "http",
       "matches": [{"spiffeID": {"type": "Exact", "value": "spiffe://default/x"}}],
       "conf": {"http": {"requestTimeout": "1s"}, "idleTimeout": "5m"}},
      {"inbound": "9090", "conf": {"http": {"requestTimeout": "10s"}, "connectionTimeout": "2s"}},
      {"inbound": "9090",
       "matches": [{"spiffeID": {"type": "Exact", "value": "spiffe://default/x"}}],
       "conf": {"http": {"requestTimeout": "1s"}, "connectionTimeout": "2s"}}
    ]}})");
}

TEST(MatchedPolicies, SingleDefaultPoliciesMergeInOrder) {
  std::vector<PolicyInput> policies = {
      policy("MeshMetric", "m-dp", R"({
        "targetRef": {"kind": "Dataplane", "labels": {"team": "a"}},
        "default": {"sidecar": {"includeUnused": true},
                    "backends": [{"type": "Prometheus",
                                  "prometheus": {"port": 9999, "path": "/m"}}]}})"),
      policy("MeshMetric", "m-mesh", R"({
        "targetRef": {"kind": "Mesh"},
        "default": {"sidecar": {"includeUnused": false,
                                "profiles": {"appendProfiles": [{"name": "Basic"}]}},
                    "backends": [{"type": "Prometheus", "prometheus": {"port": 5670}}]}})"),
      policy("MeshMetric", "m-gateways", R"({
        "targetRef": {"kind": "Mesh", "proxyTypes": ["Gateway"]},
        "default": {"sidecar": {"includeUnused": false}}})"),
  };
  expectJson(matchPolicies(webDataplane(), policies), R"({"MeshMetric": {
    "matched": ["m-mesh", "m-dp"],
    "default": {
      "sidecar": {"includeUnused": true, "profiles": {"appendProfiles": [{"name": "Basic"}]}},
      "backends": [{"type": "Prometheus", "prometheus": {"port": 9999, "path": "/m"}}]}}})");
}

TEST(MatchedPolicies, RouteRulesMergeByMatches) {
  std::vector<PolicyInput> policies = {
      policy("MeshHTTPRoute", "canary", R"({
        "targetRef": {"kind": "MeshService", "name": "web"},
        "to": [{"targetRef": {"kind": "MeshService", "name": "backend"},
                "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                           "default": {"backendRefs": [
                             {"kind": "MeshServiceSubset", "name": "backend",
                              "tags": {"version": "v2"}, "weight": 10},
                             {"kind": "MeshServiceSubset", "name": "backend",
                              "tags": {"version": "v1"}, "weight": 90}]}}]}]})"),
      policy("MeshHTTPRoute", "base", R"({
        "to": [{"targetRef": {"kind": "MeshService", "name": "backend"},
                "rules": [
                  {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                   "default": {"filters": [{"type": "RequestHeaderModifier",
                     "requestHeaderModifier": {"set": [{"name": "x-a", "value": "1"}]}}]}},
                  {"matches": [{"path": {"type": "Exact", "value": "/health"}}],
                   "default": {}}]}]})"),
  };
  expectJson(matchPolicies(webDataplane(), policies), R"({"MeshHTTPRoute": {
    "matched": ["base", "canary"],
    "to": [{"targetRef": {"kind": "MeshService", "name": "backend"},
            "conf": {"rules": [
              {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
               "default": {
                 "filters": [{"type": "RequestHeaderModifier",
                   "requestHeaderModifier": {"set": [{"name": "x-a", "value": "1"}]}}],
                 "backendRefs": [
                   {"kind": "MeshServiceSubset", "name": "backend",
                    "tags": {"version": "v2"}, "weight": 10},
                   {"kind": "MeshServiceSubset", "name": "backend",
                    "tags": {"version": "v1"}, "weight": 90}]}},
              {"matches": [{"path": {"type": "Exact", "value": "/health"}}], "default": {}}]}}]
  }})");
}

TEST(MatchedPolicies, TypesWithoutMatchesAreLeftOut) {
  std::vector<PolicyInput> policies = {
      policy("MeshRetry", "elsewhere", R"({
        "targetRef": {"kind": "MeshService", "name": "nope"},
        "to": [{"targetRef": {"kind": "Mesh"}, "default": {"tcp": {"maxConnectAttempt": 1}}}]})"),
      policy("MeshTrace", "trace", R"({"default": {"backends": []}})"),
  };
  auto result = matchPolicies(webDataplane(), policies);
  EXPECT_EQ(result.count("MeshRetry"), 0u);
  expectJson(result, R"({"MeshTrace": {"matched": ["trace"], "default": {"backends": []}}})");
}

// End to end through Resources, as the REST handler calls it.
TEST(MatchedPoliciesJson, GroupsMatchedPoliciesOfTheDataplanesMeshByType) {
  auto policyType = [](const char* name) {
    ResourceType t;
    t.name = name;
    t.layout = Layout::kPolicy;
    return t;
  };
  const ResourceType timeout = policyType("MeshTimeout");
  const ResourceType permission = policyType("MeshTrafficPermission");
  const ResourceType trace = policyType("MeshTrace");
  ResourceType dataplaneType;
  dataplaneType.name = "Dataplane";
  dataplaneType.layout = Layout::kLegacy;

  auto resource = [](const ResourceType& type, const char* mesh, const char* name,
                     const char* content) {
    Resource r;
    r.type = &type;
    r.mesh = mesh;
    r.name = name;
    r.content = Json::parse(content);
    return r;
  };
  Resource dataplane = resource(dataplaneType, "default", "web-1", kWebDataplane);
  std::vector<Resource> policies = {
      resource(timeout, "default", "timeouts-backend", R"({"spec": {
        "targetRef": {"kind": "MeshService", "name": "web"},
        "to": [{"targetRef": {"kind": "MeshService", "name": "backend"},
                "default": {"http": {"requestTimeout": "3s"}}}]}})"),
      resource(timeout, "default", "timeouts-default", R"({"labels": {"origin": "x"}, "spec": {
        "targetRef": {"kind": "Mesh"},
        "to": [{"targetRef": {"kind": "Mesh"},
                "default": {"connectionTimeout": "5s", "idleTimeout": "1h"}}],
        "from": [{"targetRef": {"kind": "Mesh"}, "default": {"connectionTimeout": "10s"}}]}})"),
      resource(timeout, "other", "elsewhere", R"({"spec": {
        "to": [{"targetRef": {"kind": "Mesh"}, "default": {"idleTimeout": "9h"}}]}})"),
      resource(permission, "default", "mtp", R"({"spec": {
        "targetRef": {"kind": "Dataplane", "name": "web-1", "sectionName": "http"},
        "rules": [{"default": {"allow": [
          {"spiffeID": {"type": "Prefix", "value": "spiffe://default/"}}]}}]}})"),
      resource(trace, "default", "trace", R"({"spec": {
        "default": {"backends": [{"type": "Zipkin",
                                  "zipkin": {"url": "http://zipkin:9411/api/v2/spans"}}],
                    "sampling": {"overall": 50}}}})"),
      dataplane,
  };

  Json actual = matchedPoliciesJson(dataplane, policies);
  const char* expected = R"({
  "MeshTimeout": {
    "matched": ["timeouts-default", "timeouts-backend"],
    "to": [
      {"targetRef": {"kind": "Mesh"}, "conf": {"connectionTimeout": "5s", "idleTimeout": "1h"}},
      {"targetRef": {"kind": "MeshService", "name": "backend"},
       "conf": {"connectionTimeout": "5s", "idleTimeout": "1h",
                "http": {"requestTimeout": "3s"}}},
      {"targetRef": {"kind": "MeshService", "name": "db"},
       "conf": {"connectionTimeout": "5s", "idleTimeout": "1h"}}
    ],
    "from": [
      {"inbound": "http", "targetRef": {"kind": "Mesh"}, "conf": {"connectionTimeout": "10s"}},
      {"inbound": "9090", "targetRef": {"kind": "Mesh"}, "conf": {"connectionTimeout": "10s"}}
    ]
  },
  "MeshTrace": {
    "matched": ["trace"],
    "default": {"backends": [{"type": "Zipkin",
                              "zipkin": {"url": "http://zipkin:9411/api/v2/spans"}}],
                "sampling": {"overall": 50}}
  },
  "MeshTrafficPermission": {
    "matched": ["mtp"],
    "rules": [{"inbound": "http", "conf": {"allow": [
      {"spiffeID": {"type": "Prefix", "value": "spiffe://default/"}}]}}]
  }})";
  // Compared as text so that the order of keys (types sorted by name) is checked too.
  EXPECT_EQ(actual.dump(2), Json::parse(expected).dump(2));
}

}  // namespace
}  // namespace braid::policy_matching
