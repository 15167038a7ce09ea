// Replays the resource corpus: every document under tests/golden/resources/valid must be accepted
// and survive YAML → resource → YAML → resource unchanged; every file under .../invalid must be
// refused with exactly the messages in its .golden file (every invalid field listed).
#include <gtest/gtest.h>

#include <set>

#include "common/yaml_json.h"
#include "control-plane/resources/registry.h"
#include "control-plane/resources/resource.h"
#include "support/golden.h"

namespace braid {
namespace {

namespace fs = std::filesystem;
using testing::compareGolden;
using testing::filesIn;
using testing::readFile;
using testing::sourceDir;

fs::path corpus(const char* sub) { return sourceDir() / "tests/golden/resources" / sub; }

TEST(ResourceCorpus, ValidDocumentsAreAcceptedAndRoundTrip) {
  auto files = filesIn(corpus("valid"), ".yaml");
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    auto docs = parseYaml(readFile(file));
    ASSERT_TRUE(docs.error.empty()) << file << ": " << docs.error;
    ASSERT_FALSE(docs.documents.empty()) << file;
    for (size_t i = 0; i < docs.documents.size(); ++i) {
      auto parsed = parseResource(docs.documents[i]);
      ASSERT_TRUE(parsed.errors.empty()) << file << " document " << i << ":\n"
                                         << parsed.errors.toString();
      auto yaml = toYaml(toDocument(*parsed.resource));
      auto again = parseYaml(yaml);
      ASSERT_EQ(again.documents.size(), 1u) << yaml;
      auto reparsed = parseResource(again.documents[0]);
      ASSERT_TRUE(reparsed.errors.empty()) << yaml << reparsed.errors.toString();
      EXPECT_EQ(reparsed.resource->content.dump(), parsed.resource->content.dump())
          << file << " document " << i << " changed in a round trip:\n"
          << yaml;
    }
  }
}

TEST(ResourceCorpus, InvalidDocumentsAreRefusedWithEveryField) {
  auto files = filesIn(corpus("invalid"), ".yaml");
  ASSERT_FALSE(files.empty());
  for (const auto& file : files) {
    auto docs = parseYaml(readFile(file));
    ASSERT_TRUE(docs.error.empty()) << file << ": " << docs.error;
    ASSERT_EQ(docs.documents.size(), 1u) << file << ": one invalid document per file";
    auto parsed = parseResource(docs.documents[0]);
    EXPECT_FALSE(parsed.resource.has_value()) << file << " was accepted";
    fs::path golden = file;
    golden.replace_extension(".golden");
    auto diff = compareGolden(golden, parsed.errors.toString() + "\n");
    EXPECT_TRUE(diff.empty()) << diff;
  }
}

TEST(ResourceCorpus, EveryTypeHasInvalidExamples) {
  std::set<std::string> covered;
  for (const auto& file : filesIn(corpus("invalid"), ".yaml")) {
    auto docs = parseYaml(readFile(file));
    if (docs.documents.size() == 1 && docs.documents[0].contains("type") &&
        docs.documents[0]["type"].is_string()) {
      covered.insert(docs.documents[0]["type"].get<std::string>());
    }
  }
  for (const auto* type : allResourceTypes()) {
    if (type->readOnly) continue;
    EXPECT_TRUE(covered.count(type->name)) << "no invalid example for " << type->name;
  }
}

// Every YAML example in docs/resources.md is a resource users may copy: it must be valid.
TEST(ResourceCorpus, DocumentationExamplesAreValid) {
  std::string doc = readFile(sourceDir() / "docs/resources.md");
  ASSERT_FALSE(doc.empty());
  size_t examples = 0;
  for (size_t pos = doc.find("```yaml\n"); pos != std::string::npos;
       pos = doc.find("```yaml\n", pos)) {
    pos += 8;
    size_t end = doc.find("```", pos);
    ASSERT_NE(end, std::string::npos);
    std::string block = doc.substr(pos, end - pos);
    pos = end + 3;
    auto docs = parseYaml(block);
    ASSERT_TRUE(docs.error.empty()) << docs.error << "\n" << block;
    for (const auto& d : docs.documents) {
      if (!d.is_object() || !d.contains("type")) continue;
      ++examples;
      auto parsed = parseResource(d);
      EXPECT_TRUE(parsed.errors.empty()) << block << "\n" << parsed.errors.toString();
    }
  }
  EXPECT_GE(examples, 19u);
}

TEST(Registry, NamesArePairwiseDistinct) {
  std::set<std::string> names, plurals, singulars;
  for (const auto* type : allResourceTypes()) {
    EXPECT_TRUE(names.insert(type->name).second) << type->name;
    EXPECT_TRUE(plurals.insert(type->plural).second) << type->plural;
    EXPECT_TRUE(singulars.insert(type->singular).second) << type->singular;
    EXPECT_EQ(findTypeByName(type->name), type);
    EXPECT_EQ(findTypeByPlural(type->plural), type);
    EXPECT_EQ(findTypeBySingular(type->singular), type);
  }
}

}  // namespace
}  // namespace braid
