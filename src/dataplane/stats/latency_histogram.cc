#include "dataplane/stats/latency_histogram.h"

#include <algorithm>
#include <cstdio>

namespace braid::dataplane {
namespace {

// The bounds in microseconds, so that recording compares integers.
constexpr std::array<int64_t, LatencyHistogram::kBoundsMs.size()> boundsMicros() {
  std::array<int64_t, LatencyHistogram::kBoundsMs.size()> micros{};
  for (size_t i = 0; i < micros.size(); ++i) {
    micros[i] = static_cast<int64_t>(LatencyHistogram::kBoundsMs[i] * 1000);
  }
  return micros;
}
constexpr auto kBoundsMicros = boundsMicros();

// Shortest text of a bound or a sum in milliseconds: "0.5", "1", "2.125".
std::string formatMs(double ms) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3f", ms);
  std::string out(text);
  out.erase(out.find_last_not_of('0') + 1);
  if (out.back() == '.') out.pop_back();
  return out;
}

}  // namespace

size_t LatencyHistogram::bucketOf(std::chrono::microseconds duration) {
  const int64_t micros = std::max<int64_t>(duration.count(), 0);
  return static_cast<size_t>(std::lower_bound(kBoundsMicros.begin(), kBoundsMicros.end(), micros) -
                             kBoundsMicros.begin());
}

void LatencyHistogram::record(std::chrono::microseconds duration) {
  buckets_[bucketOf(duration)].fetch_add(1, std::memory_order_relaxed);
  sumMicros_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(duration.count(), 0)),
                       std::memory_order_relaxed);
}

uint64_t LatencyHistogram::Snapshot::count() const {
  uint64_t total = 0;
  for (uint64_t bucket : buckets) total += bucket;
  return total;
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot out;
  for (size_t i = 0; i < kBuckets; ++i)
    out.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  out.sumMicros = sumMicros_.load(std::memory_order_relaxed);
  return out;
}

namespace prometheus {

void appendHistogram(std::string& out, std::string_view name, std::string_view labels,
                     const LatencyHistogram::Snapshot& histogram) {
  const std::string separator = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    cumulative += histogram.buckets[i];
    const std::string le = i < LatencyHistogram::kBoundsMs.size()
                               ? formatMs(LatencyHistogram::kBoundsMs[i])
                               : std::string("+Inf");
    out.append(name).append("_bucket{").append(labels).append(separator);
    out.append("le=\"").append(le).append("\"} ").append(std::to_string(cumulative)).append("\n");
  }
  const std::string braced = labels.empty() ? "" : "{" + std::string(labels) + "}";
  out.append(name).append("_sum").append(braced).append(" ");
  out.append(formatMs(static_cast<double>(histogram.sumMicros) / 1000)).append("\n");
  out.append(name).append("_count").append(braced).append(" ");
  out.append(std::to_string(cumulative)).append("\n");
}

}  // namespace prometheus
}  // namespace braid::dataplane
