#include "dataplane/upstream/load_balancer.h"

#include <algorithm>

namespace braid::dataplane::upstream {

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
}

bool LoadBalancer::eligible(size_t index, std::span<const int> avoid) const {
  if (!cluster_.endpoints[index].usable()) return false;
  return std::find(avoid.begin(), avoid.end(), static_cast<int>(index)) == avoid.end();
}

int LoadBalancer::pick(std::span<const int> tried) {
  if (cluster_.endpoints.empty()) return -1;
  auto choose = [&](std::span<const int> avoid) {
    return cluster_.config->lbPolicy == LbPolicy::kLeastRequest ? pickLeastRequest(avoid)
                                                                : pickRoundRobin(avoid);
  };
  int chosen = choose(tried);
  // Every usable endpoint has been tried: retry among all of them.
  if (chosen < 0 && !tried.empty()) chosen = choose({});
  return chosen;
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
  const size_t start = state_->cursor++ % n;
  int best = -1;
  uint64_t bestLoad = 0;
  uint64_t bestWeight = 1;
  for (size_t step = 0; step < n; ++step) {
    size_t i = (start + step) % n;
    if (!eligible(i, avoid)) continue;
    const auto& endpoint = cluster_.endpoints[i];
    uint64_t load = endpoint.counters->active.load(std::memory_order_relaxed) + 1;
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
