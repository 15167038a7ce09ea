// `apply`: local validation (the resource library's messages, every invalid document and field),
// then one PUT per document in order.
#include "cli/apply.h"

#include <gtest/gtest.h>

#include "cli/resource_ref.h"
#include "common/yaml_json.h"
#include "fake_api.h"
#include "support/golden.h"

namespace braid::cli {
namespace {

using braid::testing::compareGolden;
using braid::testing::filesIn;
using braid::testing::readFile;
using braid::testing::sourceDir;
using testing::CliHarness;
using testing::RecordedRequest;

std::filesystem::path cliGolden(const char* name) {
  return sourceDir() / "tests/golden/cli" / name;
}

// Every file of the resource corpus's invalid/ directory is refused by `apply` with the resource
// library's messages (those the API gives; their wording is checked by the corpus's own test),
// every one of them indented under the line naming the document.
TEST(ApplyValidation, EveryInvalidCorpusFileIsReportedWithEveryMessage) {
  auto files = filesIn(sourceDir() / "tests/golden/resources/invalid", ".yaml");
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    auto docs = parseYaml(readFile(file));
    ASSERT_EQ(docs.documents.size(), 1u) << file;
    std::vector<ParsedResource> parsed;
    std::string message = validateDocuments(docs.documents, parsed);
    auto errors = parseResource(docs.documents[0]).errors;
    ASSERT_FALSE(errors.empty()) << file;
    std::string expected = "document 1";
    if (std::string what = describeDocument(docs.documents[0]); !what.empty()) {
      expected += " (" + what + ")";
    }
    expected += ":";
    for (const auto& e : errors.all()) {
      expected += "\n  " + (e.field.empty() ? e.reason : e.field + ": " + e.reason);
    }
    EXPECT_EQ(message, expected) << file;
  }
}

TEST(ApplyValidation, GoldenForSeveralDocuments) {
  auto docs = parseYaml(readFile(cliGolden("apply-invalid.yaml")));
  ASSERT_TRUE(docs.error.empty()) << docs.error;
  std::vector<ParsedResource> parsed;
  std::string message = validateDocuments(docs.documents, parsed);
  ASSERT_EQ(parsed.size(), docs.documents.size());
  EXPECT_TRUE(parsed[0].errors.empty());
  auto diff = compareGolden(cliGolden("apply-invalid.golden"), message + "\n");
  EXPECT_TRUE(diff.empty()) << diff;
}

TEST(ApplyCommand, InvalidInputWritesNothingAndExitsOne) {
  CliHarness cli;
  auto run = cli.run({"apply", "-f", (cliGolden("apply-invalid.yaml")).string()});
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err.rfind("Error: document 2 (MeshTimeout \"t1\" in mesh \"default\"):\n", 0), 0u)
      << run.err;
  EXPECT_TRUE(cli.requests.empty());
}

const char* kTwoResources = R"(type: Mesh
name: default
---
type: MeshTimeout
name: t1
mesh: default
spec:
  targetRef: {kind: MeshService, name: backend}
  to:
  - targetRef: {kind: Mesh}
    default: {connectionTimeout: 2s}
)";

TEST(ApplyCommand, PutsEachDocumentToItsUrlAndReportsTheOutcome) {
  int calls = 0;
  CliHarness cli([&](const RecordedRequest& r) {
    ++calls;
    if (r.path == "/meshes/default") return HttpResponse{201, R"({"type":"Mesh"})"};
    return HttpResponse{200, R"({"type":"MeshTimeout","changed":true})"};
  });
  auto run = cli.run({"apply", "-f", "-"}, kTwoResources);
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out,
            "created Mesh \"default\"\n"
            "updated MeshTimeout \"t1\" in mesh \"default\"\n");
  ASSERT_EQ(cli.requests.size(), 2u);
  EXPECT_EQ(cli.requests[0].method, "PUT");
  EXPECT_EQ(cli.requests[0].path, "/meshes/default");
  EXPECT_EQ(Json::parse(cli.requests[0].body), Json::parse(R"({"type":"Mesh","name":"default"})"));
  EXPECT_EQ(cli.requests[1].path, "/meshes/default/meshtimeouts/t1");
  EXPECT_EQ(Json::parse(cli.requests[1].body)["spec"]["to"][0]["default"]["connectionTimeout"],
            "2s");
}

TEST(ApplyCommand, UnchangedWhenTheApiSaysSo) {
  CliHarness cli([](const RecordedRequest&) {
    return HttpResponse{200, R"({"type":"Mesh","changed":false})"};
  });
  auto run = cli.run({"apply", "-f", "-"}, "type: Mesh\nname: default\nversion: 4\n");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "unchanged Mesh \"default\"\n");
  EXPECT_EQ(Json::parse(cli.requests.at(0).body)["version"], 4);
}

TEST(ApplyCommand, DryRunValidatesOnlyAndNeedsNoControlPlane) {
  CliHarness cli;
  auto run = cli.run({"apply", "--dry-run", "-f", "-"}, kTwoResources);
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out,
            "valid Mesh \"default\"\n"
            "valid MeshTimeout \"t1\" in mesh \"default\"\n");
  EXPECT_TRUE(cli.requests.empty());
  EXPECT_EQ(cli.clientUrl, "");  // no client was even created
}

TEST(ApplyCommand, StopsAtTheFirstApiErrorAndPrintsIt) {
  CliHarness cli([](const RecordedRequest&) {
    return HttpResponse{400,
                        R"({"title":"Invalid resource","details":"MeshTimeout \"t1\" is invalid",
                "invalid_parameters":[{"field":"spec.to[0].targetRef.kind","reason":"bad"},
                                      {"field":"spec.from","reason":"worse"}]})"};
  });
  auto run = cli.run({"apply", "-f", "-"}, std::string(kTwoResources));
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err,
            "Error: Invalid resource: MeshTimeout \"t1\" is invalid\n"
            "  spec.to[0].targetRef.kind: bad\n"
            "  spec.from: worse\n");
  EXPECT_EQ(cli.requests.size(), 1u);
}

TEST(ApplyCommand, ConflictAfterOneWrite) {
  CliHarness cli([](const RecordedRequest& r) {
    if (r.path == "/meshes/default") return HttpResponse{201, "{}"};
    return HttpResponse{409, R"({"title":"Conflict","details":"version 3 is not the stored 4"})"};
  });
  auto run = cli.run({"apply", "-f", "-"}, kTwoResources);
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.out, "created Mesh \"default\"\n");
  EXPECT_EQ(run.err, "Error: Conflict: version 3 is not the stored 4\n");
}

TEST(ApplyCommand, UnreadableAndEmptyAndBrokenInputs) {
  CliHarness cli;
  auto missing = cli.run({"apply", "-f", "/nonexistent/file.yaml"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err, "Error: cannot read /nonexistent/file.yaml: No such file or directory\n");
  auto empty = cli.run({"apply", "-f", "-"}, "# nothing\n");
  EXPECT_EQ(empty.status, 1);
  EXPECT_EQ(empty.err, "Error: no resources in standard input\n");
  auto broken = cli.run({"apply", "-f", "-"}, "type: Mesh\nname: [\n");
  EXPECT_EQ(broken.status, 1);
  EXPECT_EQ(broken.err.rfind("Error: standard input: invalid YAML at line", 0), 0u) << broken.err;
  EXPECT_TRUE(cli.requests.empty());
}

}  // namespace
}  // namespace braid::cli
