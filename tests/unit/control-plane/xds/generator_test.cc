// The generator is a pure function; these tests pin its output with golden files
// (tests/golden/xds/<case>.input.yaml → <case>.golden.json; BRAID_UPDATE_GOLDEN=1 rewrites).
#include "control-plane/xds/generator.h"

#include <gtest/gtest.h>

#include "common/yaml_json.h"
#include "control-plane/resources/resource.h"
#include "support/golden.h"

namespace braid::xds {
namespace {

struct Mesh {
  std::string proxy;                       // the first document's name
  std::map<std::string, Json> dataplanes;  // name → stored content
  std::vector<policy_matching::PolicyInput> policies;
  MeshSecurity security;  // from a Mesh document, with a stand-in "ROOT(<backend>)" per backend
};

Mesh loadMesh(const std::filesystem::path& file) {
  auto yaml = parseYaml(testing::readFile(file));
  EXPECT_EQ(yaml.error, "") << file;
  Mesh mesh;
  for (const auto& doc : yaml.documents) {
    ParsedResource parsed = parseResource(doc);
    EXPECT_TRUE(parsed.errors.empty()) << file << ": " << parsed.errors.toString();
    if (!parsed.resource) continue;
    const Resource& r = *parsed.resource;
    if (r.type->name == "Mesh") {
      mesh.security = meshSecurityOf(r.content);
      if (r.content.contains("mtls") && r.content.at("mtls").contains("backends")) {
        for (const auto& backend : r.content.at("mtls").at("backends")) {
          mesh.security.trustedRootsPem.push_back("ROOT(" + backend.at("name").get<std::string>() +
                                                  ")");
        }
      }
      continue;
    }
    if (r.type->name != "Dataplane") {
      mesh.policies.push_back({r.type->name, r.name, r.body()});
      continue;
    }
    if (mesh.proxy.empty()) mesh.proxy = r.name;
    mesh.dataplanes[r.name] = r.content;
  }
  return mesh;
}

proxy::v1::ProxyConfig generate(const Mesh& mesh) {
  MeshView view("default", mesh.dataplanes);
  return generateProxyConfig({mesh.proxy, &mesh.dataplanes.at(mesh.proxy), &view, &mesh.policies,
                              nullptr, &mesh.security});
}

TEST(GeneratorGolden, EveryCaseMatchesItsGoldenFile) {
  auto dir = testing::sourceDir() / "tests/golden/xds";
  auto inputs = testing::filesIn(dir, ".yaml");
  ASSERT_GE(inputs.size(), 3u);
  for (const auto& input : inputs) {
    std::string name = input.filename().string();
    name = name.substr(0, name.find(".input.yaml"));
    Mesh mesh = loadMesh(input);
    auto config = generate(mesh);
    std::string actual =
        "{\"version\":\"" + configVersion(config) + "\",\"config\":" + configToJson(config) + "}\n";
    EXPECT_EQ(testing::compareGolden(dir / (name + ".golden.json"), actual), "") << name;
  }
}

TEST(Generator, SameInputsGiveTheSameVersion) {
  Mesh mesh = loadMesh(testing::sourceDir() / "tests/golden/xds/two-services.input.yaml");
  EXPECT_EQ(configVersion(generate(mesh)), configVersion(generate(mesh)));
}

TEST(Generator, AnUnrelatedDataplaneDoesNotChangeTheVersion) {
  Mesh mesh = loadMesh(testing::sourceDir() / "tests/golden/xds/two-services.input.yaml");
  std::string before = configVersion(generate(mesh));
  mesh.dataplanes["other"] = Json::parse(R"({"networking":{"address":"10.9.9.9",
      "inbound":[{"port":1,"tags":{"braid.io/service":"unrelated"}}]}})");
  EXPECT_EQ(configVersion(generate(mesh)), before);
}

TEST(Generator, ANewBackendInstanceChangesTheVersionAndAddsAnEndpoint) {
  Mesh mesh = loadMesh(testing::sourceDir() / "tests/golden/xds/two-services.input.yaml");
  std::string before = configVersion(generate(mesh));
  mesh.dataplanes["backend-3"] = Json::parse(R"({"networking":{"address":"10.0.0.3",
      "inbound":[{"port":10013,"tags":{"braid.io/service":"backend"}}]}})");
  auto config = generate(mesh);
  EXPECT_NE(configVersion(config), before);
  const auto& cluster = config.clusters(1);
  ASSERT_EQ(cluster.name(), "backend");
  ASSERT_EQ(cluster.endpoints_size(), 3);
  EXPECT_EQ(cluster.endpoints(2).address().address(), "10.0.0.3");
  EXPECT_EQ(cluster.endpoints(2).origin(), "default/backend-3");
}

TEST(Generator, MeshTimeoutSetsTheConnectTimeoutPerService) {
  Mesh mesh = loadMesh(testing::sourceDir() / "tests/golden/xds/mesh-timeout.input.yaml");
  auto config = generate(mesh);
  ASSERT_EQ(config.clusters_size(), 3);
  EXPECT_EQ(config.clusters(1).name(), "backend");
  EXPECT_EQ(config.clusters(1).connect_timeout_ms(), 250u);
  EXPECT_EQ(config.clusters(2).name(), "db");
  EXPECT_EQ(config.clusters(2).connect_timeout_ms(), 10000u);
  mesh.policies.clear();
  EXPECT_EQ(generate(mesh).clusters(1).connect_timeout_ms(), 5000u);
}

TEST(Generator, ThePerPassCacheChangesNothing) {
  Mesh mesh = loadMesh(testing::sourceDir() / "tests/golden/xds/mesh-timeout.input.yaml");
  mesh.dataplanes["web-2"] = mesh.dataplanes.at("web-1");
  MeshView view("default", mesh.dataplanes);
  OutboundCache cache;
  for (const char* name : {"web-1", "web-2"}) {
    auto uncached = generateProxyConfig({name, &mesh.dataplanes.at(name), &view, &mesh.policies});
    auto cached =
        generateProxyConfig({name, &mesh.dataplanes.at(name), &view, &mesh.policies, &cache});
    EXPECT_EQ(configToJson(cached), configToJson(uncached)) << name;
  }
  EXPECT_EQ(cache.byCluster.size(), 2u);  // backend and db, built once for both proxies
}

TEST(Generator, OutboundClusterNamesSortExtraTags) {
  EXPECT_EQ(outboundClusterName({{"braid.io/service", "backend"}}), "backend");
  EXPECT_EQ(
      outboundClusterName({{"version", "v2"}, {"braid.io/service", "backend"}, {"region", "eu"}}),
      "backend{region=eu,version=v2}");
}

TEST(Generator, EndpointsWithDnsNamesAreLeftOut) {
  Mesh mesh = loadMesh(testing::sourceDir() / "tests/golden/xds/two-services.input.yaml");
  mesh.dataplanes["backend-dns"] = Json::parse(R"({"networking":{"address":"backend.example",
      "inbound":[{"port":10013,"tags":{"braid.io/service":"backend"}}]}})");
  auto config = generate(mesh);
  EXPECT_EQ(config.clusters(1).endpoints_size(), 2);
}

}  // namespace
}  // namespace braid::xds
