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

TEST(ParseYaml, RefusesInvalidUtf8) {
  // Found by resource_document_fuzz: invalid UTF-8 used to be accepted, then crashed JSON output.
  for (std::string bad : {std::string("a: \xff\n"), std::string("a: \xc0\xaf\n"),
                          std::string("a: \xed\xa0\x80\n"), std::string("a: \xe2\x82\n")}) {
    auto docs = parseYaml(bad);
    EXPECT_NE(docs.error.find("not valid UTF-8 (byte 3)"), std::string::npos) << docs.error;
    EXPECT_TRUE(docs.documents.empty());
  }
  EXPECT_TRUE(parseYaml("a: \"caf\xc3\xa9 \xf0\x9f\x98\x80\"\n").error.empty());
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

namespace braid {
namespace {

TEST(DocumentLimits, YamlRefusesDuplicateKeysAndHugeExpansions) {
  EXPECT_NE(parseYaml("a: 1\na: 2\n").error.find("duplicate key 'a'"), std::string::npos);
  EXPECT_NE(parseYaml("? [1]\n: x\n").error.find("map keys must be plain strings"),
            std::string::npos);
  // "Billion laughs": each level doubles the tree through aliases.
  std::string laughs = "l0: &l0 [x, x]\n";
  for (int i = 1; i < 30; ++i) {
    laughs += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" +
              std::to_string(i - 1) + ", *l" + std::to_string(i - 1) + "]\n";
  }
  auto docs = parseYaml(laughs);
  EXPECT_NE(docs.error.find("too large"), std::string::npos) << docs.error;
  // Aliases of one big scalar: few nodes, but every use copies the bytes.
  std::string big = "a: &x " + std::string(1 << 20, 'y') + "\nb:\n";
  for (int i = 0; i < 100; ++i) big += "- *x\n";
  EXPECT_NE(parseYaml(big).error.find("bytes of values"), std::string::npos);
  std::string deep(100, '[');
  EXPECT_NE(parseYaml("a: " + deep + "\n").error, "");
}

TEST(DocumentLimits, JsonRefusesTooManyKeysTooDeepAndBadSyntax) {
  std::string error;
  std::string wide = "{";
  for (int i = 0; i < 10001; ++i) wide += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  wide += "}";
  EXPECT_FALSE(parseJsonBounded(wide, error));
  EXPECT_NE(error.find("more than 10000 members"), std::string::npos) << error;
  EXPECT_FALSE(parseJsonBounded(std::string(65, '[') + std::string(65, ']'), error));
  EXPECT_NE(error.find("nested deeper than 64"), std::string::npos) << error;
  EXPECT_FALSE(parseJsonBounded("{\"a\":", error));
  EXPECT_NE(error.find("parse error"), std::string::npos) << error;
  auto ok = parseJsonBounded(R"({"a":[1,{"b":2}]})", error);
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)["a"][1]["b"], 2);
}

}  // namespace
}  // namespace braid

namespace braid {
namespace {

TEST(ParseYaml, NumbersBeyondEveryTypeStayStrings) {
  // Found by resource_document_fuzz: std::stod threw on these and crashed the reader.
  std::string huge(300, '9');
  auto docs = parseYaml("a: " + huge + "\nb: 1e999\nc: 18446744073709551615\nd: -1.5e3\ne: .5\n");
  ASSERT_TRUE(docs.error.empty()) << docs.error;
  const Json& d = docs.documents[0];
  EXPECT_EQ(d["a"], huge);
  EXPECT_EQ(d["b"], "1e999");
  EXPECT_TRUE(d["c"].is_number_unsigned());
  EXPECT_DOUBLE_EQ(d["d"].get<double>(), -1500);
  EXPECT_DOUBLE_EQ(d["e"].get<double>(), 0.5);
  // A very long plain scalar must not exhaust the stack.
  EXPECT_TRUE(parseYaml("a: " + std::string(1 << 20, '1') + "\n").error.empty());
}

}  // namespace
}  // namespace braid
