// Configuration changes on a running WorkerPool.

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

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

// The inodes of the sockets listening on 127.0.0.1:<port> (from /proc/net/tcp): the same inodes
// after a change mean the very same sockets, accept queues included.
std::set<std::string> listeningInodes(uint16_t port) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // header
  char local[32];
  std::snprintf(local, sizeof(local), "0100007F:%04X", port);
  std::set<std::string> inodes;
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, localAddress, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> slot >> localAddress >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> inode;
    if (localAddress == local && state == "0A") inodes.insert(inode);
  }
  return inodes;
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

// Another process of the same user listening with SO_REUSEPORT must not get to share the port.
TEST(WorkerPoolApplyTest, AnAddressHeldWithReusePortIsRefused) {
  Stats stats;
  WorkerPool pool(1, stats);
  Backend backend(Backend::Mode::kEcho, "A");
  uint16_t busy = freePort();
  int occupant = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(occupant, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  sockaddr_in address = loopback(busy);
  ASSERT_EQ(bind(occupant, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(occupant, 16), 0);
  auto snapshot = makeSnapshot("1", {makeListener("shared", busy, "backend")},
                               {makeCluster("backend", {backend.port()})});
  EXPECT_EQ(pool.apply(snapshot),
            "listener shared: bind 127.0.0.1:" + std::to_string(busy) + ": Address already in use");
  EXPECT_EQ(pool.current(), nullptr);
  close(occupant);
  EXPECT_EQ(pool.apply(snapshot), "");
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

TEST(WorkerPoolApplyTest, AnUnchangedListenerKeepsItsSockets) {
  Stats stats;
  WorkerPool pool(2, stats);
  Backend a(Backend::Mode::kEcho, "A"), b(Backend::Mode::kEcho, "B");
  uint16_t port = freePort();
  ASSERT_EQ(pool.apply(makeSnapshot("1", {makeListener("out", port, "one")},
                                    {makeCluster("one", {a.port()})})),
            "");
  auto before = listeningInodes(port);
  EXPECT_EQ(before.size(), 2u);  // one SO_REUSEPORT socket per worker
  // A renamed listener on the same address, with another cluster and another listener added.
  uint16_t added = freePort();
  ASSERT_EQ(pool.apply(makeSnapshot(
                "2", {makeListener("renamed", port, "two"), makeListener("added", added, "two")},
                {makeCluster("two", {b.port()})})),
            "");
  EXPECT_EQ(listeningInodes(port), before);
  EXPECT_EQ(listeningInodes(added).size(), 2u);
  EXPECT_EQ(tagVia(port), "B");
}

TEST(WorkerPoolApplyTest, ListensOnIpv6) {
  Stats stats;
  WorkerPool pool(1, stats);
  Backend backend(Backend::Mode::kEcho, "A");
  uint16_t port = freePort();
  auto listener = makeListener("v6", port, "backend");
  listener.address.ip = "::1";
  std::string error =
      pool.apply(makeSnapshot("1", {listener}, {makeCluster("backend", {backend.port()})}));
  if (error.find("Cannot assign requested address") != std::string::npos) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  ASSERT_EQ(error, "");
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_port = htons(port);
  address.sin6_addr = in6addr_loopback;
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(readExactly(fd, 1), "A");
  close(fd);
  // The error names the address the way it is written in URLs.
  int occupant = socket(AF_INET6, SOCK_STREAM, 0);
  uint16_t busy = freePort();
  address.sin6_port = htons(busy);
  ASSERT_EQ(bind(occupant, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(occupant, 4), 0);
  listener.address.port = busy;
  EXPECT_EQ(pool.apply(makeSnapshot("2", {listener}, {makeCluster("backend", {backend.port()})})),
            "listener v6: bind [::1]:" + std::to_string(busy) + ": Address already in use");
  close(occupant);
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
