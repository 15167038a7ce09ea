// Every field of every valid policy document in the corpus, replaced by a value of each JSON
// type, must be judged without an exception escaping, and every error must point inside `spec`.
// This keeps the hand-written checks honest about values the walker has already refused.
#include <gtest/gtest.h>

#include <functional>

#include "common/yaml_json.h"
#include "control-plane/resources/resource.h"
#include "support/golden.h"

namespace braid {
namespace {

// Calls `visit` with a JSON pointer to every node below `value`.
void forEachPointer(const Json& value, const Json::json_pointer& at,
                    const std::function<void(const Json::json_pointer&)>& visit) {
  visit(at);
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) forEachPointer(child, at / key, visit);
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) forEachPointer(value[i], at / i, visit);
  }
}

TEST(PolicyMutations, WrongTypesAreReportedInsideSpec) {
  const Json replacements[] = {nullptr,
                               0,
                               -1,
                               "x",
                               "",
                               Json::array(),
                               Json::object(),
                               true,
                               Json::array({1, "a"}),
                               Json::object({{"kind", 1}})};
  size_t judged = 0;
  for (const char* policy : {"meshtrafficpermission", "meshhttproute", "meshtcproute",
                             "meshtimeout", "meshretry", "meshcircuitbreaker"}) {
    auto file =
        testing::sourceDir() / "tests/golden/resources/valid" / (std::string(policy) + ".yaml");
    auto docs = parseYaml(testing::readFile(file));
    ASSERT_FALSE(docs.documents.empty()) << file;
    for (const auto& doc : docs.documents) {
      forEachPointer(doc.at("spec"), Json::json_pointer("/spec"), [&](const auto& ptr) {
        for (const auto& replacement : replacements) {
          Json mutated = doc;
          mutated[ptr] = replacement;
          ParsedResource parsed;
          ASSERT_NO_THROW(parsed = parseResource(mutated)) << ptr.to_string();
          ++judged;
          for (const auto& e : parsed.errors.all()) {
            EXPECT_EQ(e.field.rfind("spec", 0), 0u)
                << policy << " " << ptr.to_string() << " = " << replacement.dump() << ": "
                << e.field << ": " << e.reason;
            EXPECT_FALSE(e.reason.empty()) << e.field;
          }
        }
      });
    }
  }
  EXPECT_GT(judged, 1000u);
}

}  // namespace
}  // namespace braid
