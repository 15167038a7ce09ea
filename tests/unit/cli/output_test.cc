#include "cli/output.h"

#include <gtest/gtest.h>

#include "cli/inspect.h"
#include "common/yaml_json.h"
#include "control-plane/resources/registry.h"
#include "support/golden.h"

namespace braid::cli {
namespace {

using braid::testing::compareGolden;
using braid::testing::sourceDir;
using std::chrono::seconds;

std::filesystem::path golden(const char* name) { return sourceDir() / "tests/golden/cli" / name; }

TimePoint at(const char* rfc3339) {
  auto t = parseRfc3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(TimePoint{});
}

TEST(Age, KubectlShortUnitsRoundedDown) {
  EXPECT_EQ(formatAge(seconds(0)), "0s");
  EXPECT_EQ(formatAge(seconds(5)), "5s");
  EXPECT_EQ(formatAge(seconds(59)), "59s");
  EXPECT_EQ(formatAge(seconds(60)), "1m");
  EXPECT_EQ(formatAge(seconds(3 * 60 + 59)), "3m");
  EXPECT_EQ(formatAge(seconds(3599)), "59m");
  EXPECT_EQ(formatAge(seconds(2 * 3600)), "2h");
  EXPECT_EQ(formatAge(seconds(86399)), "23h");
  EXPECT_EQ(formatAge(seconds(4 * 86400 + 3600)), "4d");
  EXPECT_EQ(formatAge(seconds(364 * 86400)), "364d");
  EXPECT_EQ(formatAge(seconds(2 * 365 * 86400)), "2y");
  EXPECT_EQ(formatAge(seconds(-3)), "0s");  // the CLI's clock behind the CP's
}

TEST(Age, SinceTimestamp) {
  TimePoint now = at("2026-11-21T21:38:41.123Z");
  EXPECT_EQ(formatAgeSince("2026-11-21T21:38:36.123Z", now), "5s");
  EXPECT_EQ(formatAgeSince("2026-11-21T21:35:41Z", now), "3m");
  EXPECT_EQ(formatAgeSince("2026-11-17T21:38:41.123Z", now), "4d");
  EXPECT_EQ(formatAgeSince("2026-11-21T23:38:41.123+02:00", now), "0s");
  EXPECT_EQ(formatAgeSince("2026-11-21T19:40:41.123-01:00", now), "58m");
  EXPECT_EQ(formatAgeSince(nullptr, now), "-");
  EXPECT_EQ(formatAgeSince("yesterday", now), "-");
}

TEST(Rfc3339, ParsesAndRejects) {
  auto epoch = parseRfc3339("1970-01-01T00:00:00Z");
  ASSERT_TRUE(epoch);
  EXPECT_EQ(epoch->time_since_epoch().count(), 0);
  auto frac = parseRfc3339("1970-01-01T00:00:01.5Z");
  ASSERT_TRUE(frac);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(frac->time_since_epoch()).count(),
            1500);
  for (const char* bad : {"", "1970-01-01", "1970-01-01T00:00:00", "1970-13-01T00:00:00Z",
                          "1970-02-30T00:00:00Z", "1970-01-01T24:00:00Z", "1970-01-01T00:00:00.Z",
                          "1970-01-01T00:00:00Zjunk", "1970-01-01T00:00:00+0100"}) {
    EXPECT_FALSE(parseRfc3339(bad)) << bad;
  }
}

TEST(Summaries, TargetRefs) {
  auto ref = [](const char* json) { return targetRefSummary(Json::parse(json)); };
  EXPECT_EQ(ref(R"({"kind":"Mesh"})"), "Mesh");
  EXPECT_EQ(ref(R"({"kind":"MeshService","name":"backend"})"), "MeshService/backend");
  EXPECT_EQ(ref(R"({"kind":"MeshSubset","tags":{"version":"v2","braid.io/zone":"z"}})"),
            "MeshSubset{braid.io/zone=z,version=v2}");
  EXPECT_EQ(ref(R"({"kind":"MeshServiceSubset","name":"b","tags":{"version":"v1"}})"),
            "MeshServiceSubset/b{version=v1}");
  EXPECT_EQ(ref(R"({"kind":"Dataplane","labels":{"app":"x"},"sectionName":"http"})"),
            "Dataplane{app=x}:http");
  EXPECT_EQ(targetRefSummary(nullptr), "Mesh");
}

TEST(Summaries, DataplaneTagsSortedAndMergedAcrossInbounds) {
  Json dp = Json::parse(R"({"networking":{"inbound":[
      {"port":1,"tags":{"braid.io/service":"backend","version":"v1"}},
      {"port":2,"tags":{"braid.io/service":"admin","version":"v1"}}]}})");
  EXPECT_EQ(tagsSummary(dp), "braid.io/service=admin,backend version=v1");
  EXPECT_EQ(tagsSummary(Json::object()), "");
}

// Documents as the API returns them (stored metadata included).
Json storedItems(const char* yaml) {
  Json items = Json::array();
  for (auto& doc : parseYaml(yaml).documents) items.push_back(doc);
  return items;
}

TEST(ResourceTable, Golden) {
  TimePoint now = at("2026-11-21T12:00:00Z");
  Json policies = storedItems(R"(
type: MeshTimeout
mesh: default
name: backend-timeout
creationTime: "2026-11-21T11:59:55Z"
spec: {targetRef: {kind: MeshService, name: backend}, to: [{targetRef: {kind: Mesh}, default: {}}]}
---
type: MeshTimeout
mesh: other-mesh
name: t
creationTime: "2026-11-17T10:00:00Z"
spec: {to: [{targetRef: {kind: Mesh}, default: {}}]}
)");
  Json dataplanes = storedItems(R"(
type: Dataplane
mesh: default
name: backend-1
creationTime: "2026-11-21T09:30:00.250Z"
networking:
  address: 127.0.0.1
  inbound:
  - {port: 10011, servicePort: 9011, tags: {braid.io/service: backend, braid.io/protocol: http, version: v1}}
)");
  Json meshes = storedItems(R"(
type: Mesh
name: default
creationTime: "2026-11-21T11:57:00Z"
mtls: {enabledBackend: ca-1, backends: [{name: ca-1, type: builtin}]}
---
type: Mesh
name: plain
)");
  Json ingresses = storedItems(R"(
type: ZoneIngress
name: ingress-1
creationTime: "2026-11-21T11:00:00Z"
networking: {address: 127.0.0.1, port: 10001, advertisedAddress: 10.0.0.1, advertisedPort: 10001}
)");
  std::string out;
  out += "$ get meshtimeouts\n" + resourceTable(*findTypeByName("MeshTimeout"), policies, now);
  out += "$ get dataplanes\n" + resourceTable(*findTypeByName("Dataplane"), dataplanes, now);
  out += "$ get meshes\n" + resourceTable(*findTypeByName("Mesh"), meshes, now);
  out += "$ get zoneingresses\n" + resourceTable(*findTypeByName("ZoneIngress"), ingresses, now);
  auto diff = compareGolden(golden("resource-tables.golden"), out);
  EXPECT_TRUE(diff.empty()) << diff;
}

TEST(DataplaneOverviewTable, Golden) {
  Json items = Json::parse(R"([
    {"type":"DataplaneOverview","mesh":"default","name":"backend-1",
     "dataplane":{"networking":{"address":"127.0.0.1","inbound":[{"port":1,"servicePort":2,
       "tags":{"braid.io/service":"backend","version":"v1"}}]}},
     "dataplaneInsight":{"online":true,"connectedSince":"2026-11-21T11:00:00Z",
       "configVersionSent":"7","configVersionAcked":"7","lastRejection":null,
       "certificateExpiry":"2026-11-22T11:00:00Z","subscriptions":[]}},
    {"type":"DataplaneOverview","mesh":"default","name":"web-1",
     "dataplane":{"networking":{"address":"127.0.0.1","inbound":[{"port":3,"servicePort":4,
       "tags":{"braid.io/service":"web"}}]}},
     "dataplaneInsight":{"online":false,"connectedSince":null,"configVersionSent":null,
       "configVersionAcked":null,"lastRejection":null,"certificateExpiry":null,
       "subscriptions":[]}}])");
  auto diff = compareGolden(golden("inspect-dataplanes.golden"), dataplaneOverviewTable(items));
  EXPECT_TRUE(diff.empty()) << diff;
}

TEST(YamlDocuments, SeparatedAndReparsable) {
  Json items = storedItems("type: Mesh\nname: a\nversion: 3\n---\ntype: Mesh\nname: b\n");
  std::string yaml = yamlDocuments(items);
  // The store's version is left out, so the output applies on any control plane.
  EXPECT_EQ(yaml, "type: Mesh\nname: a\n---\ntype: Mesh\nname: b\n");
  EXPECT_EQ(parseYaml(yaml).documents.size(), 2u);
  EXPECT_EQ(yamlDocuments(Json::array()), "");
}

TEST(OutputFormat, Parses) {
  EXPECT_EQ(parseOutputFormat("table"), OutputFormat::kTable);
  EXPECT_EQ(parseOutputFormat("yaml"), OutputFormat::kYaml);
  EXPECT_EQ(parseOutputFormat("json"), OutputFormat::kJson);
  EXPECT_FALSE(parseOutputFormat("xml"));
}

}  // namespace
}  // namespace braid::cli
