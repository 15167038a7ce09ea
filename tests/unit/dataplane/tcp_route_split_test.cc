// MeshTCPRoute on the data path: a TCP listener with weighted clusters sends each connection to
// one of them, picked by weight (real sockets through a WorkerPool).
#include <gtest/gtest.h>

#include <map>

#include "dataplane/server/worker_pool.h"
#include "dataplane/stats/stats.h"
#include "test_support.h"

namespace braid::dataplane {
namespace {

using namespace test_support;  // NOLINT: the test helpers

std::map<std::string, int> tagsOverConnections(uint16_t port, int connections) {
  std::map<std::string, int> seen;
  for (int i = 0; i < connections; ++i) {
    int fd = connectTo(port);
    if (fd < 0) {
      ++seen["connect failed"];
      continue;
    }
    ++seen[readExactly(fd, 1)];
    close(fd);
  }
  return seen;
}

TEST(TcpRouteSplit, EachConnectionGoesToAClusterPickedByWeight) {
  Backend own(Backend::Mode::kEcho, "O"), primary(Backend::Mode::kEcho, "P"),
      replica(Backend::Mode::kEcho, "R");
  Stats stats;
  WorkerPool pool(2, stats, tcp_proxy::ProxyLimits{});
  uint16_t port = freePort();
  ListenerConfig listener = makeListener("out", port, "db");
  listener.weightedClusters = {{"db{role=primary}", 75}, {"db{role=replica}", 25}};
  listener.totalWeight = 100;
  ASSERT_EQ(pool.apply(makeSnapshot(
                "1", {listener},
                {makeCluster("db", {own.port()}), makeCluster("db{role=primary}", {primary.port()}),
                 makeCluster("db{role=replica}", {replica.port()})})),
            "");
  constexpr int kConnections = 400;
  auto seen = tagsOverConnections(port, kConnections);
  EXPECT_EQ(seen["O"], 0);  // the listener's own cluster is not used when weights are set
  EXPECT_EQ(seen["P"] + seen["R"], kConnections);
  // 25% of 400 is 100 ± 8.7 (one standard deviation): ±40 fails once in ~10^5 runs.
  EXPECT_NEAR(seen["R"], 100, 40);
  EXPECT_TRUE(waitFor([&] { return pool.activeConnections() == 0; }));
  // Stats are the picked cluster's.
  EXPECT_TRUE(waitFor([&] {
    return stats.cluster("db{role=replica}")->upstreamConnectionsTotal.load() ==
           static_cast<uint64_t>(seen["R"]);
  }));

  // Weight 0 receives nothing; a new snapshot changes the split for new connections.
  listener.weightedClusters = {{"db{role=primary}", 0}, {"db{role=replica}", 1}};
  listener.totalWeight = 1;
  ASSERT_EQ(pool.apply(makeSnapshot(
                "2", {listener},
                {makeCluster("db", {own.port()}), makeCluster("db{role=primary}", {primary.port()}),
                 makeCluster("db{role=replica}", {replica.port()})})),
            "");
  seen = tagsOverConnections(port, 20);
  EXPECT_EQ(seen["R"], 20);
}

}  // namespace
}  // namespace braid::dataplane
