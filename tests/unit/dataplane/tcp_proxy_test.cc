// The TCP proxy end to end through a WorkerPool: real sockets on 127.0.0.1.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <thread>

#include "dataplane/server/worker_pool.h"
#include "dataplane/stats/stats.h"
#include "test_support.h"

namespace braid::dataplane {
namespace {

using namespace test_support;  // NOLINT: the test helpers

// Pipes this process holds open: the proxy's splice pipes, and whatever the test runner set up.
int openPipes() {
  int pipes = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    auto target = std::filesystem::read_symlink(entry.path(), error);
    if (!error && target.string().rfind("pipe:", 0) == 0) ++pipes;
  }
  return pipes;
}

// Every test runs twice: bytes copied through user space, and bulk directions spliced.
class TcpProxyTest : public ::testing::TestWithParam<bool> {
 protected:
  tcp_proxy::ProxyLimits limits() const {
    tcp_proxy::ProxyLimits limits;
    limits.splice = GetParam();
    return limits;
  }

  // One listener "out" on a free port, proxying to cluster "backend".
  std::string start(const ClusterConfig& cluster, int workers = 1) {
    pool_ = std::make_unique<WorkerPool>(workers, stats_, limits());
    port_ = freePort();
    return pool_->apply(makeSnapshot("1", {makeListener("out", port_, cluster.name)}, {cluster}));
  }

  // Opens a connection through the proxy and returns the tag its backend sent.
  std::string tagOfNewConnection(int& fd) {
    fd = connectTo(port_);
    if (fd < 0) return "connect failed";
    return readExactly(fd, 1);
  }

  Stats stats_;
  std::unique_ptr<WorkerPool> pool_;
  uint16_t port_ = 0;
};

TEST_P(TcpProxyTest, ForwardsBytesBothWays) {
  Backend backend;
  ASSERT_EQ(start(makeCluster("backend", {backend.port()})), "");
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  const std::string payload = pattern(1 << 20);
  std::thread writer([&] {
    EXPECT_TRUE(sendAll(fd, payload));
    shutdown(fd, SHUT_WR);
  });
  bool eof = false;
  std::string echoed = readToEof(fd, &eof);
  writer.join();
  EXPECT_TRUE(eof);
  EXPECT_EQ(echoed.size(), payload.size() + 3);
  EXPECT_TRUE(echoed == payload + "bye");
  close(fd);
  EXPECT_TRUE(waitFor([&] { return pool_->activeConnections() == 0; }));
}

TEST_P(TcpProxyTest, BulkBurstsBorrowAPipeAndGiveItBack) {
  Backend backend;
  ASSERT_EQ(start(makeCluster("backend", {backend.port()})), "");
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  const std::string payload = pattern(8 << 20);
  std::thread writer([&] { EXPECT_TRUE(sendAll(fd, payload)); });
  // While megabytes flow, bulk directions hold pipes (when splicing).
  bool sawPipe = false;
  std::string echoed;
  while (echoed.size() < payload.size()) {
    std::string chunk =
        readExactly(fd, std::min<size_t>(256 * 1024, payload.size() - echoed.size()));
    if (chunk.empty()) break;
    echoed += chunk;
    if (!sawPipe && pool_->pipesInUse() > 0) sawPipe = true;
  }
  writer.join();
  EXPECT_TRUE(echoed == payload);
  EXPECT_EQ(sawPipe, GetParam());
  // Once the burst has been delivered, an idle connection holds no pipe.
  EXPECT_TRUE(waitFor([&] { return pool_->pipesInUse() == 0; }));
  // Small exchanges afterwards: the burst is over and the pipes go back.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(sendAll(fd, "small"));
    ASSERT_EQ(readExactly(fd, 5), "small");
  }
  EXPECT_EQ(pool_->pipesInUse(), 0u);
  close(fd);
}

TEST_P(TcpProxyTest, TwoWorkersServeConcurrentConnections) {
  Backend backend;
  ASSERT_EQ(start(makeCluster("backend", {backend.port()}), 2), "");
  EXPECT_EQ(pool_->workers(), 2);
  constexpr int kClients = 16;
  std::vector<std::thread> clients;
  std::atomic<int> succeeded{0};
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      int fd = connectTo(port_);
      if (fd < 0) return;
      std::string payload = pattern(64 * 1024 + static_cast<size_t>(i));
      std::thread writer([&] {
        sendAll(fd, payload);
        shutdown(fd, SHUT_WR);
      });
      std::string echoed = readToEof(fd);
      writer.join();
      close(fd);
      if (echoed == payload + "bye") ++succeeded;
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(succeeded.load(), kClients);
  EXPECT_TRUE(waitFor([&] { return pool_->activeConnections() == 0; }));
  EXPECT_EQ(backend.accepted(), kClients);
}

TEST_P(TcpProxyTest, HalfCloseLetsTheServerReplyAfterTheClientsEof) {
  Backend backend;
  ASSERT_EQ(start(makeCluster("backend", {backend.port()})), "");
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendAll(fd, "ping"));
  ASSERT_EQ(readExactly(fd, 4), "ping");
  ASSERT_EQ(shutdown(fd, SHUT_WR), 0);
  // The backend sees EOF only through the proxy's shutdown, and answers after it.
  bool eof = false;
  EXPECT_EQ(readToEof(fd, &eof), "bye");
  EXPECT_TRUE(eof);
  EXPECT_TRUE(waitFor([&] { return pool_->activeConnections() == 0; }));
  close(fd);
}

TEST_P(TcpProxyTest, ServerHalfCloseLeavesTheClientsDirectionOpen) {
  Backend backend(Backend::Mode::kCloseFirst, "hi");
  ASSERT_EQ(start(makeCluster("backend", {backend.port()})), "");
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  bool eof = false;
  EXPECT_EQ(readToEof(fd, &eof), "hi");
  EXPECT_TRUE(eof);
  // The server is done sending but still reads.
  ASSERT_TRUE(sendAll(fd, "late"));
  EXPECT_TRUE(waitFor([&] { return backend.bytesRead() == 4; }));
  EXPECT_EQ(pool_->activeConnections(), 1u);
  shutdown(fd, SHUT_WR);
  EXPECT_TRUE(waitFor([&] { return pool_->activeConnections() == 0; }));
  close(fd);
}

TEST_P(TcpProxyTest, RefusedConnectIsRetriedOnAnotherEndpoint) {
  Backend backend;
  uint16_t closed = freePort();
  ASSERT_EQ(start(makeCluster("backend", {closed, backend.port()})), "");
  for (int i = 0; i < 4; ++i) {
    int fd = connectTo(port_);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(sendAll(fd, "x"));
    EXPECT_EQ(readExactly(fd, 1), "x") << "connection " << i;
    close(fd);
  }
  auto counters = stats_.cluster("backend");
  EXPECT_GE(counters->connectFailures.load(), 1u);
  EXPECT_EQ(counters->connectTimeouts.load(), 0u);
  EXPECT_EQ(backend.accepted(), 4);
  std::string clusters = pool_->clustersText();
  std::string refusedLine = "backend::127.0.0.1:" + std::to_string(closed) + "::cx_connect_fail::";
  auto at = clusters.find(refusedLine);
  ASSERT_NE(at, std::string::npos) << clusters;
  EXPECT_NE(clusters[at + refusedLine.size()], '0') << clusters;
}

TEST_P(TcpProxyTest, ConnectTimeoutMovesToTheNextEndpoint) {
  Blackhole blackhole;
  if (!blackhole.works()) GTEST_SKIP() << "this kernel completes connects to a full queue";
  Backend backend;
  auto cluster = makeCluster("backend", {blackhole.port(), backend.port()});
  cluster.connectTimeout = std::chrono::milliseconds(200);
  ASSERT_EQ(start(cluster), "");
  auto began = std::chrono::steady_clock::now();
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendAll(fd, "hello"));
  EXPECT_EQ(readExactly(fd, 5), "hello");
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(180));
  close(fd);
  auto counters = stats_.cluster("backend");
  EXPECT_EQ(counters->connectTimeouts.load(), 1u);
  EXPECT_EQ(counters->connectFailures.load(), 1u);
}

TEST_P(TcpProxyTest, DownstreamClosesWhenEveryAttemptFails) {
  Blackhole blackhole;
  if (!blackhole.works()) GTEST_SKIP() << "this kernel completes connects to a full queue";
  auto cluster = makeCluster("backend", {blackhole.port()});
  cluster.connectTimeout = std::chrono::milliseconds(100);
  ASSERT_EQ(start(cluster), "");
  auto began = std::chrono::steady_clock::now();
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  bool eof = false;
  EXPECT_EQ(readToEof(fd, &eof), "");
  EXPECT_TRUE(eof);
  // Three attempts on the only endpoint, 100 ms each.
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(280));
  EXPECT_EQ(stats_.cluster("backend")->connectTimeouts.load(), 3u);
  EXPECT_TRUE(waitFor([&] { return pool_->activeConnections() == 0; }));
  EXPECT_EQ(stats_.cluster("backend")->upstreamConnectionsActive.load(), 0u);
  close(fd);
}

TEST_P(TcpProxyTest, NoHealthyEndpointClosesTheDownstream) {
  Backend backend;
  auto cluster = makeCluster("backend", {backend.port()});
  cluster.endpoints[0].healthy = false;
  ASSERT_EQ(start(cluster), "");
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  bool eof = false;
  EXPECT_EQ(readToEof(fd, &eof), "");
  EXPECT_TRUE(eof);
  close(fd);
  EXPECT_EQ(stats_.cluster("backend")->noHealthyEndpoint.load(), 1u);
  EXPECT_EQ(backend.accepted(), 0);
  EXPECT_NE(pool_->clustersText().find("::health_flags::/failed_eds_health"), std::string::npos);
}

TEST_P(TcpProxyTest, RoundRobinSpreadsOverTwoBackends) {
  Backend a(Backend::Mode::kEcho, "A"), b(Backend::Mode::kEcho, "B");
  ASSERT_EQ(start(makeCluster("backend", {a.port(), b.port()})), "");
  std::map<std::string, int> seen;
  for (int i = 0; i < 10; ++i) {
    int fd = -1;
    ++seen[tagOfNewConnection(fd)];
    close(fd);
  }
  EXPECT_EQ(seen["A"], 5);
  EXPECT_EQ(seen["B"], 5);
}

TEST_P(TcpProxyTest, RoundRobinHonoursWeights) {
  Backend a(Backend::Mode::kEcho, "A"), b(Backend::Mode::kEcho, "B");
  ASSERT_EQ(start(makeCluster("backend", {a.port(), b.port()}, LbPolicy::kRoundRobin, {3, 1})), "");
  std::map<std::string, int> seen;
  for (int i = 0; i < 8; ++i) {
    int fd = -1;
    ++seen[tagOfNewConnection(fd)];
    close(fd);
  }
  EXPECT_EQ(seen["A"], 6);
  EXPECT_EQ(seen["B"], 2);
}

TEST_P(TcpProxyTest, LeastRequestPrefersTheIdleBackend) {
  Backend a(Backend::Mode::kEcho, "A"), b(Backend::Mode::kEcho, "B");
  ASSERT_EQ(start(makeCluster("backend", {a.port(), b.port()}, LbPolicy::kLeastRequest)), "");
  int first = -1, second = -1;
  std::string busy = tagOfNewConnection(first);
  ASSERT_TRUE(busy == "A" || busy == "B") << busy;
  std::string idle = busy == "A" ? "B" : "A";
  // The first connection stays open: every new one goes to the other backend while it is idle.
  EXPECT_EQ(tagOfNewConnection(second), idle);
  close(second);
  ASSERT_TRUE(waitFor([&] { return pool_->activeConnections() == 1; }));
  for (int i = 0; i < 3; ++i) {
    int fd = -1;
    EXPECT_EQ(tagOfNewConnection(fd), idle);
    close(fd);
    ASSERT_TRUE(waitFor([&] { return pool_->activeConnections() == 1; }));
  }
  close(first);
}

TEST_P(TcpProxyTest, BoundedBufferingWhenTheBackendDoesNotRead) {
  Backend sink(Backend::Mode::kSink);
  const tcp_proxy::ProxyLimits limits = this->limits();
  ASSERT_EQ(start(makeCluster("backend", {sink.port()})), "");
  // Before any connection: stdout may be a pipe, and libevent has one per event base.
  const int pipesBefore = openPipes();
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  const size_t kTotal = 50u << 20;
  const std::string chunk = pattern(256 * 1024);
  size_t sent = 0;
  auto lastProgress = std::chrono::steady_clock::now();
  // Send until the proxy stops taking bytes for a while.
  while (sent < kTotal && std::chrono::steady_clock::now() - lastProgress < 300ms) {
    ssize_t n = send(fd, chunk.data(), std::min(chunk.size(), kTotal - sent), MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      lastProgress = std::chrono::steady_clock::now();
    } else {
      std::this_thread::sleep_for(2ms);
    }
  }
  EXPECT_LT(sent, kTotal) << "the proxy swallowed everything";
  size_t buffered = pool_->bufferedBytes();
  EXPECT_LE(buffered, limits.highWatermark + limits.readSize);
  if (GetParam()) {
    // A bulk transfer: the bytes wait in a pipe, which is smaller than the watermark.
    EXPECT_GT(openPipes(), pipesBefore);
    EXPECT_GT(buffered, 0u);
  } else {
    EXPECT_EQ(openPipes(), pipesBefore);
    EXPECT_GE(buffered, limits.highWatermark / 2) << "the proxy should fill up to its watermark";
  }

  // Once the backend reads, reading resumes below the low watermark and everything arrives.
  sink.startReading();
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  while (sent < kTotal) {
    ssize_t n = send(fd, chunk.data(), std::min(chunk.size(), kTotal - sent), MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    sent += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  EXPECT_TRUE(waitFor([&] { return sink.bytesRead() == kTotal; }, 10000ms)) << sink.bytesRead();
  bool eof = false;
  readToEof(fd, &eof);
  EXPECT_TRUE(eof);
  close(fd);
  EXPECT_TRUE(waitFor([&] { return pool_->activeConnections() == 0; }));
}

TEST_P(TcpProxyTest, CountsConnectionsAndBytes) {
  Backend backend;
  ASSERT_EQ(start(makeCluster("backend", {backend.port()})), "");
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendAll(fd, std::string(1000, 'x')));
  ASSERT_EQ(readExactly(fd, 1000).size(), 1000u);
  auto listener = stats_.listener("out");
  auto cluster = stats_.cluster("backend");
  EXPECT_EQ(listener->connectionsTotal.load(), 1u);
  EXPECT_EQ(listener->connectionsActive.load(), 1u);
  EXPECT_EQ(cluster->upstreamConnectionsActive.load(), 1u);
  // Byte counts of open connections arrive on demand (or every second).
  pool_->flushStats();
  EXPECT_EQ(listener->bytesReceived.load(), 1000u);
  EXPECT_EQ(cluster->bytesSent.load(), 1000u);
  EXPECT_EQ(cluster->bytesReceived.load(), 1000u);
  EXPECT_EQ(listener->bytesSent.load(), 1000u);

  shutdown(fd, SHUT_WR);
  EXPECT_EQ(readToEof(fd), "bye");
  close(fd);
  ASSERT_TRUE(waitFor([&] { return pool_->activeConnections() == 0; }));
  EXPECT_EQ(listener->connectionsActive.load(), 0u);
  EXPECT_EQ(listener->bytesSent.load(), 1003u);
  EXPECT_EQ(cluster->bytesReceived.load(), 1003u);
  EXPECT_EQ(cluster->upstreamConnectionsTotal.load(), 1u);
  EXPECT_EQ(cluster->upstreamConnectionsActive.load(), 0u);
  EXPECT_EQ(cluster->connectFailures.load(), 0u);

  std::string text = stats_.renderPrometheus();
  EXPECT_NE(text.find("braid_dp_listener_connections_total{listener=\"out\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("braid_dp_cluster_bytes_received_total{cluster=\"backend\"} 1003\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("braid_dp_cluster_upstream_connections_active{cluster=\"backend\"} 0\n"),
            std::string::npos)
      << text;
}

TEST_P(TcpProxyTest, ClustersTextListsEveryEndpoint) {
  Backend a, b;
  ASSERT_EQ(start(makeCluster("backend", {a.port(), b.port()}, LbPolicy::kRoundRobin, {2, 1})), "");
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendAll(fd, "x"));
  ASSERT_EQ(readExactly(fd, 1), "x");
  std::string prefix = "backend::127.0.0.1:" + std::to_string(a.port()) + "::";
  std::string expected = prefix + "cx_active::1\n" + prefix + "cx_connect_fail::0\n" + prefix +
                         "cx_total::1\n" + prefix + "weight::2\n" + prefix +
                         "health_flags::healthy\n" + prefix + "origin::default/backend-0\n";
  std::string text = pool_->clustersText();
  EXPECT_EQ(text.substr(0, expected.size()), expected) << text;
  EXPECT_NE(text.find("backend::127.0.0.1:" + std::to_string(b.port()) + "::cx_active::0\n"),
            std::string::npos);
  close(fd);
}

TEST_P(TcpProxyTest, StopListeningRefusesNewConnectionsAndDrains) {
  Backend backend;
  ASSERT_EQ(start(makeCluster("backend", {backend.port()}), 2), "");
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendAll(fd, "a"));
  ASSERT_EQ(readExactly(fd, 1), "a");
  pool_->stopListening();
  EXPECT_EQ(connectTo(port_), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  EXPECT_EQ(pool_->activeConnections(), 1u);
  // The open connection still works.
  ASSERT_TRUE(sendAll(fd, "b"));
  EXPECT_EQ(readExactly(fd, 1), "b");
  // A snapshot pushed while draining does not reopen listeners.
  auto cluster = makeCluster("backend", {backend.port()});
  EXPECT_EQ(pool_->apply(makeSnapshot("2", {makeListener("out", port_, "backend")}, {cluster})),
            "");
  EXPECT_EQ(connectTo(port_), -1);
  close(fd);
  EXPECT_TRUE(waitFor([&] { return pool_->activeConnections() == 0; }));
}

INSTANTIATE_TEST_SUITE_P(CopyOrSplice, TcpProxyTest, ::testing::Bool(),
                         [](const auto& test) { return test.param ? "splice" : "copy"; });

}  // namespace
}  // namespace braid::dataplane
