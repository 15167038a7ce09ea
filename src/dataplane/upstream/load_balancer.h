#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dataplane/upstream/cluster_runtime.h"

namespace braid::dataplane::upstream {

// Round-robin state of one cluster on one worker. It outlives snapshots, so a configuration
// push does not restart the rotation; smooth weighted round-robin keeps one running weight per
// endpoint address.
struct ClusterLbState {
  uint64_t cursor = 0;
  uint64_t random = 0;  // xorshift64* state (Random, LeastRequest sampling); seeded on first use
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

// The hash a hashing balancer places keys with (FNV-1a, then MurmurHash3's 64-bit finaliser):
// stable across processes and versions, so every braid-dp sends a key to the same endpoint.
uint64_t hashKey(std::string_view key);

// Picks endpoints of one cluster for one worker and one snapshot. Only usable endpoints (healthy,
// with an IP address) are picked, and not endpoints the outlier detector ejected while another
// usable one exists (outlier_detector.h).
//  - Round robin: plain rotation when all weights are equal, else smooth weighted round robin
//    (each endpoint gets its weight's share, interleaved).
//  - Least request: the endpoint with the fewest active connections per unit of weight, counted
//    over all workers; ties rotate. With choiceCount set (MeshLoadBalancingStrategy) and more
//    endpoints than that, only choiceCount random ones are compared (Envoy's P2C).
//  - Random: each pick uniform by weight.
//  - Ring hash (Maglev too): every endpoint with an address owns minRingSize / 4 points per unit
//    of weight (the ring at most maxRingSize), placed by hashKey("<ip:port>_i");
//    a key takes the first point at or after hashKey(key) whose endpoint is eligible. A key keeps
//    its endpoint while that endpoint stays, and when an endpoint joins or leaves only the keys
//    of its points (~1/N) move. Without a key a pick is random.
// Loop thread only.
class LoadBalancer {
 public:
  LoadBalancer(const ClusterRuntime& cluster, std::shared_ptr<ClusterLbState> state);

  const ClusterRuntime& cluster() const { return cluster_; }
  // The index of the endpoint for the next connection attempt, -1 when no endpoint is usable.
  // Endpoints in `tried` are avoided while another usable one exists.
  // `hash`: the request's or connection's key for a hashing balancer (hashKey()); others
  // ignore it.
  int pick(std::span<const int> tried, std::optional<uint64_t> hash = std::nullopt);
  bool hashing() const { return cluster_.config->lbPolicy == LbPolicy::kRingHash; }

 private:
  int pickRoundRobin(std::span<const int> avoid);
  int pickLeastRequest(std::span<const int> avoid);
  int pickRandom(std::span<const int> avoid);
  int pickRingHash(std::span<const int> avoid, std::optional<uint64_t> hash);
  int choose(std::span<const int> avoid, std::optional<uint64_t> hash);
  bool eligible(size_t index, std::span<const int> avoid) const;
  uint64_t nextRandom();
  void buildRing();

  const ClusterRuntime& cluster_;
  std::shared_ptr<ClusterLbState> state_;
  std::vector<std::shared_ptr<int64_t>> currentWeights_;  // parallel to the endpoints
  bool equalWeights_ = true;
  // Ring hash: (point, endpoint index) sorted by point.
  std::vector<std::pair<uint64_t, uint32_t>> ring_;
  // Set during a pick when the cluster has outlier detection: ejected endpoints are skipped.
  bool skipEjected_ = false;
  std::chrono::steady_clock::time_point now_;
};

}  // namespace braid::dataplane::upstream
