#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/upstream/cluster_runtime.h"

namespace braid::dataplane::upstream {

// Round-robin state of one cluster on one worker. It outlives snapshots, so a configuration
// push does not restart the rotation; smooth weighted round-robin keeps one running weight per
// endpoint address.
struct ClusterLbState {
  uint64_t cursor = 0;
  std::unordered_map<std::string, std::shared_ptr<int64_t>> currentWeights;
};

// Per-worker store of ClusterLbState by cluster name. Loop thread only.
class LbStateStore {
 public:
  std::shared_ptr<ClusterLbState> cluster(const std::string& name);
  // Forgets clusters not in `names` (load balancers still in use keep their state alive).
  void retainOnly(const std::set<std::string>& names);

 private:
  std::map<std::string, std::shared_ptr<ClusterLbState>> clusters_;
};

// Picks endpoints of one cluster for one worker and one snapshot. Only usable endpoints (healthy,
// with an IP address) are picked.
//  - Round robin: plain rotation when all weights are equal, else smooth weighted round robin
//    (each endpoint gets its weight's share, interleaved).
//  - Least request: the endpoint with the fewest active connections per unit of weight, counted
//    over all workers; ties rotate.
// Loop thread only.
class LoadBalancer {
 public:
  LoadBalancer(const ClusterRuntime& cluster, std::shared_ptr<ClusterLbState> state);

  const ClusterRuntime& cluster() const { return cluster_; }
  // The index of the endpoint for the next connection attempt, -1 when no endpoint is usable.
  // Endpoints in `tried` are avoided while another usable one exists.
  int pick(std::span<const int> tried);

 private:
  int pickRoundRobin(std::span<const int> avoid);
  int pickLeastRequest(std::span<const int> avoid);
  bool eligible(size_t index, std::span<const int> avoid) const;

  const ClusterRuntime& cluster_;
  std::shared_ptr<ClusterLbState> state_;
  std::vector<std::shared_ptr<int64_t>> currentWeights_;  // parallel to the endpoints
  bool equalWeights_ = true;
};

}  // namespace braid::dataplane::upstream
