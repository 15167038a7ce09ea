// get, delete, inspect, generate and config, driven through the CLI against a fake API.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/config.h"
#include "cli/output.h"
#include "common/yaml_json.h"
#include "fake_api.h"

namespace braid::cli {
namespace {

namespace fs = std::filesystem;
using testing::CliHarness;
using testing::RecordedRequest;

const char* kTimeout = R"({"type":"MeshTimeout","mesh":"default","name":"t1",
  "creationTime":"2026-11-21T11:59:00Z","modificationTime":"2026-11-21T11:59:00Z","version":3,
  "spec":{"targetRef":{"kind":"MeshService","name":"backend"},
          "to":[{"targetRef":{"kind":"Mesh"},"default":{"connectionTimeout":"2s"}}]}})";

Json page(std::vector<Json> items, const std::string& next, size_t total) {
  Json p = Json::object();
  p["total"] = total;
  p["items"] = items;
  p["next"] = next.empty() ? Json(nullptr) : Json(next);
  return p;
}

TEST(GetCommand, ListFollowsNextLinksAndPrintsATable) {
  Json t1 = Json::parse(kTimeout);
  Json t2 = t1;
  t2["name"] = "t2";
  CliHarness cli([&](const RecordedRequest& r) {
    if (r.path == "/meshes/default/meshtimeouts") {
      return HttpResponse{200,
                          page({t1}, "http://fake/meshes/default/meshtimeouts?offset=1", 2).dump()};
    }
    // The absolute `next` link is followed as a path against the --api address.
    if (r.path == "/meshes/default/meshtimeouts?offset=1") {
      return HttpResponse{200, page({t2}, "", 2).dump()};
    }
    return HttpResponse{404, "{}"};
  });
  cli.now = *parseRfc3339("2026-11-21T12:00:00Z");
  auto run = cli.run({"get", "meshtimeouts"});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out,
            "MESH      NAME   TARGETREF             AGE\n"
            "default   t1     MeshService/backend   1m\n"
            "default   t2     MeshService/backend   1m\n");
  EXPECT_EQ(cli.requests.size(), 2u);

  auto json = cli.run({"get", "meshtimeouts", "-o", "json"});
  Json list = Json::parse(json.out);
  EXPECT_EQ(list["total"], 2);
  EXPECT_EQ(list["items"].size(), 2u);
  EXPECT_TRUE(list["next"].is_null());

  auto yaml = cli.run({"get", "meshtimeouts", "-o", "yaml"});
  auto docs = parseYaml(yaml.out);
  ASSERT_EQ(docs.documents.size(), 2u) << yaml.out;
  t2.erase("version");
  EXPECT_EQ(docs.documents[1], t2);
}

TEST(GetCommand, ARepeatedNextLinkDoesNotLoop) {
  CliHarness cli([&](const RecordedRequest&) {
    return HttpResponse{200, page({}, "/meshes/default/meshtimeouts?offset=0", 0).dump()};
  });
  auto run = cli.run({"get", "meshtimeouts", "-o", "json"});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(cli.requests.size(), 2u);
}

TEST(GetCommand, MeshFlagAndGlobalTypes) {
  CliHarness cli([](const RecordedRequest&) { return HttpResponse{200, page({}, "", 0).dump()}; });
  EXPECT_EQ(cli.run({"get", "meshtimeouts", "-m", "other"}).status, 0);
  EXPECT_EQ(cli.requests.back().path, "/meshes/other/meshtimeouts");
  EXPECT_EQ(cli.run({"get", "meshes"}).out, "NAME   MTLS   AGE\n");
  EXPECT_EQ(cli.requests.back().path, "/meshes");
  auto bad = cli.run({"get", "meshes", "-m", "default"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_EQ(bad.err, "Error: Mesh is not mesh-scoped: --mesh cannot be used with meshes\n");
  auto unknown = cli.run({"get", "widgets"});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_EQ(unknown.err.rfind("Error: unknown resource type \"widgets\"", 0), 0u);
  EXPECT_NE(cli.run({"get", "meshes", "-o", "xml"}).status, 0);
}

TEST(GetCommand, OneResourceInEveryFormat) {
  CliHarness cli([](const RecordedRequest& r) {
    if (r.path == "/meshes/default/meshtimeouts/t1") return HttpResponse{200, kTimeout};
    return HttpResponse{404, R"({"title":"Not found"})"};
  });
  cli.now = *parseRfc3339("2026-11-21T12:00:00Z");
  auto table = cli.run({"get", "meshtimeout", "t1"});
  EXPECT_EQ(table.out,
            "MESH      NAME   TARGETREF             AGE\n"
            "default   t1     MeshService/backend   1m\n");
  auto yaml = cli.run({"get", "meshtimeout", "t1", "-o", "yaml"});
  auto docs = parseYaml(yaml.out);
  ASSERT_EQ(docs.documents.size(), 1u);
  Json withoutVersion = Json::parse(kTimeout);
  withoutVersion.erase("version");  // the store's version stays out: appliable anywhere
  EXPECT_EQ(docs.documents[0], withoutVersion);
  auto json = cli.run({"get", "meshtimeout", "t1", "-o", "json"});
  EXPECT_EQ(Json::parse(json.out), Json::parse(kTimeout));

  auto missing = cli.run({"get", "meshtimeout", "t9"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err, "Error: MeshTimeout \"t9\" not found in mesh \"default\"\n");
}

TEST(GetCommand, ApiErrorsAreShown) {
  CliHarness cli([](const RecordedRequest&) {
    return HttpResponse{401, R"({"title":"Unauthorized","details":"a token is required"})"};
  });
  auto run = cli.run({"get", "meshes"});
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.err, "Error: Unauthorized: a token is required\n");
  CliHarness plain([](const RecordedRequest&) { return HttpResponse{502, "bad gateway\n"}; });
  EXPECT_EQ(plain.run({"get", "meshes"}).err,
            "Error: the control plane answered HTTP 502: bad gateway\n");
}

TEST(DeleteCommand, DeletesOrReportsAbsence) {
  CliHarness cli([](const RecordedRequest& r) {
    if (r.path == "/meshes/default/meshtimeouts/t1") return HttpResponse{200, "{}"};
    return HttpResponse{404, R"({"title":"Not found"})"};
  });
  auto ok = cli.run({"delete", "meshtimeout", "t1"});
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(ok.out, "deleted MeshTimeout \"t1\" in mesh \"default\"\n");
  EXPECT_EQ(cli.requests.back().method, "DELETE");
  auto missing = cli.run({"delete", "meshtimeout", "t2", "-m", "other"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err, "Error: MeshTimeout \"t2\" not found in mesh \"other\"\n");
  EXPECT_EQ(cli.requests.back().path, "/meshes/other/meshtimeouts/t2");
  auto global = cli.run({"delete", "mesh", "gone"});
  EXPECT_EQ(global.err, "Error: Mesh \"gone\" not found\n");
  EXPECT_NE(cli.run({"delete", "meshtimeout"}).status, 0);  // NAME is required
}

TEST(InspectCommand, DataplanesAndOneDataplane) {
  CliHarness cli([](const RecordedRequest& r) {
    if (r.path == "/meshes/default/dataplanes/_overview") {
      Json item = Json::parse(R"({"type":"DataplaneOverview","mesh":"default","name":"dp-1",
        "dataplane":{"networking":{"inbound":[{"tags":{"braid.io/service":"b"}}]}},
        "dataplaneInsight":{"online":true,"configVersionAcked":"5","certificateExpiry":null}})");
      return HttpResponse{200, page({item}, "", 1).dump()};
    }
    if (r.path == "/meshes/default/dataplanes/dp-1/_config") {
      return HttpResponse{200, R"({"listeners":[]})"};
    }
    if (r.path == "/meshes/default/dataplanes/dp-1/_policies") {
      return HttpResponse{200, R"({"MeshTimeout":[]})"};
    }
    return HttpResponse{404, R"({"title":"Not found","details":"no such endpoint"})"};
  });
  auto list = cli.run({"inspect", "dataplanes"});
  EXPECT_EQ(list.status, 0) << list.err;
  EXPECT_EQ(list.out,
            "MESH      NAME   TAGS                 STATUS   CONFIG ACKED   CERT EXPIRY   LAST "
            "REJECTION\n"
            "default   dp-1   braid.io/service=b   Online   5              -             -\n");
  auto config = cli.run({"inspect", "dataplane", "dp-1", "--type", "config"});
  EXPECT_EQ(config.out, "{\n  \"listeners\": []\n}\n");
  auto policies = cli.run({"inspect", "dataplane", "dp-1", "--type", "policies"});
  EXPECT_EQ(policies.out, "{\n  \"MeshTimeout\": []\n}\n");
  auto stats = cli.run({"inspect", "dataplane", "dp-1", "--type", "stats"});
  EXPECT_EQ(stats.status, 1);
  EXPECT_EQ(stats.err, "Error: Not found: no such endpoint\n");
  EXPECT_EQ(cli.requests.back().path, "/meshes/default/dataplanes/dp-1/_stats");
  EXPECT_NE(cli.run({"inspect", "dataplane", "dp-1", "--type", "bogus"}).status, 0);
}

TEST(GenerateCommand, DataplaneToken) {
  CliHarness cli([](const RecordedRequest& r) {
    if (r.method == "POST" && r.path == "/tokens/dataplane") return HttpResponse{200, "tok.en"};
    return HttpResponse{404, "{}"};
  });
  auto run = cli.run({"generate", "dataplane-token", "--mesh", "default", "--name", "dp-1", "--tag",
                      "braid.io/service=backend", "--tag", "version=v1"});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "tok.en\n");
  EXPECT_EQ(Json::parse(cli.requests.back().body), Json::parse(R"({"mesh":"default","name":"dp-1",
              "tags":{"braid.io/service":"backend","version":"v1"},"validFor":"24h"})"));
  auto bad = cli.run({"generate", "dataplane-token", "--mesh", "m", "--name", "n", "--tag", "x"});
  EXPECT_EQ(bad.err, "Error: --tag: \"x\" must be KEY=VALUE\n");
  auto duration = cli.run(
      {"generate", "dataplane-token", "--mesh", "m", "--name", "n", "--valid-for", "forever"});
  EXPECT_EQ(duration.status, 1);

  CliHarness unimplemented([](const RecordedRequest&) {
    return HttpResponse{501, R"({"title":"Not implemented","details":"tokens are not enabled"})"};
  });
  auto notYet = unimplemented.run({"generate", "dataplane-token", "--mesh", "m", "--name", "n"});
  EXPECT_EQ(notYet.status, 1);
  EXPECT_EQ(notYet.err, "Error: Not implemented: tokens are not enabled\n");
}

class ConfigCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "braidctl-cmd-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
    cli_.configPath = (dir_ / ".braidctl" / "config").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  CliHarness cli_{[](const RecordedRequest&) { return HttpResponse{200, page({}, "", 0).dump()}; }};
};

TEST_F(ConfigCommand, AddListSwitchRemoveAndUseTheCurrentContext) {
  cli_.run({"get", "meshes"});
  EXPECT_EQ(cli_.clientUrl, "http://127.0.0.1:5681");  // no config file: the default

  auto add = cli_.run({"config", "control-planes", "add", "--name", "a", "--address",
                       "http://127.0.0.1:7001", "--auth-token", "tok-a"});
  EXPECT_EQ(add.status, 0) << add.err;
  EXPECT_EQ(add.out, "added control plane \"a\"\nswitched context to \"a\"\n");
  cli_.run({"get", "meshes"});
  EXPECT_EQ(cli_.clientUrl, "http://127.0.0.1:7001");
  EXPECT_EQ(cli_.clientToken, "tok-a");

  auto dup = cli_.run(
      {"config", "control-planes", "add", "--name", "a", "--address", "http://127.0.0.1:1"});
  EXPECT_EQ(dup.status, 1);
  EXPECT_EQ(dup.err, "Error: control plane \"a\" already exists: use --overwrite to replace it\n");

  EXPECT_EQ(
      cli_.run({"config", "control-planes", "add", "--name", "b", "--address", "https://cp-b:5682"})
          .status,
      0);
  EXPECT_EQ(cli_.run({"config", "control-planes", "list"}).out,
            "ACTIVE   NAME   ADDRESS\n"
            "         a      http://127.0.0.1:7001\n"
            "*        b      https://cp-b:5682\n");

  EXPECT_EQ(cli_.run({"config", "control-planes", "switch", "--name", "a"}).out,
            "switched context to \"a\"\n");
  cli_.run({"get", "meshes", "--token", "override"});
  EXPECT_EQ(cli_.clientUrl, "http://127.0.0.1:7001");
  EXPECT_EQ(cli_.clientToken, "override");
  cli_.run({"--api", "http://elsewhere:1", "get", "meshes"});
  EXPECT_EQ(cli_.clientUrl, "http://elsewhere:1");
  EXPECT_EQ(cli_.clientToken, "");  // the context's token is not sent to another address
  cli_.run({"get", "meshes", "--api", "http://after:2"});  // global flags after the command
  EXPECT_EQ(cli_.clientUrl, "http://after:2");

  EXPECT_EQ(cli_.run({"config", "control-planes", "add", "--name", "a", "--address",
                      "http://127.0.0.1:7002", "--overwrite"})
                .out,
            "updated control plane \"a\"\nswitched context to \"a\"\n");
  EXPECT_EQ(loadConfig(cli_.configPath).current()->authToken, "");

  EXPECT_EQ(cli_.run({"config", "control-planes", "switch", "--name", "zzz"}).status, 1);
  EXPECT_EQ(cli_.run({"config", "control-planes", "remove", "--name", "a"}).status, 0);
  CliConfig left = loadConfig(cli_.configPath);
  ASSERT_EQ(left.controlPlanes.size(), 1u);
  EXPECT_EQ(left.controlPlanes[0].name, "b");
  EXPECT_EQ(left.current(), nullptr);
  cli_.run({"get", "meshes"});
  EXPECT_EQ(cli_.clientUrl, "http://127.0.0.1:5681");
}

TEST_F(ConfigCommand, AddressMustBeAnHttpUrl) {
  auto run =
      cli_.run({"config", "control-planes", "add", "--name", "a", "--address", "127.0.0.1:5681"});
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.err.find("must be an http:// or https:// URL"), std::string::npos);
  EXPECT_FALSE(fs::exists(cli_.configPath));
}

TEST(Cli, VersionUnknownCommandsAndFlags) {
  CliHarness cli;
  auto version = cli.run({"version"});
  EXPECT_EQ(version.status, 0);
  EXPECT_EQ(version.out.rfind("braidctl version ", 0), 0u);
  auto unknownFlag = cli.run({"get", "meshes", "--bogus"});
  EXPECT_NE(unknownFlag.status, 0);
  EXPECT_EQ(unknownFlag.err.rfind("Error: ", 0), 0u);
  auto unknownCommand = cli.run({"frobnicate"});
  EXPECT_NE(unknownCommand.status, 0);
  EXPECT_EQ(unknownCommand.err,
            "Error: unknown command \"frobnicate\"\nRun with --help for more information.\n");
  EXPECT_NE(cli.run({"config", "control-planes", "frobnicate"}).status, 0);
  EXPECT_EQ(cli.run({"--help"}).status, 0);
}

}  // namespace
}  // namespace braid::cli

namespace braid::cli {
namespace {

TEST(TokenAdminCommands, RevokeRotateRetire) {
  CliHarness cli([](const RecordedRequest& r) {
    if (r.path == "/tokens/dataplane/signing-keys" && r.method == "POST") {
      return HttpResponse{201, R"({"mesh":"default","keyId":"dataplane-token-signing-key-2"})"};
    }
    return HttpResponse{200, "{}"};
  });
  auto byId = cli.run({"revoke", "dataplane-token", "--mesh", "default", "--id", "ab12"});
  EXPECT_EQ(byId.status, 0) << byId.err;
  EXPECT_EQ(byId.out, "revoked dataplane token ab12 in mesh \"default\"\n");
  EXPECT_EQ(cli.requests.back().path, "/tokens/dataplane/revocations");
  EXPECT_EQ(Json::parse(cli.requests.back().body),
            Json::parse(R"({"mesh":"default","id":"ab12"})"));

  // The id is read from the token's payload: {"jti":"cafe01"} in base64url.
  auto file = fs::temp_directory_path() / ("braidctl-token-" + std::to_string(getpid()));
  std::ofstream(file) << "eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJjYWZlMDEifQ.c2ln\n";
  auto byFile = cli.run({"revoke", "dataplane-token", "--mesh", "default", "--token-file", file});
  EXPECT_EQ(byFile.status, 0) << byFile.err;
  EXPECT_EQ(Json::parse(cli.requests.back().body)["id"], "cafe01");
  std::ofstream(file) << "not a token";
  auto garbage = cli.run({"revoke", "dataplane-token", "--mesh", "default", "--token-file", file});
  EXPECT_EQ(garbage.status, 1);
  EXPECT_NE(garbage.err.find("does not hold a JWT"), std::string::npos) << garbage.err;
  fs::remove(file);
  EXPECT_EQ(cli.run({"revoke", "dataplane-token", "--mesh", "default"}).status, 1);

  auto rotated = cli.run({"rotate", "dataplane-token-signing-key", "--mesh", "default"});
  EXPECT_EQ(rotated.status, 0) << rotated.err;
  EXPECT_EQ(rotated.out, "new signing key dataplane-token-signing-key-2 in mesh \"default\"\n");

  auto retired = cli.run({"retire", "dataplane-token-signing-key", "--mesh", "default", "--key",
                          "dataplane-token-signing-key-1"});
  EXPECT_EQ(retired.status, 0) << retired.err;
  EXPECT_EQ(cli.requests.back().method, "DELETE");
  EXPECT_EQ(cli.requests.back().path,
            "/tokens/dataplane/signing-keys/default/dataplane-token-signing-key-1");
}

}  // namespace
}  // namespace braid::cli
