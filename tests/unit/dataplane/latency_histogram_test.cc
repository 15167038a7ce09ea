#include "dataplane/stats/latency_histogram.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>
#include <vector>

namespace braid::dataplane {
namespace {

using std::chrono::microseconds;

TEST(LatencyHistogramTest, AValueOnABoundFallsIntoThatBoundsBucket) {
  EXPECT_EQ(LatencyHistogram::bucketOf(microseconds(0)), 0u);
  EXPECT_EQ(LatencyHistogram::bucketOf(microseconds(-5)), 0u);
  EXPECT_EQ(LatencyHistogram::bucketOf(microseconds(500)), 0u);  // le="0.5"
  EXPECT_EQ(LatencyHistogram::bucketOf(microseconds(501)), 1u);  // le="1"
  EXPECT_EQ(LatencyHistogram::bucketOf(microseconds(1000)), 1u);
  EXPECT_EQ(LatencyHistogram::bucketOf(microseconds(1001)), 2u);            // le="5"
  EXPECT_EQ(LatencyHistogram::bucketOf(microseconds(250'000)), 7u);         // le="250"
  EXPECT_EQ(LatencyHistogram::bucketOf(microseconds(3'600'000'000)), 18u);  // le="3600000"
  EXPECT_EQ(LatencyHistogram::bucketOf(microseconds(3'600'000'001)), 19u);  // +Inf
}

// Parses "<name>_bucket{...,le="X"} N" lines of a rendering into (X, N) in order.
std::vector<std::pair<std::string, uint64_t>> buckets(const std::string& text) {
  std::vector<std::pair<std::string, uint64_t>> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t le = line.find("le=\"");
    if (line.find("_bucket{") == std::string::npos || le == std::string::npos) continue;
    size_t close = line.find('"', le + 4);
    out.emplace_back(line.substr(le + 4, close - le - 4), std::stoull(line.substr(close + 3)));
  }
  return out;
}

TEST(LatencyHistogramTest, RendersCumulativeBucketsSumAndCount) {
  LatencyHistogram histogram;
  histogram.record(microseconds(300));            // 0.3 ms: le 0.5
  histogram.record(microseconds(500));            // 0.5 ms: le 0.5
  histogram.record(microseconds(7'250));          // 7.25 ms: le 10
  histogram.record(microseconds(7'000'000));      // 7 s: le 10000
  histogram.record(microseconds(4'000'000'000));  // past the last bound: +Inf only
  std::string text;
  prometheus::appendHistogram(text, "braid_dp_x_ms", "cluster=\"web\"", histogram.snapshot());

  auto rendered = buckets(text);
  ASSERT_EQ(rendered.size(), LatencyHistogram::kBuckets) << text;
  EXPECT_EQ(rendered[0], (std::pair<std::string, uint64_t>("0.5", 2)));
  EXPECT_EQ(rendered[1], (std::pair<std::string, uint64_t>("1", 2)));
  EXPECT_EQ(rendered[3], (std::pair<std::string, uint64_t>("10", 3)));
  EXPECT_EQ(rendered[12], (std::pair<std::string, uint64_t>("10000", 4)));
  EXPECT_EQ(rendered[18], (std::pair<std::string, uint64_t>("3600000", 4)));
  EXPECT_EQ(rendered[19], (std::pair<std::string, uint64_t>("+Inf", 5)));
  for (size_t i = 1; i < rendered.size(); ++i) {
    EXPECT_GE(rendered[i].second, rendered[i - 1].second) << "not cumulative at " << i;
  }
  EXPECT_NE(text.find("braid_dp_x_ms_bucket{cluster=\"web\",le=\"0.5\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("braid_dp_x_ms_sum{cluster=\"web\"} 4007008.05\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("braid_dp_x_ms_count{cluster=\"web\"} 5\n"), std::string::npos) << text;
}

TEST(LatencyHistogramTest, WithoutLabelsTheSeriesHaveNoBraces) {
  LatencyHistogram histogram;
  histogram.record(microseconds(2'000));
  std::string text;
  prometheus::appendHistogram(text, "h", "", histogram.snapshot());
  EXPECT_NE(text.find("h_bucket{le=\"5\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_sum 2\nh_count 1\n"), std::string::npos) << text;
}

TEST(LatencyHistogramTest, ConcurrentRecordsAllCount) {
  LatencyHistogram histogram;
  constexpr int kPerThread = 200'000;
  auto work = [&](int64_t micros) {
    for (int i = 0; i < kPerThread; ++i) histogram.record(microseconds(micros));
  };
  std::thread first(work, 700);      // le 1
  std::thread second(work, 20'000);  // le 25
  first.join();
  second.join();
  auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count(), 2u * kPerThread);
  EXPECT_EQ(snapshot.buckets[1], uint64_t{kPerThread});
  EXPECT_EQ(snapshot.buckets[4], uint64_t{kPerThread});
  EXPECT_EQ(snapshot.sumMicros, uint64_t{kPerThread} * (700 + 20'000));
}

}  // namespace
}  // namespace braid::dataplane
