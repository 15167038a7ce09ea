#include "common/yaml_json.h"

#include <gtest/gtest.h>

namespace braid {
namespace {

TEST(ParseYaml, TypesPlainScalarsAndKeepsQuotedStrings) {
  auto docs = parseYaml("a: 10\nb: \"10\"\nc: true\nd: 'x'\ne: 1.5\nf: ~\ng: 50%\n");
  ASSERT_TRUE(docs.error.empty()) << docs.error;
  ASSERT_EQ(docs.documents.size(), 1u);
  const Json& d = docs.documents[0];
  EXPECT_TRUE(d["a"].is_number_integer());
  EXPECT_TRUE(d["b"].is_string());
  EXPECT_TRUE(d["c"].is_boolean());
  EXPECT_EQ(d["d"], "x");
  EXPECT_DOUBLE_EQ(d["e"].get<double>(), 1.5);
  EXPECT_TRUE(d["f"].is_null());
  EXPECT_EQ(d["g"], "50%");
}

TEST(ParseYaml, SplitsDocumentsAndSkipsEmptyOnes) {
  auto docs = parseYaml("---\na: 1\n---\n---\nb: 2\n");
  ASSERT_TRUE(docs.error.empty());
  ASSERT_EQ(docs.documents.size(), 2u);
  EXPECT_EQ(docs.documents[1]["b"], 2);
}

TEST(ParseYaml, ReportsPositionOfSyntaxErrors) {
  auto docs = parseYaml("a: [1, 2\n");
  EXPECT_FALSE(docs.error.empty());
  EXPECT_NE(docs.error.find("line"), std::string::npos);
  EXPECT_TRUE(docs.documents.empty());
}

TEST(ToYaml, RoundTripsKeepingOrderAndTypes) {
  Json v = Json::parse(
      R"({"z":1,"a":{"s":"10","t":"true","u":"plain","n":null,"l":[1,"x: y"],"e":""},"b":false})");
  std::string yaml = toYaml(v);
  auto back = parseYaml(yaml);
  ASSERT_TRUE(back.error.empty()) << back.error << "\n" << yaml;
  ASSERT_EQ(back.documents.size(), 1u);
  EXPECT_EQ(back.documents[0].dump(), v.dump()) << yaml;
}

}  // namespace
}  // namespace braid
