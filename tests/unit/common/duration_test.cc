#include "common/duration.h"

#include <gtest/gtest.h>

using namespace std::chrono_literals;

namespace braid {
namespace {

TEST(ParseDuration, AcceptsGoForms) {
  struct Case {
    const char* text;
    std::chrono::nanoseconds want;
  } cases[] = {
      {"0", 0ns},
      {"500ms", 500ms},
      {"2s", 2s},
      {"1m30s", 90s},
      {"24h", 24h},
      {"1d", 24h},
      {"1.5h", 90min},
      {"-2s", -2s},
      {"100us", 100us},
      {"10ns", 10ns},
      {"1h2m3s4ms", 1h + 2min + 3s + 4ms},
  };
  for (const auto& c : cases) {
    auto got = parseDuration(c.text);
    ASSERT_TRUE(got.has_value()) << c.text;
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(ParseDuration, RefusesNonDurations) {
  for (const char* text :
       {"", "10", "s", "1x", "ten seconds", "1 s", "-", "1.s5", "99999999999h"}) {
    EXPECT_FALSE(parseDuration(text).has_value()) << text;
  }
}

TEST(FormatDuration, MatchesGo) {
  EXPECT_EQ(formatDuration(0s), "0s");
  EXPECT_EQ(formatDuration(90s), "1m30s");
  EXPECT_EQ(formatDuration(24h), "24h0m0s");
  EXPECT_EQ(formatDuration(500ms), "500ms");
  EXPECT_EQ(formatDuration(1500ms), "1.5s");
  EXPECT_EQ(formatDuration(-2s), "-2s");
}

}  // namespace
}  // namespace braid
