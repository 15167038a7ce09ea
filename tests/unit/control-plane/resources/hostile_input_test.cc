// Validation of hostile values stays linear: long strings and pathological patterns are judged,
// not allowed to exhaust the stack (std::regex recursed per character; RE2 does not).
#include <gtest/gtest.h>

#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/resource.h"

namespace braid {
namespace {

TEST(HostileInput, LongTagValuesAndNamesAreJudgedNotCrashedOn) {
  std::string huge(1 << 20, 'a');
  Json dp = {
      {"type", "Dataplane"},
      {"mesh", "default"},
      {"name", huge},
      {"networking",
       {{"address", "127.0.0.1"},
        {"inbound", Json::array({{{"port", 1},
                                  {"servicePort", 2},
                                  {"tags", {{"braid.io/service", huge}, {huge + "!", "x"}}}}})}}}};
  auto parsed = parseResource(dp);
  EXPECT_FALSE(parsed.resource);
  auto text = parsed.errors.toString();
  EXPECT_NE(text.find("name: must be at most 253 characters long"), std::string::npos);
  EXPECT_NE(text.find("tag name must consist of"), std::string::npos);
}

TEST(HostileInput, RegexesAreCheckedWithRe2) {
  EXPECT_TRUE(rules::isValidRegex("^/api/v[0-9]+/.*$"));
  EXPECT_FALSE(rules::isValidRegex(std::string(100000, '(')));
  EXPECT_FALSE(rules::isValidRegex("(a"));
  // Backreferences are not RE2 (and not linear): refused.
  EXPECT_FALSE(rules::isValidRegex("(a)\\1"));
}

}  // namespace
}  // namespace braid
