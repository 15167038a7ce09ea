// The schema walker on its own: every kind of problem, all reported at once, and canonical order.
#include "control-plane/resources/schema.h"

#include <gtest/gtest.h>

namespace braid::schema {
namespace {

S sample() {
  return S::object({
      req("port", S::port()),
      opt("mode", S::enumOf({"A", "B"})),
      opt("timeout", S::duration()),
      opt("share", S::percent()),
      opt("tags", S::map(S::string().notEmpty())),
      opt("items", S::array(S::object({req("name", S::string())})).max(2)),
  });
}

std::string errorsOf(const Json& value) {
  FieldErrors errors;
  validate(*sample().node(), value, "spec", errors);
  return errors.toString();
}

TEST(Schema, AcceptsAValidDocument) {
  EXPECT_EQ(errorsOf(Json::parse(R"({"port":80,"mode":"A","timeout":"1m30s","share":"12.5",
                                     "tags":{"b":"x","a":"y"},"items":[{"name":"n"}]})")),
            "");
}

TEST(Schema, ReportsEveryProblemWithItsPath) {
  EXPECT_EQ(errorsOf(Json::parse(R"({"mode":"C","timeout":"10","share":"lots","colour":1,
                                     "tags":{"a":""},"items":[{},{"name":1},{"name":"x"}]})")),
            "spec.colour: unknown field\n"
            "spec.port: must be defined\n"
            "spec.mode: must be one of A, B\n"
            "spec.timeout: must be a duration string such as 500ms, 1m30s or 24h\n"
            "spec.share: string must be a valid number\n"
            "spec.tags.a: must not be empty\n"
            "spec.items: must have at most 2 items\n"
            "spec.items[0].name: must be defined\n"
            "spec.items[1].name: must be a string");
}

TEST(Schema, IntegerBoundsHoldForSignedAndUnsignedJsonNumbers) {
  // nlohmann's JSON parser yields unsigned integers for non-negative numbers.
  EXPECT_EQ(errorsOf(Json::parse(R"({"port":0})")), "spec.port: must be >= 1");
  EXPECT_EQ(errorsOf(Json{{"port", 0}}), "spec.port: must be >= 1");
  EXPECT_EQ(errorsOf(Json::parse(R"({"port":70000})")), "spec.port: must be <= 65535");
  EXPECT_EQ(errorsOf(Json::parse(R"({"port":-1})")), "spec.port: must be >= 1");
  EXPECT_EQ(errorsOf(Json::parse(R"({"port":1.5})")), "spec.port: must be an integer");
  EXPECT_EQ(errorsOf(Json::parse(R"({"port":80,"share":101})")), "spec.share: must be <= 100");
}

TEST(Schema, CanonicalFormFollowsSchemaOrderAndSortsMaps) {
  Json in = Json::parse(R"({"tags":{"z":"1","a":"2"},"mode":"B","port":1})");
  EXPECT_EQ(canonicalize(*sample().node(), in).dump(),
            R"({"port":1,"mode":"B","tags":{"a":"2","z":"1"}})");
}

TEST(Schema, ChecksSeeTheValueAndSurviveWrongTypes) {
  S s = S::object({opt("a", S::integer()), opt("b", S::integer())})
            .check([](const Json& v, const std::string& path, FieldErrors& e) {
              if (v.at("a").get<int64_t>() > v.at("b").get<int64_t>()) {
                e.add(path, "a must not exceed b");
              }
            });
  FieldErrors errors;
  validate(*s.node(), Json::parse(R"({"a":3,"b":2})"), "x", errors);
  EXPECT_EQ(errors.toString(), "x: a must not exceed b");
  FieldErrors typeErrors;  // the check throws on "b" and is skipped; only the type error shows
  validate(*s.node(), Json::parse(R"({"a":3,"b":"2"})"), "x", typeErrors);
  EXPECT_EQ(typeErrors.toString(), "x.b: must be an integer");
}

}  // namespace
}  // namespace braid::schema
