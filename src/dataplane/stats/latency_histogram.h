#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace braid::dataplane {

// A latency histogram with fixed bucket bounds, recorded by any thread without a lock (relaxed
// atomics: a scrape may see a record's bucket before its sum, never a torn count) and rendered
// as a Prometheus histogram in milliseconds.
class LatencyHistogram {
 public:
  // Upper bounds in milliseconds, Envoy's default buckets; a value equal to a bound falls into
  // that bound's bucket (Prometheus `le`). Larger values fall into the implicit +Inf bucket.
  static constexpr std::array<double, 19> kBoundsMs = {
      0.5,  1,    5,     10,    25,    50,     100,    250,     500,    1000,
      2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
  static constexpr size_t kBuckets = kBoundsMs.size() + 1;  // the last one is +Inf

  // A binary search over the bounds and two relaxed fetch_adds. Negative durations count as 0.
  void record(std::chrono::microseconds duration);

  // The bucket a duration falls into: the index of the first bound >= it, kBoundsMs.size() for
  // +Inf.
  static size_t bucketOf(std::chrono::microseconds duration);

  // Counts per bucket (not cumulative) and the sum, read at one moment per field.
  struct Snapshot {
    std::array<uint64_t, kBuckets> buckets{};
    uint64_t sumMicros = 0;
    uint64_t count() const;
  };
  Snapshot snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> sumMicros_{0};
};

namespace prometheus {

// "<name>_bucket{<labels>,le="..."} <cumulative>\n" for every bound and +Inf, then
// "<name>_sum{<labels>} <ms>\n" and "<name>_count{<labels>} <n>\n". `labels` is the text inside
// the braces without them (`cluster="web"`), already escaped; _count is the +Inf bucket's count,
// so the two always agree.
void appendHistogram(std::string& out, std::string_view name, std::string_view labels,
                     const LatencyHistogram::Snapshot& histogram);

}  // namespace prometheus
}  // namespace braid::dataplane
