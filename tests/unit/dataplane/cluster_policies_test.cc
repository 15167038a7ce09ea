// Cluster policies on the data path: Random and RingHash balancing (unit and through a
// WorkerPool), MeshCircuitBreaker maxConnections and outlier detection, MeshRetry tcp
// maxConnectAttempt and MeshTimeout idleTimeout, with real sockets on 127.0.0.1.

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/server/worker_pool.h"
#include "dataplane/stats/stats.h"
#include "dataplane/upstream/endpoint_registry.h"
#include "dataplane/upstream/load_balancer.h"
#include "dataplane/upstream/outlier_detector.h"
#include "test_support.h"

namespace braid::dataplane {
namespace {

using namespace test_support;  // NOLINT: the test helpers
using upstream::LoadBalancer;

// A cluster resolved as the main thread would, for balancer unit tests.
struct Resolved {
  ClusterConfig config;
  upstream::ClusterRuntime runtime;
  upstream::EndpointRegistry registry;

  Resolved(LbPolicy policy, int endpoints) {
    config.name = "backend";
    config.lbPolicy = policy;
    for (int i = 0; i < endpoints; ++i) add(static_cast<uint16_t>(1000 + i));
  }
  void add(uint16_t port) {
    EndpointConfig endpoint;
    endpoint.address = {"127.0.0.1", port};
    config.endpoints.push_back(endpoint);
  }
  void resolve() {
    runtime = upstream::ClusterRuntime();
    runtime.config = &config;
    runtime.counters = std::make_shared<ClusterCounters>();
    runtime.outlier = registry.outlier(config.name);
    for (const auto& endpoint : config.endpoints) {
      upstream::EndpointRuntime r;
      r.config = &endpoint;
      r.address = network::resolve(endpoint.address);
      r.key = network::formatAddress(endpoint.address);
      r.counters = registry.get(config.name, r.key);
      runtime.endpoints.push_back(r);
    }
  }
  uint16_t portOf(int index) const {
    return config.endpoints[static_cast<size_t>(index)].address.port;
  }
};

TEST(RandomBalancerTest, SpreadsEvenlyAndHonoursWeights) {
  Resolved r(LbPolicy::kRandom, 3);
  r.config.endpoints[2].weight = 2;
  r.resolve();
  upstream::LbStateStore store;
  LoadBalancer balancer(r.runtime, store.cluster("backend"));
  std::map<int, int> seen;
  const int picks = 40000;
  for (int i = 0; i < picks; ++i) ++seen[balancer.pick({})];
  // Shares 1/4, 1/4, 1/2: each within 2 points.
  EXPECT_NEAR(seen[0] / double(picks), 0.25, 0.02);
  EXPECT_NEAR(seen[1] / double(picks), 0.25, 0.02);
  EXPECT_NEAR(seen[2] / double(picks), 0.50, 0.02);
}

TEST(LeastRequestBalancerTest, ChoiceCountSamplesThatManyEndpoints) {
  Resolved r(LbPolicy::kLeastRequest, 4);
  r.config.choiceCount = 2;
  r.resolve();
  for (int i = 0; i < 4; ++i) r.runtime.endpoints[static_cast<size_t>(i)].counters->active = i;
  upstream::LbStateStore store;
  LoadBalancer balancer(r.runtime, store.cluster("backend"));
  std::map<int, int> seen;
  const int picks = 16000;
  for (int i = 0; i < picks; ++i) ++seen[balancer.pick({})];
  // Two samples with replacement: the least loaded wins unless neither sample is it (7/16);
  // the most loaded only when both samples are it (1/16). A full scan would always pick 0.
  EXPECT_NEAR(seen[0] / double(picks), 7.0 / 16, 0.03);
  EXPECT_NEAR(seen[3] / double(picks), 1.0 / 16, 0.02);
}

TEST(RingHashBalancerTest, SameKeySameEndpointAndEvenSpread) {
  Resolved r(LbPolicy::kRingHash, 4);
  r.resolve();
  upstream::LbStateStore store;
  LoadBalancer balancer(r.runtime, store.cluster("backend"));
  std::map<int, int> seen;
  for (int key = 0; key < 4000; ++key) {
    uint64_t hash =
        upstream::hashKey("10.0." + std::to_string(key / 256) + "." + std::to_string(key % 256));
    int first = balancer.pick({}, hash);
    ASSERT_GE(first, 0);
    for (int again = 0; again < 3; ++again) ASSERT_EQ(balancer.pick({}, hash), first);
    ++seen[first];
  }
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(seen[i] / 4000.0, 0.25, 0.06) << "endpoint " << i;
}

// Keys by endpoint port, for `keys` keys.
std::vector<uint16_t> placement(Resolved& r, int keys) {
  r.resolve();
  upstream::LbStateStore store;
  LoadBalancer balancer(r.runtime, store.cluster("backend"));
  std::vector<uint16_t> out;
  for (int key = 0; key < keys; ++key) {
    out.push_back(r.portOf(balancer.pick({}, upstream::hashKey("user-" + std::to_string(key)))));
  }
  return out;
}

// An endpoint's points do not depend on the others: only the keys of the endpoint that leaves
// (or that the one joining takes) move, ~1/N of them.
TEST(RingHashBalancerTest, AboutOneNthOfTheKeysMoveWhenAnEndpointLeavesOrJoins) {
  const int keys = 10000;
  Resolved r(LbPolicy::kRingHash, 4);
  auto before = placement(r, keys);
  // One endpoint leaves: all its keys move, and few others.
  Resolved smaller(LbPolicy::kRingHash, 0);
  for (int i : {0, 1, 3}) smaller.add(r.portOf(i));
  auto after = placement(smaller, keys);
  int moved = 0, bystanders = 0;
  for (int k = 0; k < keys; ++k) {
    if (before[k] == r.portOf(2)) {
      EXPECT_NE(after[k], r.portOf(2));
    }
    if (after[k] == before[k]) continue;
    ++moved;
    if (before[k] != r.portOf(2)) ++bystanders;
  }
  std::printf("endpoint left (4 -> 3): %.1f %% of keys moved, %.1f %% of them bystanders\n",
              100.0 * moved / keys, 100.0 * bystanders / keys);
  EXPECT_NEAR(moved / double(keys), 0.25, 0.06);
  EXPECT_EQ(bystanders, 0);
  // One endpoint joins: about a fifth of the keys move, nearly all of them to it.
  Resolved larger(LbPolicy::kRingHash, 5);
  auto grown = placement(larger, keys);
  int joined = 0, elsewhere = 0;
  for (int k = 0; k < keys; ++k) {
    if (grown[k] == before[k]) continue;
    ++joined;
    if (grown[k] != larger.portOf(4)) ++elsewhere;
  }
  std::printf("endpoint joined (4 -> 5): %.1f %% of keys moved, %.1f %% not to it\n",
              100.0 * joined / keys, 100.0 * elsewhere / keys);
  EXPECT_NEAR(joined / double(keys), 0.20, 0.06);
  EXPECT_EQ(elsewhere, 0);
}

TEST(RingHashBalancerTest, UnhealthyEndpointKeysGoElsewhereOthersStay) {
  const int keys = 2000;
  Resolved r(LbPolicy::kRingHash, 3);
  auto before = placement(r, keys);
  r.config.endpoints[1].healthy = false;
  auto after = placement(r, keys);
  for (int k = 0; k < keys; ++k) {
    if (before[k] == r.portOf(1)) {
      EXPECT_NE(after[k], r.portOf(1));
    } else {
      EXPECT_EQ(after[k], before[k]);
    }
  }
}

TEST(OutlierDetectorTest, EjectsAfterConsecutiveFailuresWithinTheMaxPercent) {
  Resolved r(LbPolicy::kRoundRobin, 4);
  r.config.outlierDetection.enabled = true;
  r.config.outlierDetection.consecutive5xx = 3;
  r.config.outlierDetection.maxEjectionPercent = 50;
  r.config.outlierDetection.baseEjectionTime = std::chrono::milliseconds(1000);
  r.resolve();
  auto& detector = *r.runtime.outlier;
  auto t0 = std::chrono::steady_clock::now();
  using upstream::UpstreamResult;
  // Two failures, a success: the run starts again.
  detector.record(r.runtime, 0, UpstreamResult::kServerError, t0);
  detector.record(r.runtime, 0, UpstreamResult::kGatewayError, t0);
  detector.record(r.runtime, 0, UpstreamResult::kSuccess, t0);
  detector.record(r.runtime, 0, UpstreamResult::kLocalOriginFailure, t0);
  detector.record(r.runtime, 0, UpstreamResult::kLocalOriginFailure, t0);
  EXPECT_FALSE(upstream::OutlierDetector::isEjected(*r.runtime.endpoints[0].counters, t0));
  detector.record(r.runtime, 0, UpstreamResult::kLocalOriginFailure, t0);
  EXPECT_TRUE(upstream::OutlierDetector::isEjected(*r.runtime.endpoints[0].counters, t0));
  // 50 % of 4: a second endpoint may go, a third may not.
  for (size_t e : {1, 2}) {
    for (int i = 0; i < 3; ++i) detector.record(r.runtime, e, UpstreamResult::kServerError, t0);
  }
  EXPECT_EQ(upstream::OutlierDetector::ejectedCount(r.runtime, t0), 2u);
  EXPECT_EQ(detector.ejectionsOverflow.load(), 1u);
  // Back after the base time; the second ejection in a row lasts twice as long.
  auto t1 = t0 + std::chrono::milliseconds(1001);
  EXPECT_FALSE(upstream::OutlierDetector::isEjected(*r.runtime.endpoints[0].counters, t1));
  for (int i = 0; i < 3; ++i) detector.record(r.runtime, 0, UpstreamResult::kServerError, t1);
  EXPECT_TRUE(upstream::OutlierDetector::isEjected(*r.runtime.endpoints[0].counters,
                                                   t1 + std::chrono::milliseconds(1500)));
  EXPECT_FALSE(upstream::OutlierDetector::isEjected(*r.runtime.endpoints[0].counters,
                                                    t1 + std::chrono::milliseconds(2001)));
  // The balancer skips ejected endpoints (0 and 1 at t1+1 s are: 0 again, 1 still).
  upstream::LbStateStore store;
  LoadBalancer balancer(r.runtime, store.cluster("backend"));
  std::set<int> picked;
  for (int i = 0; i < 8; ++i) picked.insert(balancer.pick({}));
  EXPECT_EQ(picked, (std::set<int>{2, 3}));
}

TEST(OutlierDetectorTest, SplitLocalOriginErrorsCountOnlyForTheirDetector) {
  Resolved r(LbPolicy::kRoundRobin, 2);
  r.config.outlierDetection.enabled = true;
  r.config.outlierDetection.splitExternalLocalErrors = true;
  r.config.outlierDetection.consecutiveGatewayFailure = 2;
  r.config.outlierDetection.consecutiveLocalOriginFailure = 4;
  r.resolve();
  auto now = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    r.runtime.outlier->record(r.runtime, 0, upstream::UpstreamResult::kLocalOriginFailure, now);
  }
  EXPECT_FALSE(upstream::OutlierDetector::isEjected(*r.runtime.endpoints[0].counters, now));
  r.runtime.outlier->record(r.runtime, 0, upstream::UpstreamResult::kLocalOriginFailure, now);
  EXPECT_TRUE(upstream::OutlierDetector::isEjected(*r.runtime.endpoints[0].counters, now));
}

// ---- Through a WorkerPool ----

class ClusterPoliciesTest : public ::testing::Test {
 protected:
  std::string start(const ClusterConfig& cluster, int workers = 2) {
    pool_ = std::make_unique<WorkerPool>(workers, stats_, tcp_proxy::ProxyLimits());
    port_ = freePort();
    return pool_->apply(makeSnapshot("1", {makeListener("out", port_, cluster.name)}, {cluster}));
  }
  std::string tagOfNewConnection() {
    int fd = connectTo(port_);
    if (fd < 0) return "connect failed";
    std::string tag = readExactly(fd, 1);
    close(fd);
    return tag;
  }
  // The value of `field` in /clusters for the endpoint on `port` (or the cluster line).
  std::string clustersField(const std::string& subject, const std::string& field) {
    std::string text = pool_->clustersText();
    std::string key = "backend::" + subject + "::" + field + "::";
    auto at = text.find(key);
    if (at == std::string::npos) return "";
    auto end = text.find('\n', at);
    return text.substr(at + key.size(), end - at - key.size());
  }
  static std::string endpoint(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

  Stats stats_;
  std::unique_ptr<WorkerPool> pool_;
  uint16_t port_ = 0;
};

TEST_F(ClusterPoliciesTest, RingHashSendsOneSourceIpToOneBackend) {
  Backend a(Backend::Mode::kEcho, "A"), b(Backend::Mode::kEcho, "B"), c(Backend::Mode::kEcho, "C");
  ASSERT_EQ(start(makeCluster("backend", {a.port(), b.port(), c.port()}, LbPolicy::kRingHash)), "");
  std::string first = tagOfNewConnection();
  ASSERT_TRUE(first == "A" || first == "B" || first == "C") << first;
  for (int i = 0; i < 12; ++i) EXPECT_EQ(tagOfNewConnection(), first) << "connection " << i;
}

TEST_F(ClusterPoliciesTest, RandomReachesEveryBackend) {
  Backend a(Backend::Mode::kEcho, "A"), b(Backend::Mode::kEcho, "B"), c(Backend::Mode::kEcho, "C");
  ASSERT_EQ(start(makeCluster("backend", {a.port(), b.port(), c.port()}, LbPolicy::kRandom)), "");
  std::map<std::string, int> seen;
  for (int i = 0; i < 90; ++i) ++seen[tagOfNewConnection()];
  // Expected 30 each; 12 is more than four standard deviations below.
  for (const char* tag : {"A", "B", "C"}) EXPECT_GE(seen[tag], 12) << tag;
  EXPECT_EQ(seen["A"] + seen["B"] + seen["C"], 90);
}

TEST_F(ClusterPoliciesTest, MaxConnectionsRefusesTheOverflowAtOnce) {
  Backend backend(Backend::Mode::kEcho, "A");
  ClusterConfig cluster = makeCluster("backend", {backend.port()});
  cluster.circuitBreaker.maxConnections = 2;
  ASSERT_EQ(start(cluster), "");
  int first = connectTo(port_), second = connectTo(port_);
  ASSERT_EQ(readExactly(first, 1), "A");
  ASSERT_EQ(readExactly(second, 1), "A");
  // Held open: the third is closed without reaching the backend.
  int third = connectTo(port_);
  ASSERT_GE(third, 0);
  bool eof = false;
  EXPECT_EQ(readToEof(third, &eof), "");
  EXPECT_TRUE(eof);
  close(third);
  EXPECT_EQ(backend.accepted(), 2);
  EXPECT_EQ(stats_.cluster("backend")->upstreamCxOverflow.load(), 1u);
  EXPECT_NE(stats_.renderPrometheus().find(
                "braid_dp_cluster_upstream_cx_overflow_total{cluster=\"backend\"} 1"),
            std::string::npos);
  EXPECT_NE(pool_->clustersText().find("backend::upstream_cx_overflow::1\n"), std::string::npos)
      << pool_->clustersText();
  EXPECT_NE(pool_->clustersText().find("backend::default_priority::max_connections::2\n"),
            std::string::npos);
  // One closes: there is room again.
  close(first);
  ASSERT_TRUE(waitFor([&] { return stats_.cluster("backend")->upstreamConnectionsActive == 1; }));
  EXPECT_EQ(tagOfNewConnection(), "A");
  close(second);
}

TEST_F(ClusterPoliciesTest, RefusingEndpointIsEjectedThenReturns) {
  Backend backend(Backend::Mode::kEcho, "A");
  uint16_t closed = freePort();
  ClusterConfig cluster = makeCluster("backend", {closed, backend.port()});
  cluster.outlierDetection.enabled = true;
  cluster.outlierDetection.consecutive5xx = 3;  // connect failures count as gateway errors
  cluster.outlierDetection.maxEjectionPercent = 50;
  cluster.outlierDetection.baseEjectionTime = std::chrono::milliseconds(1500);
  ASSERT_EQ(start(cluster, 1), "");
  // Every connection succeeds (the refused attempt is retried on the backend); the third
  // refusal ejects the closed endpoint.
  for (int i = 0; i < 6; ++i) EXPECT_EQ(tagOfNewConnection(), "A") << "connection " << i;
  EXPECT_EQ(clustersField(endpoint(closed), "cx_connect_fail"), "3");
  EXPECT_EQ(clustersField(endpoint(closed), "health_flags"), "/failed_outlier_check");
  EXPECT_EQ(clustersField(endpoint(backend.port()), "health_flags"), "healthy");
  EXPECT_EQ(clustersField("outlier", "ejections_active"), "1");
  // While ejected, no attempt goes to it: traffic has shifted.
  for (int i = 0; i < 6; ++i) EXPECT_EQ(tagOfNewConnection(), "A");
  EXPECT_EQ(clustersField(endpoint(closed), "cx_total"), "3");
  // After the ejection time it is tried again (and, still refusing, ejected again, for 2 × 1.5 s).
  auto ejected = std::chrono::steady_clock::now();
  ASSERT_TRUE(
      waitFor([&] { return clustersField(endpoint(closed), "health_flags") == "healthy"; }));
  EXPECT_GE(std::chrono::steady_clock::now() - ejected, std::chrono::milliseconds(500));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(tagOfNewConnection(), "A");
  EXPECT_EQ(clustersField(endpoint(closed), "cx_total"), "6");
  EXPECT_EQ(clustersField("outlier", "ejections_total"), "2");
  EXPECT_EQ(stats_.cluster("backend")->outlierEjections.load(), 2u);
  EXPECT_EQ(backend.accepted(), 18);
}

TEST_F(ClusterPoliciesTest, MaxConnectAttemptBoundsTheAttempts) {
  std::vector<uint16_t> closed;
  for (int i = 0; i < 6; ++i) closed.push_back(freePort());
  for (int attempts : {2, 5}) {
    ClusterConfig cluster = makeCluster("backend", closed);
    cluster.maxConnectAttempts = attempts;
    stats_.cluster("backend")->connectFailures = 0;
    ASSERT_EQ(start(cluster), "");
    int fd = connectTo(port_);
    ASSERT_GE(fd, 0);
    bool eof = false;
    EXPECT_EQ(readToEof(fd, &eof), "");
    EXPECT_TRUE(eof);
    close(fd);
    ASSERT_TRUE(waitFor([&] { return pool_->activeConnections() == 0; }));
    EXPECT_EQ(stats_.cluster("backend")->connectFailures.load(), static_cast<uint64_t>(attempts));
    pool_.reset();
  }
}

TEST_F(ClusterPoliciesTest, IdleTimeoutClosesAnIdleConnectionOnly) {
  Backend backend(Backend::Mode::kEcho, "A");
  ClusterConfig cluster = makeCluster("backend", {backend.port()});
  cluster.idleTimeout = std::chrono::milliseconds(500);
  ASSERT_EQ(start(cluster), "");
  int idle = connectTo(port_), busy = connectTo(port_);
  ASSERT_EQ(readExactly(idle, 1), "A");
  ASSERT_EQ(readExactly(busy, 1), "A");
  auto started = std::chrono::steady_clock::now();
  // The busy one echoes a byte every 100 ms for 1.5 s: three timeouts' worth, never idle.
  for (int i = 0; i < 15; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(sendAll(busy, "x"));
    ASSERT_EQ(readExactly(busy, 1), "x") << "round " << i;
  }
  // The idle one was closed after ~500 ms (the backend's "bye" never comes: the proxy closed).
  bool eof = false;
  EXPECT_EQ(readToEof(idle, &eof), "");
  EXPECT_TRUE(eof);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  close(idle);
  // The busy one, idle from now on, closes too.
  auto quiet = std::chrono::steady_clock::now();
  EXPECT_EQ(readToEof(busy, &eof), "");
  EXPECT_TRUE(eof);
  auto took = std::chrono::steady_clock::now() - quiet;
  EXPECT_GE(took, std::chrono::milliseconds(400));
  EXPECT_LT(took, std::chrono::milliseconds(3000));
  EXPECT_EQ(stats_.cluster("backend")->idleTimeouts.load(), 2u);
  close(busy);
}

}  // namespace
}  // namespace braid::dataplane
