// Configuration changes on a running WorkerPool.

#include <gtest/gtest.h>

#include "dataplane/server/worker_pool.h"
#include "dataplane/stats/stats.h"
#include "test_support.h"

namespace braid::dataplane {
namespace {

using namespace test_support;  // NOLINT: the test helpers

// Sends one byte on a new connection and returns what comes back first (a backend's tag).
std::string tagVia(uint16_t port, int* keep = nullptr) {
  int fd = connectTo(port);
  if (fd < 0) return "refused";
  std::string tag = readExactly(fd, 1);
  if (keep != nullptr) {
    *keep = fd;
  } else {
    close(fd);
  }
  return tag;
}

TEST(WorkerPoolApplyTest, CurrentIsTheLastAppliedSnapshot) {
  Stats stats;
  WorkerPool pool(2, stats);
  EXPECT_EQ(pool.current(), nullptr);
  EXPECT_EQ(pool.clustersText(), "");
  Backend backend;
  auto snapshot = makeSnapshot("7", {makeListener("out", freePort(), "backend")},
                               {makeCluster("backend", {backend.port()})});
  ASSERT_EQ(pool.apply(snapshot), "");
  EXPECT_EQ(pool.current(), snapshot);
}

TEST(WorkerPoolApplyTest, AddressInUseIsRefusedAndTheOldSnapshotKeepsServing) {
  Stats stats;
  WorkerPool pool(2, stats);
  Backend backend(Backend::Mode::kEcho, "A");
  uint16_t port = freePort();
  auto cluster = makeCluster("backend", {backend.port()});
  auto first = makeSnapshot("1", {makeListener("out", port, "backend")}, {cluster});
  ASSERT_EQ(pool.apply(first), "");

  uint16_t busy = freePort();
  int occupant = listenOn(busy, 16);
  ASSERT_GE(occupant, 0);
  auto second = makeSnapshot(
      "2", {makeListener("out", port, "backend"), makeListener("taken", busy, "backend")},
      {cluster});
  EXPECT_EQ(pool.apply(second),
            "listener taken: bind 127.0.0.1:" + std::to_string(busy) + ": Address already in use");
  EXPECT_EQ(pool.current(), first);
  EXPECT_EQ(tagVia(port), "A");
  close(occupant);

  // Once the port is free the same snapshot goes through.
  EXPECT_EQ(pool.apply(second), "");
  EXPECT_EQ(tagVia(busy), "A");
}

TEST(WorkerPoolApplyTest, RemovedListenerStopsAcceptingButItsConnectionsCarryOn) {
  Stats stats;
  WorkerPool pool(2, stats);
  Backend backend;
  uint16_t kept = freePort(), removed = freePort();
  auto cluster = makeCluster("backend", {backend.port()});
  ASSERT_EQ(
      pool.apply(makeSnapshot(
          "1", {makeListener("kept", kept, "backend"), makeListener("removed", removed, "backend")},
          {cluster})),
      "");
  int fd = connectTo(removed);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendAll(fd, "before"));
  ASSERT_EQ(readExactly(fd, 6), "before");

  ASSERT_EQ(pool.apply(makeSnapshot("2", {makeListener("kept", kept, "backend")}, {cluster})), "");
  EXPECT_EQ(connectTo(removed), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  ASSERT_TRUE(sendAll(fd, "after"));
  EXPECT_EQ(readExactly(fd, 5), "after");
  shutdown(fd, SHUT_WR);
  EXPECT_EQ(readToEof(fd), "bye");
  close(fd);
  int other = connectTo(kept);
  EXPECT_GE(other, 0);
  close(other);
}

TEST(WorkerPoolApplyTest, ANewClusterTakesNewConnectionsWhileOldOnesKeepTheirs) {
  Stats stats;
  WorkerPool pool(1, stats);
  Backend a(Backend::Mode::kEcho, "A"), b(Backend::Mode::kEcho, "B");
  uint16_t port = freePort();
  ASSERT_EQ(pool.apply(makeSnapshot("1", {makeListener("out", port, "one")},
                                    {makeCluster("one", {a.port()})})),
            "");
  int old = -1;
  ASSERT_EQ(tagVia(port, &old), "A");

  // Same listener address, new target: the socket stays, new connections go to B.
  ASSERT_EQ(pool.apply(makeSnapshot("2", {makeListener("out", port, "two")},
                                    {makeCluster("two", {b.port()})})),
            "");
  EXPECT_EQ(tagVia(port), "B");
  ASSERT_TRUE(sendAll(old, "still"));
  EXPECT_EQ(readExactly(old, 5), "still");
  close(old);
  EXPECT_TRUE(waitFor([&] { return pool.activeConnections() == 0; }));
  // The listener's counters carried over the change.
  EXPECT_EQ(stats.listener("out")->connectionsTotal.load(), 2u);
}

TEST(WorkerPoolApplyTest, AListenerThatMovesReleasesItsOldAddress) {
  Stats stats;
  WorkerPool pool(2, stats);
  Backend backend(Backend::Mode::kEcho, "A");
  uint16_t before = freePort(), after = freePort();
  auto cluster = makeCluster("backend", {backend.port()});
  ASSERT_EQ(pool.apply(makeSnapshot("1", {makeListener("out", before, "backend")}, {cluster})), "");
  ASSERT_EQ(pool.apply(makeSnapshot("2", {makeListener("out", after, "backend")}, {cluster})), "");
  EXPECT_EQ(tagVia(before), "refused");
  EXPECT_EQ(tagVia(after), "A");
  // The old port is really closed: a plain socket can take it.
  int occupant = listenOn(before, 4);
  EXPECT_GE(occupant, 0);
  close(occupant);
}

TEST(WorkerPoolApplyTest, InvalidSnapshotsAreRefusedWhole) {
  Stats stats;
  WorkerPool pool(1, stats);
  Backend backend;
  uint16_t port = freePort();
  auto cluster = makeCluster("backend", {backend.port()});
  auto good = makeSnapshot("1", {makeListener("out", port, "backend")}, {cluster});
  ASSERT_EQ(pool.apply(good), "");

  uint16_t other = freePort();
  EXPECT_EQ(pool.apply(nullptr), "no snapshot");
  EXPECT_EQ(pool.apply(makeSnapshot(
                "2", {makeListener("a", other, "backend"), makeListener("b", other, "backend")},
                {cluster})),
            "listener b: address 127.0.0.1:" + std::to_string(other) +
                " is also the address of listener a");
  EXPECT_EQ(pool.apply(makeSnapshot("3", {makeListener("a", other, "missing")}, {cluster})),
            "listener a: cluster missing is not defined");
  EXPECT_EQ(pool.apply(makeSnapshot("4", {makeListener("a", 0, "backend")}, {cluster})),
            "listener a: port 0 is not supported");
  auto named = makeListener("a", other, "backend");
  named.address.ip = "localhost";
  EXPECT_EQ(pool.apply(makeSnapshot("5", {named}, {cluster})),
            "listener a: address localhost is not an IP address");
  EXPECT_EQ(pool.current(), good);
  // Nothing was bound on the way.
  int occupant = listenOn(other, 4);
  EXPECT_GE(occupant, 0);
  close(occupant);
}

}  // namespace
}  // namespace braid::dataplane
