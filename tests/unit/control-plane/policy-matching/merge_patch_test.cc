// JSON merge patch (RFC 7386) and the per-type conf merging built on it.
#include "control-plane/policy-matching/merge_patch.h"

#include <gtest/gtest.h>

#include "control-plane/policy-matching/conf_merge.h"

namespace braid::policy_matching {
namespace {

struct PatchCase {
  const char* target;
  const char* patch;
  const char* expected;
};

// RFC 7386 appendix A, plus the nested cases policy defaults rely on.
const PatchCase kPatchCases[] = {
    {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
    {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
    {R"({"a":"b"})", R"({"a":null})", R"({})"},
    {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
    {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
    {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
    {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
    {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
    {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
    {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
    {R"({"a":"foo"})", R"(null)", R"(null)"},
    {R"({"a":"foo"})", R"("bar")", R"("bar")"},
    {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
    {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
    {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
    // Nested objects merge key by key at every depth.
    {R"({"http":{"requestTimeout":"1s","streamIdleTimeout":"1m"},"idleTimeout":"1h"})",
     R"({"http":{"requestTimeout":"2s"}})",
     R"({"http":{"requestTimeout":"2s","streamIdleTimeout":"1m"},"idleTimeout":"1h"})"},
    // Arrays are replaced whole, never merged item by item.
    {R"({"retryOn":["5xx","Reset"],"numRetries":3})", R"({"retryOn":["ConnectFailure"]})",
     R"({"retryOn":["ConnectFailure"],"numRetries":3})"},
    // Deleting a nested key keeps its siblings; deleting a missing key is a no-op.
    {R"({"http":{"requestTimeout":"1s","maxStreamDuration":"5s"}})",
     R"({"http":{"requestTimeout":null},"missing":null})",
     R"({"http":{"maxStreamDuration":"5s"}})"},
};

TEST(MergePatch, FollowsRfc7386) {
  for (const PatchCase& c : kPatchCases) {
    Json result = mergePatch(Json::parse(c.target), Json::parse(c.patch));
    EXPECT_EQ(result, Json::parse(c.expected))
        << c.target << " + " << c.patch << " gave " << result.dump();
  }
}

TEST(MergePatch, KeepsTargetKeyOrder) {
  Json result = mergePatch(Json::parse(R"({"b":1,"a":2})"), Json::parse(R"({"c":3,"b":4})"));
  EXPECT_EQ(result.dump(), R"({"b":4,"a":2,"c":3})");
}

struct ConfCase {
  const char* type;
  std::vector<const char*> confs;  // merged in order
  const char* expected;
};

const ConfCase kConfCases[] = {
    // Permission lists are appended for MeshTrafficPermission only.
    {"MeshTrafficPermission",
     {R"({"allow":[{"spiffeID":{"type":"Exact","value":"spiffe://a/x"}}]})",
      R"({"allow":[{"spiffeID":{"type":"Prefix","value":"spiffe://a/"}}],"deny":[{"sni":{"type":"Exact","value":"b.mesh"}}]})",
      R"({"allowWithShadowDeny":[{"sni":{"type":"Exact","value":"c.mesh"}}]})"},
     R"({"allow":[{"spiffeID":{"type":"Exact","value":"spiffe://a/x"}},{"spiffeID":{"type":"Prefix","value":"spiffe://a/"}}],
         "deny":[{"sni":{"type":"Exact","value":"b.mesh"}}],
         "allowWithShadowDeny":[{"sni":{"type":"Exact","value":"c.mesh"}}]})"},
    // …where null still deletes a list and other fields merge as patches.
    {"MeshTrafficPermission",
     {R"({"allow":[1],"deny":[2],"action":"Allow"})", R"({"deny":null,"action":"Deny"})"},
     R"({"allow":[1],"action":"Deny"})"},
    {"MeshAccessLog", {R"({"allow":[1]})", R"({"allow":[2]})"}, R"({"allow":[2]})"},
    // Route rules merge by matches: equal matches patch the earlier rule, others append.
    {"MeshHTTPRoute",
     {R"({"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/v1"}}],"default":{"backendRefs":[{"kind":"MeshService","name":"a"}],"filters":[{"type":"RequestHeaderModifier"}]}}]})",
      R"({"rules":[{"matches":[{"path":{"type":"Exact","value":"/x"}}],"default":{"backendRefs":[{"kind":"MeshService","name":"x"}]}},
                   {"matches":[{"path":{"type":"PathPrefix","value":"/v1"}}],"default":{"backendRefs":[{"kind":"MeshService","name":"b"}]}}]})"},
     R"({"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/v1"}}],"default":{"backendRefs":[{"kind":"MeshService","name":"b"}],"filters":[{"type":"RequestHeaderModifier"}]}},
                  {"matches":[{"path":{"type":"Exact","value":"/x"}}],"default":{"backendRefs":[{"kind":"MeshService","name":"x"}]}}]})"},
    // A TCP route has one rule without matches: the later backendRefs replace the earlier.
    {"MeshTCPRoute",
     {R"({"rules":[{"default":{"backendRefs":[{"kind":"MeshService","name":"a"}]}}]})",
      R"({"rules":[{"default":{"backendRefs":[{"kind":"MeshService","name":"b","weight":2}]}}]})"},
     R"({"rules":[{"default":{"backendRefs":[{"kind":"MeshService","name":"b","weight":2}]}}]})"},
};

TEST(ConfMerge, MergesPerPolicyTypeStyle) {
  for (const ConfCase& c : kConfCases) {
    Json acc = Json::object();
    for (const char* conf : c.confs) mergeConf(acc, Json::parse(conf), mergeStyleFor(c.type));
    EXPECT_EQ(acc, Json::parse(c.expected)) << c.type << ": " << acc.dump();
  }
}

TEST(ConfMerge, MergeRankedSortsStablyByRank) {
  Json meshA = Json::parse(R"({"a":"mesh-a","b":"mesh-a","c":"mesh-a"})");
  Json service = Json::parse(R"({"a":"service"})");
  Json meshB = Json::parse(R"({"a":"mesh-b","b":"mesh-b"})");
  // Given in policy order: the service entry comes from the first policy, yet it is applied last.
  Json merged = mergeRanked({{0, &meshA}, {2, &service}, {0, &meshB}}, MergeStyle::kPatch);
  EXPECT_EQ(merged, Json::parse(R"({"a":"service","b":"mesh-b","c":"mesh-a"})"));
  EXPECT_EQ(mergeRanked({}, MergeStyle::kPatch), Json::object());
}

}  // namespace
}  // namespace braid::policy_matching
