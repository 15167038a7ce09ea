#include "cli/resource_ref.h"

#include <gtest/gtest.h>

#include "cli/api_client.h"
#include "cli/cli_error.h"
#include "control-plane/resources/registry.h"

namespace braid::cli {
namespace {

const ResourceType& type(const char* name) {
  const ResourceType* t = findTypeByName(name);
  EXPECT_NE(t, nullptr) << name;
  return *t;
}

TEST(ResourcePath, GlobalTypes) {
  EXPECT_EQ(resourcePath(type("Mesh"), "", "default"), "/meshes/default");
  EXPECT_EQ(resourcePath(type("ZoneIngress"), "", "ingress-1"), "/zoneingresses/ingress-1");
  EXPECT_EQ(resourcePath(type("ZoneEgress"), "", "egress-1"), "/zoneegresses/egress-1");
  EXPECT_EQ(collectionPath(type("Mesh"), ""), "/meshes");
}

TEST(ResourcePath, MeshScopedTypes) {
  EXPECT_EQ(resourcePath(type("MeshTimeout"), "default", "t1"), "/meshes/default/meshtimeouts/t1");
  EXPECT_EQ(resourcePath(type("Dataplane"), "m", "backend-1"), "/meshes/m/dataplanes/backend-1");
  EXPECT_EQ(resourcePath(type("ExternalService"), "m", "httpbin"),
            "/meshes/m/external-services/httpbin");
  EXPECT_EQ(collectionPath(type("MeshTimeout"), "default"), "/meshes/default/meshtimeouts");
}

TEST(ResourcePath, EveryRegisteredTypeFollowsItsScope) {
  for (const auto* t : allResourceTypes()) {
    std::string path = resourcePath(*t, "m", "n");
    if (t->scope == Scope::kGlobal) {
      EXPECT_EQ(path, "/" + t->plural + "/n");
    } else {
      EXPECT_EQ(path, "/meshes/m/" + t->plural + "/n");
    }
  }
}

TEST(ResourcePath, SegmentsArePercentEncoded) {
  EXPECT_EQ(pathSegment("a b/c?d%"), "a%20b%2Fc%3Fd%25");
  EXPECT_EQ(resourcePath(type("MeshTimeout"), "my mesh", "x/y"),
            "/meshes/my%20mesh/meshtimeouts/x%2Fy");
  EXPECT_EQ(pathSegment("ok-name_1.2~"), "ok-name_1.2~");
}

TEST(Describe, ResourcesAndDocuments) {
  EXPECT_EQ(describeResource(type("MeshTimeout"), "default", "t1"),
            "MeshTimeout \"t1\" in mesh \"default\"");
  EXPECT_EQ(describeResource(type("Mesh"), "ignored", "default"), "Mesh \"default\"");
  EXPECT_EQ(notFoundMessage(type("MeshTimeout"), "default", "t1"),
            "MeshTimeout \"t1\" not found in mesh \"default\"");
  EXPECT_EQ(notFoundMessage(type("Mesh"), "", "m"), "Mesh \"m\" not found");
  EXPECT_EQ(describeDocument(Json::parse(R"({"type":"MeshTimeout","name":"t1","mesh":"d"})")),
            "MeshTimeout \"t1\" in mesh \"d\"");
  EXPECT_EQ(describeDocument(Json::parse(R"({"type":"Mesh","name":"x","mesh":"d"})")),
            "Mesh \"x\"");
  EXPECT_EQ(describeDocument(Json::parse(R"({"type":"Nope","name":7})")), "Nope");
  EXPECT_EQ(describeDocument(Json::parse(R"({"name":"x"})")), "\"x\"");
  EXPECT_EQ(describeDocument(Json::parse("[1]")), "");
}

TEST(TypeWords, PluralAndSingular) {
  EXPECT_EQ(&resolveTypeWord("meshtimeouts"), &type("MeshTimeout"));
  EXPECT_EQ(&resolveTypeWord("meshtimeout"), &type("MeshTimeout"));
  EXPECT_EQ(&resolveTypeWord("meshes"), &type("Mesh"));
  try {
    resolveTypeWord("meshtimeoutz");
    FAIL() << "accepted";
  } catch (const CliError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown resource type \"meshtimeoutz\": use one of "),
              std::string::npos);
    EXPECT_NE(std::string(e.what()).find("meshtimeouts"), std::string::npos);
  }
}

TEST(MeshFor, DefaultsAndGlobalTypes) {
  EXPECT_EQ(meshFor(type("MeshTimeout"), std::nullopt), "default");
  EXPECT_EQ(meshFor(type("MeshTimeout"), "other"), "other");
  EXPECT_EQ(meshFor(type("Mesh"), std::nullopt), "");
  EXPECT_THROW(meshFor(type("Mesh"), "default"), CliError);
  EXPECT_THROW(meshFor(type("MeshTimeout"), ""), CliError);
}

}  // namespace
}  // namespace braid::cli

namespace braid::cli {
namespace {

TEST(RelativeTarget, KeepsOnlyPathAndQueryOfNextLinks) {
  EXPECT_EQ(relativeTarget("http://cp.example.com:5681/meshes?offset=100&size=100"),
            "/meshes?offset=100&size=100");
  EXPECT_EQ(relativeTarget("http://evil.example.com/x"), "/x");
  EXPECT_EQ(relativeTarget("/meshes?offset=2"), "/meshes?offset=2");
  EXPECT_EQ(relativeTarget(""), "");
  EXPECT_THROW(relativeTarget("@evil.example.com/x"), CliError);
}

}  // namespace
}  // namespace braid::cli
