// The REST API handler against a real in-memory store, without sockets.
#include "control-plane/api/api_handler.h"

#include <gtest/gtest.h>

#include <set>

#include "common/json.h"
#include "common/yaml_json.h"
#include "control-plane/resources/registry.h"
#include "support/golden.h"

namespace braid::api {
namespace {

class ApiHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override { reset({}); }

  void reset(ApiOptions options) {
    options.auth.adminToken = "0123456789abcdef0123456789abcdef";
    store_ = store::openStore("memory").store;
    ASSERT_TRUE(store_);
    handler_ = std::make_unique<ApiHandler>(*store_, insights_, options);
  }

  http::Response call(const std::string& method, const std::string& target,
                      const std::string& body = "", bool loopback = true,
                      http::Headers headers = {}) {
    http::Request r;
    r.method = method;
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? "" : target.substr(q + 1);
    r.body = body;
    r.fromLoopback = loopback;
    r.remoteAddress = loopback ? "127.0.0.1" : "10.0.0.7";
    headers.push_back({"host", "127.0.0.1:5681"});
    r.headers = headers;
    return handler_->handle(r);
  }

  Json json(const http::Response& r) { return Json::parse(r.body); }

  void putMesh(const std::string& name) {
    auto r = call("PUT", "/meshes/" + name, R"({"type":"Mesh","name":")" + name + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
  }

  std::unique_ptr<store::Store> store_;
  DataplaneInsights insights_;
  std::unique_ptr<ApiHandler> handler_;
};

const char* kPermission = R"({
  "type": "MeshTrafficPermission", "mesh": "default", "name": "allow-web",
  "spec": {"targetRef": {"kind": "MeshService", "name": "backend"},
           "from": [{"targetRef": {"kind": "MeshSubset", "tags": {"braid.io/service": "web"}},
                     "default": {"action": "Allow"}}]}})";

const char* kDataplane = R"({
  "type": "Dataplane", "mesh": "default", "name": "backend-1",
  "networking": {"address": "127.0.0.1",
                 "inbound": [{"port": 10011, "servicePort": 9011,
                              "tags": {"braid.io/service": "backend"}}]}})";

TEST_F(ApiHandlerTest, IndexDescribesTheProduct) {
  auto r = call("GET", "/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json(r)["product"], "braid");
  EXPECT_EQ(json(r)["mode"], "standalone");
  EXPECT_EQ(call("GET", "/ready").status, 200);
}

TEST_F(ApiHandlerTest, PutCreatesThenUpdatesAndIdenticalPutIsANoOp) {
  putMesh("default");
  auto got = call("GET", "/meshes/default");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(json(got)["version"], 1);
  EXPECT_EQ(json(got)["type"], "Mesh");
  EXPECT_FALSE(json(got)["creationTime"].get<std::string>().empty());

  auto again = call("PUT", "/meshes/default", got.body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(json(again)["version"], 1);
  EXPECT_EQ(json(again)["changed"], false);

  auto changed = call("PUT", "/meshes/default", R"({"labels":{"team":"a"}})");
  ASSERT_EQ(changed.status, 200) << changed.body;
  EXPECT_EQ(json(changed)["version"], 2);
  EXPECT_EQ(json(changed)["changed"], true);

  // GET and list bodies are spliced together as text: byte for byte what PUT answered.
  Json stored = json(changed);
  stored.erase("changed");
  EXPECT_EQ(call("GET", "/meshes/default").body, stored.dump());
  EXPECT_EQ(json(call("GET", "/meshes"))["items"][0].dump(), stored.dump());
}

TEST_F(ApiHandlerTest, InvalidResourceListsEveryField) {
  auto r = call(
      "PUT", "/meshes/default",
      R"({"mtls":{"enabledBackend":"x","backends":[{"name":"ca","type":"vault"}]},"colour":1})");
  ASSERT_EQ(r.status, 400);
  Json body = json(r);
  EXPECT_EQ(body["title"], "Invalid resource");
  std::set<std::string> fields;
  for (const auto& p : body["invalid_parameters"]) fields.insert(p["field"].get<std::string>());
  EXPECT_EQ(fields,
            (std::set<std::string>{"colour", "mtls.backends[0].type", "mtls.enabledBackend"}));
}

TEST_F(ApiHandlerTest, BodyMustAgreeWithPathAndBeJson) {
  auto r = call("PUT", "/meshes/default", R"({"type":"Mesh","name":"other"})");
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(json(r)["invalid_parameters"][0]["field"], "name");
  EXPECT_EQ(call("PUT", "/meshes/default", "{not json").status, 400);
}

TEST_F(ApiHandlerTest, MeshScopedResourcesNeedTheirMesh) {
  auto r = call("PUT", "/meshes/default/meshtrafficpermissions/allow-web", kPermission);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json(r)["invalid_parameters"][0]["field"], "mesh");
  putMesh("default");
  r = call("PUT", "/meshes/default/meshtrafficpermissions/allow-web", kPermission);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(call("GET", "/meshes/default/meshtrafficpermissions/allow-web").status, 200);
  EXPECT_EQ(json(call("GET", "/meshtrafficpermissions"))["total"], 1);
}

TEST_F(ApiHandlerTest, ListsArePagedWithNextLinks) {
  for (int i = 0; i < 5; ++i) putMesh("m" + std::to_string(i));
  auto page = json(call("GET", "/meshes?size=2"));
  EXPECT_EQ(page["total"], 5);
  ASSERT_EQ(page["items"].size(), 2u);
  EXPECT_EQ(page["items"][0]["name"], "m0");
  EXPECT_EQ(page["next"], "http://127.0.0.1:5681/meshes?offset=2&size=2");
  auto last = json(call("GET", "/meshes?offset=4&size=2"));
  ASSERT_EQ(last["items"].size(), 1u);
  EXPECT_EQ(last["items"][0]["name"], "m4");
  EXPECT_TRUE(last["next"].is_null());

  auto bad = call("GET", "/meshes?size=0&offset=-1");
  ASSERT_EQ(bad.status, 400);
  EXPECT_EQ(json(bad)["invalid_parameters"].size(), 2u);
}

TEST_F(ApiHandlerTest, StaleVersionIsAConflict) {
  putMesh("default");
  auto r = call("PUT", "/meshes/default", R"({"version":1,"labels":{"a":"b"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = call("PUT", "/meshes/default", R"({"version":1,"labels":{"a":"c"}})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(json(r)["title"], "Conflict");
}

TEST_F(ApiHandlerTest, DeleteAndNotFound) {
  EXPECT_EQ(call("GET", "/meshes/absent").status, 404);
  EXPECT_EQ(call("DELETE", "/meshes/absent").status, 404);
  EXPECT_EQ(call("GET", "/nothing-here").status, 404);
  EXPECT_EQ(call("GET", "/meshes/default/notatype").status, 404);
  putMesh("default");
  ASSERT_EQ(call("PUT", "/meshes/default/meshtrafficpermissions/allow-web", kPermission).status,
            201);
  // Secrets kept under internal types: a CA root and a token signing key.
  ASSERT_FALSE(
      store_->put({"MeshCaRoot", "default", "ca-builtin-cert-ca-1"}, "{}", std::nullopt).error);
  ASSERT_FALSE(store_
                   ->put({"DataplaneTokenSigningKey", "default", "dataplane-token-signing-key-1"},
                         "{}", std::nullopt)
                   .error);
  EXPECT_EQ(call("DELETE", "/meshes/default").status, 200);
  EXPECT_EQ(call("GET", "/meshes/default").status, 404);
  // The mesh's resources went with it, and so did its secrets: a mesh re-created under this name
  // starts with a new CA.
  EXPECT_EQ(json(call("GET", "/meshtrafficpermissions"))["total"], 0);
  EXPECT_FALSE(store_->get({"MeshCaRoot", "default", "ca-builtin-cert-ca-1"}).record);
  EXPECT_FALSE(
      store_->get({"DataplaneTokenSigningKey", "default", "dataplane-token-signing-key-1"}).record);
}

TEST_F(ApiHandlerTest, RemoteRequestsNeedTheAdminToken) {
  EXPECT_EQ(call("GET", "/meshes", "", false).status, 401);
  EXPECT_EQ(call("GET", "/meshes", "", false, {{"authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(call("GET", "/meshes", "", false,
                 {{"authorization", "Bearer 0123456789abcdef0123456789abcdef"}})
                .status,
            200);
  ApiOptions strict;
  strict.auth.loopbackIsAdmin = false;
  reset(strict);
  EXPECT_EQ(call("GET", "/meshes").status, 401);
}

TEST_F(ApiHandlerTest, ZoneModeRefusesGlobalResources) {
  ApiOptions zone;
  zone.mode = "zone";
  zone.zone = "east";
  reset(zone);
  auto r = call("PUT", "/meshes/default", R"({"type":"Mesh","name":"default"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(json(call("GET", "/"))["zone"], "east");
}

TEST_F(ApiHandlerTest, ZonesAreReadOnly) {
  EXPECT_EQ(call("PUT", "/zones/east", R"({"type":"Zone","name":"east"})").status, 405);
  EXPECT_EQ(call("GET", "/zones").status, 200);
}

TEST_F(ApiHandlerTest, OverviewShowsAnOfflineDataplane) {
  putMesh("default");
  ASSERT_EQ(call("PUT", "/meshes/default/dataplanes/backend-1", kDataplane).status, 201);
  auto r = call("GET", "/meshes/default/dataplanes/backend-1/_overview");
  ASSERT_EQ(r.status, 200) << r.body;
  Json o = json(r);
  EXPECT_EQ(o["type"], "DataplaneOverview");
  EXPECT_EQ(o["dataplane"]["networking"]["address"], "127.0.0.1");
  EXPECT_EQ(o["dataplaneInsight"]["online"], false);
  EXPECT_TRUE(o["dataplaneInsight"].contains("configVersionAcked"));
  auto list = json(call("GET", "/meshes/default/dataplanes/_overview"));
  EXPECT_EQ(list["total"], 1);
  EXPECT_EQ(list["items"][0]["name"], "backend-1");
}

TEST_F(ApiHandlerTest, PoliciesShowWhatMatchedTheDataplane) {
  putMesh("default");
  ASSERT_EQ(call("PUT", "/meshes/default/dataplanes/backend-1", kDataplane).status, 201);
  ASSERT_EQ(call("PUT", "/meshes/default/meshtrafficpermissions/allow-web", kPermission).status,
            201);
  auto other = std::string(kPermission);
  other.replace(other.find("allow-web"), 9, "only-other");
  other.replace(other.find("\"backend\""), 9, "\"other\"");
  ASSERT_EQ(call("PUT", "/meshes/default/meshtrafficpermissions/only-other", other).status, 201);

  auto r = call("GET", "/meshes/default/dataplanes/backend-1/_policies");
  ASSERT_EQ(r.status, 200) << r.body;
  Json mtp = json(r)["policies"]["MeshTrafficPermission"];
  EXPECT_EQ(mtp["matched"], Json::array({"allow-web"})) << r.body;
  ASSERT_EQ(mtp["from"].size(), 1u) << r.body;
  EXPECT_EQ(mtp["from"][0]["conf"]["action"], "Allow");
  EXPECT_EQ(call("GET", "/meshes/default/dataplanes/absent/_policies").status, 404);
  EXPECT_EQ(call("GET", "/meshes/default/dataplanes/backend-1/_config").status, 404);
}

// `_stats` and `_clusters` pass the proxy's text through; each way of not getting it has its
// own status, and a Dataplane that does not exist is a 404 before any proxy is asked.
TEST_F(ApiHandlerTest, StatsAndClustersComeFromTheProxy) {
  ApiOptions options;
  std::vector<std::string> asked;
  options.askProxy = [&](const std::string& mesh, const std::string& name,
                         const std::string& kind) {
    asked.push_back(mesh + "/" + name + "/" + kind);
    using Outcome = ProxyAdminReply::Outcome;
    if (name == "offline") return ProxyAdminReply{Outcome::kNotConnected, "", ""};
    if (name == "slow") return ProxyAdminReply{Outcome::kTimedOut, "", "no answer within 5000 ms"};
    if (name == "broken") return ProxyAdminReply{Outcome::kFailed, "", "/clusters answered 500"};
    return ProxyAdminReply{Outcome::kAnswered, "text of " + kind + "\n", ""};
  };
  reset(options);
  putMesh("default");
  for (std::string name : {"backend-1", "offline", "slow", "broken"}) {
    std::string doc = kDataplane;
    doc.replace(doc.find("backend-1"), 9, name);
    ASSERT_EQ(call("PUT", "/meshes/default/dataplanes/" + name, doc).status, 201) << name;
  }

  auto stats = call("GET", "/meshes/default/dataplanes/backend-1/_stats");
  EXPECT_EQ(stats.status, 200);
  EXPECT_EQ(stats.body, "text of stats\n");
  EXPECT_EQ(stats.headers, (http::Headers{{"Content-Type", "text/plain; charset=utf-8"}}));
  EXPECT_EQ(call("GET", "/meshes/default/dataplanes/backend-1/_clusters").body,
            "text of clusters\n");
  EXPECT_EQ(asked,
            (std::vector<std::string>{"default/backend-1/stats", "default/backend-1/clusters"}));

  auto absent = call("GET", "/meshes/default/dataplanes/absent/_stats");
  EXPECT_EQ(absent.status, 404);
  EXPECT_EQ(json(absent)["details"], "Dataplane \"absent\" in mesh \"default\" not found");
  EXPECT_EQ(asked.size(), 2u) << "no proxy is asked for a dataplane that does not exist";

  auto offline = call("GET", "/meshes/default/dataplanes/offline/_clusters");
  EXPECT_EQ(offline.status, 503);
  EXPECT_NE(json(offline)["details"].get<std::string>().find("dataplane offline is not connected"),
            std::string::npos)
      << offline.body;
  auto slow = call("GET", "/meshes/default/dataplanes/slow/_stats");
  EXPECT_EQ(slow.status, 504);
  EXPECT_NE(slow.body.find("no answer within 5000 ms"), std::string::npos) << slow.body;
  auto broken = call("GET", "/meshes/default/dataplanes/broken/_clusters");
  EXPECT_EQ(broken.status, 502);
  EXPECT_NE(broken.body.find("/clusters answered 500"), std::string::npos) << broken.body;

  // Same rules as the other inspection endpoints: a remote caller needs a token.
  EXPECT_EQ(call("GET", "/meshes/default/dataplanes/backend-1/_stats", "", false).status, 401);
  EXPECT_EQ(call("POST", "/meshes/default/dataplanes/backend-1/_stats").status, 405);

  reset({});  // no dataplane server
  putMesh("default");
  ASSERT_EQ(call("PUT", "/meshes/default/dataplanes/backend-1", kDataplane).status, 201);
  EXPECT_EQ(call("GET", "/meshes/default/dataplanes/backend-1/_stats").status, 501);
}

// The API refuses every invalid document of the corpus with 400 and exactly the messages of its
// golden file (the same ones braidctl prints), every invalid field listed.
TEST_F(ApiHandlerTest, RefusesTheInvalidCorpusWithItsGoldenMessages) {
  putMesh("default");
  auto dir = testing::sourceDir() / "tests/golden/resources/invalid";
  size_t checked = 0;
  for (const auto& file : testing::filesIn(dir, ".yaml")) {
    auto docs = parseYaml(testing::readFile(file));
    ASSERT_EQ(docs.documents.size(), 1u) << file;
    const Json& doc = docs.documents[0];
    // The URL needs a known type, a name and (for mesh-scoped types) a mesh.
    if (!doc.contains("type") || !doc["type"].is_string() || !doc.contains("name") ||
        !doc["name"].is_string()) {
      continue;
    }
    const ResourceType* type = findTypeByName(doc["type"].get<std::string>());
    if (!type || type->readOnly) continue;
    std::string url;
    if (type->scope == Scope::kMesh) {
      if (!doc.contains("mesh") || !doc["mesh"].is_string()) continue;
      url = "/meshes/" + doc["mesh"].get<std::string>() + "/" + type->plural + "/";
    } else {
      url = "/" + (type->name == "Mesh" ? std::string("meshes") : type->plural) + "/";
    }
    url += doc["name"].get<std::string>();
    auto r = call("PUT", url, doc.dump());
    ASSERT_EQ(r.status, 400) << file << "\n" << r.body;
    Json body = json(r);
    std::string lines;
    for (const auto& p : body["invalid_parameters"]) {
      std::string field = p["field"].get<std::string>(), reason = p["reason"].get<std::string>();
      lines += (field.empty() ? reason : field + ": " + reason) + "\n";
    }
    auto golden = file;
    golden.replace_extension(".golden");
    EXPECT_EQ(lines, testing::readFile(golden)) << file;
    ++checked;
  }
  EXPECT_GE(checked, 40u);
}

TEST_F(ApiHandlerTest, LoopbackIsAdminOnlyUnderALoopbackHostName) {
  // DNS rebinding: a browser connects from loopback but names the attacker's host.
  http::Request r;
  r.method = "GET";
  r.target = r.path = "/meshes";
  r.fromLoopback = true;
  r.headers = {{"host", "evil.example.com:5681"}};
  EXPECT_EQ(handler_->handle(r).status, 401);
  for (const char* host : {"localhost:5681", "127.0.0.1", "[::1]:5681", "127.0.0.2:80"}) {
    r.headers = {{"host", host}};
    EXPECT_EQ(handler_->handle(r).status, 200) << host;
  }
}

TEST_F(ApiHandlerTest, HostileRequestsGetClientErrorsNotServerErrors) {
  putMesh("default");
  EXPECT_EQ(call("GET", "/meshes/default/meshtimeouts/\xff\xfe").status, 404);
  auto r = call("PUT", "/meshes/default", R"({"type":"Mesh","name":"default","x":1e400})");
  EXPECT_EQ(r.status, 400) << r.body;
  call("BREW", "/meshes");
  auto metrics = call("GET", "/metrics").body;
  EXPECT_EQ(metrics.find("BREW"), std::string::npos);
  EXPECT_NE(metrics.find("method=\"OTHER\""), std::string::npos) << metrics;
}

TEST_F(ApiHandlerTest, MetricsCountRequests) {
  putMesh("default");
  auto r = call("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("braid_cp_api_requests_total{method=\"PUT\",code=\"201\"} 1"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("braid_cp_resources{type=\"Mesh\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace braid::api

namespace braid::api {
namespace {

TEST_F(ApiHandlerTest, DataplaneTokensNeedAnIssuer) {
  putMesh("default");
  auto r = call("POST", "/tokens/dataplane", R"({"mesh":"default","name":"web-1"})");
  EXPECT_EQ(r.status, 501) << r.body;
}

TEST_F(ApiHandlerTest, DataplaneTokenRequestsAreValidatedAndIssued) {
  struct Issued {
    std::string mesh, name;
    std::map<std::string, std::string> tags;
    int64_t validFor = 0;
  } issued;
  ApiOptions options;
  options.issueDataplaneToken = [&](const std::string& mesh, const std::string& name,
                                    const std::map<std::string, std::string>& tags,
                                    int64_t validFor, std::string& token, std::string&) {
    issued = {mesh, name, tags, validFor};
    token = "header.payload.signature";
    return true;
  };
  reset(options);
  putMesh("default");

  auto bad = call("POST", "/tokens/dataplane",
                  R"({"name":"Not A Name","tags":{"a":1},"validFor":"soon"})");
  EXPECT_EQ(bad.status, 400);
  std::set<std::string> fields;
  Json problem = json(bad);
  for (const auto& p : problem["invalid_parameters"]) fields.insert(p["field"].get<std::string>());
  EXPECT_EQ(fields, (std::set<std::string>{"mesh", "name", "tags.a", "validFor"})) << bad.body;

  auto noMesh = call("POST", "/tokens/dataplane", R"({"mesh":"nowhere","name":"web-1"})");
  EXPECT_EQ(noMesh.status, 400);
  EXPECT_NE(noMesh.body.find("mesh 'nowhere' does not exist"), std::string::npos);

  auto ok = call("POST", "/tokens/dataplane",
                 R"({"mesh":"default","name":"web-1","tags":{"app":"web"},"validFor":"1h"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body, "header.payload.signature\n");
  EXPECT_EQ(issued.mesh, "default");
  EXPECT_EQ(issued.name, "web-1");
  EXPECT_EQ(issued.tags.at("app"), "web");
  EXPECT_EQ(issued.validFor, 3600);

  auto byDefault = call("POST", "/tokens/dataplane", R"({"mesh":"default","name":"web-2"})");
  ASSERT_EQ(byDefault.status, 200);
  EXPECT_EQ(issued.validFor, 24 * 3600);

  EXPECT_EQ(call("GET", "/tokens/dataplane").status, 405);
  EXPECT_EQ(call("POST", "/tokens/dataplane", R"({"mesh":"default","name":"web-1"})", false).status,
            401);
}

}  // namespace
}  // namespace braid::api

namespace braid::api {
namespace {

TEST_F(ApiHandlerTest, DataplaneTokenRevocationAndKeyRotation) {
  std::vector<std::string> calls;
  ApiOptions options;
  options.revokeDataplaneToken = [&](const std::string& mesh, const std::string& id, std::string&) {
    calls.push_back("revoke " + mesh + " " + id);
    return true;
  };
  options.rotateDataplaneTokenKey = [&](const std::string& mesh, std::string& keyId, std::string&) {
    calls.push_back("rotate " + mesh);
    keyId = "dataplane-token-signing-key-2";
    return true;
  };
  options.removeDataplaneTokenKey = [&](const std::string& mesh, const std::string& keyId,
                                        std::string& error) {
    if (keyId != "dataplane-token-signing-key-1") {
      error = "no such key";
      return false;
    }
    calls.push_back("remove " + mesh + " " + keyId);
    return true;
  };
  reset(options);
  putMesh("default");

  auto revoked = call("POST", "/tokens/dataplane/revocations", R"({"mesh":"default","id":"ab12"})");
  EXPECT_EQ(revoked.status, 200) << revoked.body;
  auto missing = call("POST", "/tokens/dataplane/revocations", R"({"id":7})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find(R"("field":"mesh")"), std::string::npos) << missing.body;
  EXPECT_NE(missing.body.find(R"("field":"id")"), std::string::npos) << missing.body;

  auto rotated = call("POST", "/tokens/dataplane/signing-keys", R"({"mesh":"default"})");
  EXPECT_EQ(rotated.status, 201) << rotated.body;
  EXPECT_EQ(json(rotated)["keyId"], "dataplane-token-signing-key-2");
  EXPECT_EQ(call("POST", "/tokens/dataplane/signing-keys", R"({"mesh":"nowhere"})").status, 400);

  EXPECT_EQ(
      call("DELETE", "/tokens/dataplane/signing-keys/default/dataplane-token-signing-key-1").status,
      200);
  EXPECT_EQ(call("DELETE", "/tokens/dataplane/signing-keys/default/other").status, 404);
  EXPECT_EQ(call("GET", "/tokens/dataplane/revocations").status, 405);
  EXPECT_EQ(calls, (std::vector<std::string>{"revoke default ab12", "rotate default",
                                             "remove default dataplane-token-signing-key-1"}));
  EXPECT_EQ(
      call("POST", "/tokens/dataplane/revocations", R"({"mesh":"default","id":"x"})", false).status,
      401);
}

}  // namespace
}  // namespace braid::api
