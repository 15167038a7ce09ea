#include "dataplane/upstream/load_balancer.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "dataplane/upstream/endpoint_registry.h"

namespace braid::dataplane::upstream {
namespace {

// A cluster and its resolved form, as the main thread would build them.
struct Fixture {
  ClusterConfig config;
  ClusterRuntime runtime;
  EndpointRegistry registry;

  Fixture(LbPolicy policy, const std::vector<std::pair<uint16_t, uint32_t>>& endpoints) {
    config.name = "backend";
    config.lbPolicy = policy;
    for (auto [port, weight] : endpoints) {
      EndpointConfig endpoint;
      endpoint.address = {"127.0.0.1", port};
      endpoint.weight = weight;
      config.endpoints.push_back(endpoint);
    }
    resolveRuntime();
  }

  void resolveRuntime() {
    runtime = ClusterRuntime();
    runtime.config = &config;
    runtime.counters = std::make_shared<ClusterCounters>();
    for (const auto& endpoint : config.endpoints) {
      EndpointRuntime resolved;
      resolved.config = &endpoint;
      resolved.address = network::resolve(endpoint.address);
      resolved.key = network::formatAddress(endpoint.address);
      resolved.counters = registry.get(config.name, resolved.key);
      runtime.endpoints.push_back(resolved);
    }
  }
};

std::string sequence(LoadBalancer& balancer, int picks) {
  std::string out;
  for (int i = 0; i < picks; ++i) out += static_cast<char>('a' + balancer.pick({}));
  return out;
}

TEST(LoadBalancerTest, RoundRobinRotatesOverEqualWeights) {
  Fixture f(LbPolicy::kRoundRobin, {{1, 1}, {2, 1}, {3, 1}});
  LbStateStore store;
  LoadBalancer balancer(f.runtime, store.cluster("backend"));
  EXPECT_EQ(sequence(balancer, 7), "abcabca");
}

TEST(LoadBalancerTest, SmoothWeightedRoundRobinInterleaves) {
  Fixture f(LbPolicy::kRoundRobin, {{1, 5}, {2, 1}, {3, 1}});
  LbStateStore store;
  LoadBalancer balancer(f.runtime, store.cluster("backend"));
  // nginx's smooth weighted round robin for 5/1/1.
  EXPECT_EQ(sequence(balancer, 14), "aabacaaaabacaa");
}

TEST(LoadBalancerTest, SkipsUnhealthyEndpointsAndReportsNone) {
  Fixture f(LbPolicy::kRoundRobin, {{1, 1}, {2, 1}, {3, 1}});
  f.config.endpoints[1].healthy = false;
  LbStateStore store;
  LoadBalancer balancer(f.runtime, store.cluster("backend"));
  EXPECT_EQ(sequence(balancer, 4), "acac");
  f.config.endpoints[0].healthy = false;
  f.config.endpoints[2].healthy = false;
  EXPECT_EQ(balancer.pick({}), -1);
}

TEST(LoadBalancerTest, EndpointsThatAreNotIpAddressesAreNeverPicked) {
  Fixture f(LbPolicy::kRoundRobin, {{1, 1}, {2, 1}});
  f.config.endpoints[0].address.ip = "backend.local";
  f.resolveRuntime();
  LbStateStore store;
  LoadBalancer balancer(f.runtime, store.cluster("backend"));
  EXPECT_EQ(sequence(balancer, 3), "bbb");
}

TEST(LoadBalancerTest, AvoidsTriedEndpointsWhileOthersRemain) {
  Fixture f(LbPolicy::kRoundRobin, {{1, 1}, {2, 1}, {3, 1}});
  LbStateStore store;
  LoadBalancer balancer(f.runtime, store.cluster("backend"));
  std::vector<int> tried = {0, 1};
  EXPECT_EQ(balancer.pick(tried), 2);
  tried = {0, 1, 2};
  EXPECT_GE(balancer.pick(tried), 0);  // all tried: any one again
}

TEST(LoadBalancerTest, LeastRequestPrefersTheLeastLoadedPerWeight) {
  Fixture f(LbPolicy::kLeastRequest, {{1, 1}, {2, 1}, {3, 1}});
  LbStateStore store;
  LoadBalancer balancer(f.runtime, store.cluster("backend"));
  f.runtime.endpoints[0].counters->active = 3;
  f.runtime.endpoints[1].counters->active = 1;
  f.runtime.endpoints[2].counters->active = 2;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(balancer.pick({}), 1);
  std::vector<int> tried = {1};
  EXPECT_EQ(balancer.pick(tried), 2);
}

TEST(LoadBalancerTest, LeastRequestWeighsLoad) {
  Fixture f(LbPolicy::kLeastRequest, {{1, 4}, {2, 1}});
  LbStateStore store;
  LoadBalancer balancer(f.runtime, store.cluster("backend"));
  // (3+1)/4 = 1 beats (1+1)/1 = 2.
  f.runtime.endpoints[0].counters->active = 3;
  f.runtime.endpoints[1].counters->active = 1;
  EXPECT_EQ(balancer.pick({}), 0);
}

TEST(LoadBalancerTest, LeastRequestRotatesTies) {
  Fixture f(LbPolicy::kLeastRequest, {{1, 1}, {2, 1}});
  LbStateStore store;
  LoadBalancer balancer(f.runtime, store.cluster("backend"));
  std::map<int, int> picks;
  for (int i = 0; i < 10; ++i) ++picks[balancer.pick({})];
  EXPECT_EQ(picks[0], 5);
  EXPECT_EQ(picks[1], 5);
}

TEST(LoadBalancerTest, RotationSurvivesANewSnapshotOfTheSameCluster) {
  Fixture f(LbPolicy::kRoundRobin, {{1, 2}, {2, 1}});
  LbStateStore store;
  LoadBalancer first(f.runtime, store.cluster("backend"));
  EXPECT_EQ(sequence(first, 2), "ab");
  // The next snapshot adds an endpoint; the running weights of the others carry over.
  Fixture g(LbPolicy::kRoundRobin, {{1, 2}, {2, 1}, {3, 3}});
  LoadBalancer second(g.runtime, store.cluster("backend"));
  Fixture fresh(LbPolicy::kRoundRobin, {{1, 2}, {2, 1}, {3, 3}});
  LbStateStore freshStore;
  LoadBalancer reference(fresh.runtime, freshStore.cluster("backend"));
  // From a clean start "a" would come first; carried-over weights make it "c".
  EXPECT_EQ(sequence(reference, 1), "c");
  std::string carried = sequence(second, 6);
  EXPECT_EQ(std::count(carried.begin(), carried.end(), 'a'), 2);
  EXPECT_EQ(std::count(carried.begin(), carried.end(), 'b'), 1);
  EXPECT_EQ(std::count(carried.begin(), carried.end(), 'c'), 3);
}

TEST(LoadBalancerTest, StoreForgetsClustersThatLeft) {
  LbStateStore store;
  auto kept = store.cluster("a");
  kept->cursor = 7;
  store.cluster("b")->cursor = 9;
  store.retainOnly({"a"});
  EXPECT_EQ(store.cluster("a")->cursor, 7u);
  EXPECT_EQ(store.cluster("b")->cursor, 0u);
}

}  // namespace
}  // namespace braid::dataplane::upstream
