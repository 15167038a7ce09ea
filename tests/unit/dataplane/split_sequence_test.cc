#include "dataplane/upstream/split_sequence.h"

#include <gtest/gtest.h>

#include <map>

namespace braid::dataplane::upstream {
namespace {

// Over 1,000 picks every share is within one point of its weight, for any of these splits, and
// two splits counted side by side do not disturb each other.
TEST(SplitSequence, SharesOver1000PicksAreWithinOnePoint) {
  const std::vector<std::vector<uint64_t>> splits = {{80, 20}, {1, 1, 1}, {50, 30, 15, 5}, {1, 99}};
  for (const auto& weights : splits) {
    uint64_t total = 0;
    for (auto w : weights) total += w;
    SplitSequence sequence;
    int other = 0;
    std::map<size_t, int> counts;
    for (int i = 0; i < 1000; ++i) {
      if (i % 3 == 0) sequence.next(&other, 7);  // another split interleaved
      uint64_t point = sequence.next(&weights, total);
      ASSERT_LT(point, total);
      size_t picked = 0;
      for (uint64_t acc = weights[0]; point >= acc; acc += weights[++picked]) {
      }
      ++counts[picked];
    }
    for (size_t i = 0; i < weights.size(); ++i) {
      double expected = 1000.0 * static_cast<double>(weights[i]) / static_cast<double>(total);
      EXPECT_NEAR(counts[i], expected, 10.0) << "weight " << weights[i] << " of " << total;
    }
  }
}

TEST(SplitSequence, ZeroTotalPicksNothingAndNeverOverflows) {
  SplitSequence sequence;
  int split = 0;
  EXPECT_EQ(sequence.next(&split, 0), 0u);
  for (int i = 0; i < 10000; ++i) EXPECT_LT(sequence.next(&split, 3), 3u);
}

}  // namespace
}  // namespace braid::dataplane::upstream
