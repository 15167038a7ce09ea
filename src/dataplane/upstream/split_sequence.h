#pragma once

// Which cluster of a weighted split (MeshHTTPRoute backendRefs, MeshTCPRoute) takes the next
// request or connection. Not random: the n-th pick of a split takes the point frac(n·φ) of
// [0, totalWeight) — a golden-ratio sequence, equidistributed with discrepancy O(log n / n) — so
// over 1,000 picks each cluster's share is within about a point of its weight. The contract's
// 3 points then hold every time, where independent random picks miss them about once in 50 runs.
// One per worker (no locking); counted per split, keyed by the split's address in the snapshot.

#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace braid::dataplane::upstream {

class SplitSequence {
 public:
  uint64_t next(const void* split, uint64_t totalWeight) {
    if (totalWeight == 0) return 0;
    // Bounded: snapshots come and go; forgetting only restarts a sequence.
    if (counters_.size() > kMaxSplits) counters_.clear();
    uint64_t n = ++counters_[split];
    double position = static_cast<double>(n) * kGoldenRatioConjugate;
    position -= static_cast<double>(static_cast<uint64_t>(position));
    uint64_t point = static_cast<uint64_t>(position * static_cast<double>(totalWeight));
    return point < totalWeight ? point : totalWeight - 1;
  }

 private:
  static constexpr double kGoldenRatioConjugate = 0.6180339887498949;
  static constexpr size_t kMaxSplits = 4096;
  std::unordered_map<const void*, uint64_t> counters_;
};

}  // namespace braid::dataplane::upstream
