#include "dataplane/upstream/load_balancer.h"

#include <algorithm>
#include <random>

#include "dataplane/upstream/outlier_detector.h"

namespace braid::dataplane::upstream {

uint64_t hashKey(std::string_view key) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  // FNV's low bits mix poorly for short keys that differ at the end: finalise.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

std::shared_ptr<ClusterLbState> LbStateStore::cluster(const std::string& name) {
  auto& slot = clusters_[name];
  if (!slot) slot = std::make_shared<ClusterLbState>();
  return slot;
}

void LbStateStore::retainOnly(const std::set<std::string>& names) {
  std::erase_if(clusters_, [&](const auto& entry) { return !names.contains(entry.first); });
}

LoadBalancer::LoadBalancer(const ClusterRuntime& cluster, std::shared_ptr<ClusterLbState> state)
    : cluster_(cluster), state_(std::move(state)) {
  std::unordered_map<std::string, std::shared_ptr<int64_t>> kept;
  for (const auto& endpoint : cluster_.endpoints) {
    auto& weight = state_->currentWeights[endpoint.key];
    if (!weight) weight = std::make_shared<int64_t>(0);
    currentWeights_.push_back(weight);
    kept[endpoint.key] = weight;
    if (endpoint.weight() != cluster_.endpoints.front().weight()) equalWeights_ = false;
  }
  // Endpoints that left the cluster drop out of the shared state (an older balancer still
  // holding them keeps its own references).
  state_->currentWeights = std::move(kept);
  if (cluster_.config->lbPolicy == LbPolicy::kRingHash) buildRing();
}

void LoadBalancer::buildRing() {
  uint64_t totalWeight = 0;
  for (const auto& endpoint : cluster_.endpoints) {
    if (endpoint.address) totalWeight += endpoint.weight();
  }
  if (totalWeight == 0) return;
  // Points per unit of weight do not depend on the other endpoints (Envoy divides minRingSize
  // among them, so a membership change also moves ~10 % of the keys between endpoints that
  // stayed): an endpoint joining or leaving moves its own keys only. minRingSize / 4 per unit
  // makes the ring at least minRingSize from four endpoints on; maxRingSize bounds the whole.
  uint64_t perWeight = std::max<uint64_t>(1, (cluster_.config->minRingSize + 3) / 4);
  perWeight =
      std::min(perWeight, std::max<uint64_t>(1, cluster_.config->maxRingSize / totalWeight));
  // Unhealthy endpoints keep their points (picks skip them), so health flapping moves only the
  // keys of the endpoint that flapped.
  ring_.reserve(perWeight * totalWeight);
  for (size_t i = 0; i < cluster_.endpoints.size(); ++i) {
    const auto& endpoint = cluster_.endpoints[i];
    if (!endpoint.address) continue;
    const uint64_t points = perWeight * endpoint.weight();
    for (uint64_t p = 0; p < points; ++p) {
      ring_.emplace_back(hashKey(endpoint.key + "_" + std::to_string(p)), static_cast<uint32_t>(i));
    }
  }
  std::sort(ring_.begin(), ring_.end());
}

uint64_t LoadBalancer::nextRandom() {
  uint64_t& x = state_->random;
  if (x == 0) {
    std::random_device device;
    x = (static_cast<uint64_t>(device()) << 32) ^ device() ^ reinterpret_cast<uintptr_t>(this);
    if (x == 0) x = 0x9e3779b97f4a7c15ull;
  }
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  return x * 0x2545f4914f6cdd1dull;
}

bool LoadBalancer::eligible(size_t index, std::span<const int> avoid) const {
  if (!cluster_.endpoints[index].usable()) return false;
  if (skipEjected_ && OutlierDetector::isEjected(*cluster_.endpoints[index].counters, now_)) {
    return false;
  }
  return std::find(avoid.begin(), avoid.end(), static_cast<int>(index)) == avoid.end();
}

int LoadBalancer::choose(std::span<const int> avoid, std::optional<uint64_t> hash) {
  switch (cluster_.config->lbPolicy) {
    case LbPolicy::kLeastRequest:
      return pickLeastRequest(avoid);
    case LbPolicy::kRandom:
      return pickRandom(avoid);
    case LbPolicy::kRingHash:
      return pickRingHash(avoid, hash);
    case LbPolicy::kRoundRobin:
      break;
  }
  return pickRoundRobin(avoid);
}

int LoadBalancer::pick(std::span<const int> tried, std::optional<uint64_t> hash) {
  if (cluster_.endpoints.empty()) return -1;
  skipEjected_ = cluster_.outlier != nullptr && cluster_.config->outlierDetection.enabled;
  if (skipEjected_) now_ = std::chrono::steady_clock::now();
  int chosen = choose(tried, hash);
  // Every usable endpoint has been tried: retry among all of them.
  if (chosen < 0 && !tried.empty()) chosen = choose({}, hash);
  // Every usable endpoint is ejected: use them anyway (Envoy's panic mode).
  if (chosen < 0 && skipEjected_) {
    skipEjected_ = false;
    chosen = choose(tried, hash);
    if (chosen < 0 && !tried.empty()) chosen = choose({}, hash);
  }
  return chosen;
}

int LoadBalancer::pickRandom(std::span<const int> avoid) {
  uint64_t total = 0;
  for (size_t i = 0; i < cluster_.endpoints.size(); ++i) {
    if (eligible(i, avoid)) total += cluster_.endpoints[i].weight();
  }
  if (total == 0) return -1;
  uint64_t point = nextRandom() % total;
  for (size_t i = 0; i < cluster_.endpoints.size(); ++i) {
    if (!eligible(i, avoid)) continue;
    uint64_t weight = cluster_.endpoints[i].weight();
    if (point < weight) return static_cast<int>(i);
    point -= weight;
  }
  return -1;
}

int LoadBalancer::pickRingHash(std::span<const int> avoid, std::optional<uint64_t> hash) {
  if (ring_.empty()) return -1;
  if (!hash) return pickRandom(avoid);
  auto start = std::lower_bound(ring_.begin(), ring_.end(), std::make_pair(*hash, uint32_t{0}));
  size_t first = static_cast<size_t>(start - ring_.begin());
  for (size_t step = 0; step < ring_.size(); ++step) {
    uint32_t index = ring_[(first + step) % ring_.size()].second;
    if (eligible(index, avoid)) return static_cast<int>(index);
  }
  return -1;
}

int LoadBalancer::pickRoundRobin(std::span<const int> avoid) {
  const size_t n = cluster_.endpoints.size();
  if (equalWeights_) {
    for (size_t step = 0; step < n; ++step) {
      size_t index = state_->cursor++ % n;
      if (eligible(index, avoid)) return static_cast<int>(index);
    }
    return -1;
  }
  // Smooth weighted round robin: every eligible endpoint gains its weight, the richest is picked
  // and pays the total back.
  int best = -1;
  int64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!eligible(i, avoid)) continue;
    int64_t weight = cluster_.endpoints[i].weight();
    *currentWeights_[i] += weight;
    total += weight;
    if (best < 0 || *currentWeights_[i] > *currentWeights_[static_cast<size_t>(best)]) {
      best = static_cast<int>(i);
    }
  }
  if (best >= 0) *currentWeights_[static_cast<size_t>(best)] -= total;
  return best;
}

int LoadBalancer::pickLeastRequest(std::span<const int> avoid) {
  const size_t n = cluster_.endpoints.size();
  const size_t choices = cluster_.config->choiceCount;
  if (choices >= 2 && n > choices) {
    // Power of `choices` choices: compare a few random eligible endpoints.
    int best = -1;
    uint64_t bestLoad = 0, bestWeight = 1;
    for (size_t tries = 0, found = 0; found < choices && tries < 4 * choices; ++tries) {
      size_t i = static_cast<size_t>(nextRandom() % n);
      if (!eligible(i, avoid)) continue;
      ++found;
      const auto& endpoint = cluster_.endpoints[i];
      uint64_t load = endpoint.counters->active.load(std::memory_order_relaxed) +
                      endpoint.counters->requests.load(std::memory_order_relaxed) + 1;
      uint64_t weight = endpoint.weight();
      if (best < 0 || load * bestWeight < bestLoad * weight) {
        best = static_cast<int>(i);
        bestLoad = load;
        bestWeight = weight;
      }
    }
    if (best >= 0) return best;
    // Eligible endpoints are rare: the full scan below finds one if there is any.
  }
  const size_t start = state_->cursor++ % n;
  int best = -1;
  uint64_t bestLoad = 0;
  uint64_t bestWeight = 1;
  for (size_t step = 0; step < n; ++step) {
    size_t i = (start + step) % n;
    if (!eligible(i, avoid)) continue;
    const auto& endpoint = cluster_.endpoints[i];
    uint64_t load = endpoint.counters->active.load(std::memory_order_relaxed) +
                    endpoint.counters->requests.load(std::memory_order_relaxed) + 1;
    uint64_t weight = endpoint.weight();
    // load/weight < bestLoad/bestWeight, without division.
    if (best < 0 || load * bestWeight < bestLoad * weight) {
      best = static_cast<int>(i);
      bestLoad = load;
      bestWeight = weight;
    }
  }
  return best;
}

}  // namespace braid::dataplane::upstream
