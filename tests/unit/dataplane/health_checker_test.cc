// MeshHealthCheck's active checks (upstream/health_checker.h) against real sockets on 127.0.0.1:
// endpoints that stop listening are ejected within two intervals and traffic shifts to the others
// with no attempt on them; they come back after healthyThreshold successes; HTTP statuses, TCP
// send/receive and Envoy's panic mode.

#include "dataplane/upstream/health_checker.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/server/worker_pool.h"
#include "dataplane/stats/stats.h"
#include "dataplane/tls/tls_contexts.h"
#include "dataplane/upstream/endpoint_registry.h"
#include "test_pki.h"
#include "test_support.h"

namespace braid::dataplane {
namespace {

using namespace test_support;  // NOLINT: the test helpers
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A server that can stop listening and start again on the same port. One thread per connection.
//  kTag: sends `tag`, then reads until EOF.
//  kHttp: reads a request head, answers `status` with an empty body, closes.
//  kPingPong: reads until "PING\r\n", answers `reply`, reads until EOF.
class ProbeServer {
 public:
  enum class Mode { kTag, kHttp, kPingPong };

  explicit ProbeServer(Mode mode, std::string tag = "") : mode_(mode), tag_(std::move(tag)) {
    start(0);
  }
  ~ProbeServer() { stop(); }
  ProbeServer(const ProbeServer&) = delete;
  ProbeServer& operator=(const ProbeServer&) = delete;

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  void setStatus(int status) { status_ = status; }
  void setReply(const std::string& reply) {
    std::lock_guard lock(mutex_);
    reply_ = reply;
  }
  std::string lastRequest() {
    std::lock_guard lock(mutex_);
    return lastRequest_;
  }

  // Listens again on the same port; counts accepts from zero.
  void start(uint16_t port) {
    fd_ = listenOn(port, 128);
    ASSERT_GE(fd_, 0);
    port_ = boundPort(fd_);
    accepted_ = 0;
    stopping_ = false;
    acceptor_ = std::thread([this] { acceptLoop(); });
  }

  // Closes the listening socket (connects are refused) and every connection.
  void stop() {
    if (fd_ < 0) return;
    stopping_ = true;
    acceptor_.join();
    close(fd_);
    fd_ = -1;
    {
      std::lock_guard lock(mutex_);
      for (int fd : connections_) shutdown(fd, SHUT_RDWR);
    }
    for (auto& thread : threads_) thread.join();
    threads_.clear();
    for (int fd : connections_) close(fd);
    connections_.clear();
  }

 private:
  void acceptLoop() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 10) <= 0) continue;
      int fd = accept(fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++accepted_;
      std::lock_guard lock(mutex_);
      connections_.push_back(fd);
      threads_.emplace_back([this, fd] { serve(fd); });
    }
  }

  std::string readUntil(int fd, const std::string& marker) {
    std::string in;
    char buffer[4096];
    while (in.find(marker) == std::string::npos) {
      ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) return "";
      in.append(buffer, static_cast<size_t>(n));
    }
    return in;
  }

  void serve(int fd) {
    if (mode_ == Mode::kTag) {
      sendAll(fd, tag_);
      readToEof(fd);
    } else if (mode_ == Mode::kHttp) {
      std::string request = readUntil(fd, "\r\n\r\n");
      {
        std::lock_guard lock(mutex_);
        if (!request.empty()) lastRequest_ = request;
      }
      sendAll(fd, "HTTP/1.1 " + std::to_string(status_.load()) +
                      " Whatever\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    } else {
      if (readUntil(fd, "PING\r\n").empty()) return;
      std::string reply;
      {
        std::lock_guard lock(mutex_);
        reply = reply_;
      }
      sendAll(fd, reply);
      readToEof(fd);
    }
    shutdown(fd, SHUT_WR);
  }

  Mode mode_;
  std::string tag_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> status_{200};
  std::mutex mutex_;
  std::string reply_ = "+PONG\r\n";
  std::string lastRequest_;
  std::vector<int> connections_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

HealthCheckConfig fastCheck(milliseconds interval, uint32_t unhealthy, uint32_t healthy) {
  HealthCheckConfig hc;
  hc.interval = interval;
  hc.noTrafficInterval = interval;
  hc.timeout = milliseconds(interval.count() / 2);
  hc.unhealthyThreshold = unhealthy;
  hc.healthyThreshold = healthy;
  hc.healthyPanicThreshold = 0;  // a single dead endpoint would otherwise panic its cluster
  return hc;
}

// A cluster resolved by hand, checked by its own HealthChecker (no workers).
struct Checked {
  ClusterConfig config;
  upstream::EndpointRegistry registry;
  std::map<std::string, upstream::ClusterRuntime> clusters;
  upstream::HealthChecker checker;

  // With `expectedSan`: an mTLS cluster (this proxy is "web" with `contexts`, the server must be
  // `expectedSan`).
  Checked(const std::vector<uint16_t>& ports, const HealthCheckConfig& hc,
          tls::TlsContextsPtr contexts = nullptr, const std::string& expectedSan = "") {
    config = makeCluster("backend", ports);
    config.tls.enabled = !expectedSan.empty();
    config.tls.identity = "web";
    config.tls.expectedSan = expectedSan;
    config.tls.sni = "backend{mesh=default}";
    config.healthCheck = hc;
    upstream::ClusterRuntime& runtime = clusters["backend"];
    runtime.config = &config;
    runtime.counters = std::make_shared<ClusterCounters>();
    if (contexts) runtime.tlsClient = contexts->client("web");
    for (const auto& endpoint : config.endpoints) {
      upstream::EndpointRuntime resolved;
      resolved.config = &endpoint;
      resolved.address = network::resolve(endpoint.address);
      resolved.key = network::formatAddress(endpoint.address);
      resolved.counters = registry.get(config.name, resolved.key);
      runtime.endpoints.push_back(resolved);
    }
    checker.update(clusters, contexts);
  }

  const upstream::EndpointRuntime& endpoint(size_t i) { return clusters["backend"].endpoints[i]; }
  bool failed(size_t i) {
    return (endpoint(i).counters->activeHc.load() & upstream::EndpointCounters::kFailedActiveHc) !=
           0;
  }
  const ClusterCounters& counters() { return *clusters["backend"].counters; }
};

std::string clusterLine(const std::string& text, const std::string& prefix) {
  size_t at = text.find(prefix);
  if (at == std::string::npos) return "";
  return text.substr(at, text.find('\n', at) - at);
}

TEST(HealthCheckerTest, DeadEndpointIsEjectedWithinTwoIntervalsAndTrafficShifts) {
  constexpr milliseconds kInterval{200};
  ProbeServer a(ProbeServer::Mode::kTag, "A"), b(ProbeServer::Mode::kTag, "B");
  ClusterConfig cluster = makeCluster("backend", {a.port(), b.port()});
  cluster.healthCheck = fastCheck(kInterval, 2, 1);
  Stats stats;
  WorkerPool pool(2, stats);
  uint16_t port = freePort();
  ASSERT_EQ(pool.apply(makeSnapshot("1", {makeListener("out", port, "backend")}, {cluster})), "");

  auto tagOfNewConnection = [&] {
    int fd = connectTo(port);
    if (fd < 0) return std::string("connect failed");
    std::string tag = readExactly(fd, 1);
    close(fd);
    return tag;
  };
  std::map<std::string, int> before;
  for (int i = 0; i < 10; ++i) ++before[tagOfNewConnection()];
  // Two workers, each with its own rotation: both get a share.
  EXPECT_GE(before["A"], 3);
  EXPECT_GE(before["B"], 3);
  EXPECT_EQ(before["A"] + before["B"], 10);

  std::string aKey = "backend::127.0.0.1:" + std::to_string(a.port()) + "::";
  a.stop();
  auto stopped = Clock::now();
  ASSERT_TRUE(waitFor([&] {
    return clusterLine(pool.clustersText(), aKey + "health_flags") ==
           aKey + "health_flags::/failed_active_hc";
  }));
  auto ejectedAfter = std::chrono::duration_cast<milliseconds>(Clock::now() - stopped);
  // Two failed probes (unhealthyThreshold 2), the first within one interval of the stop; the
  // rest is scheduling slack on a loaded machine.
  EXPECT_LE(ejectedAfter.count(), 2 * kInterval.count() + 250) << ejectedAfter.count();
  std::printf("ejected %lld ms after the stop (interval %lld ms, unhealthyThreshold 2)\n",
              static_cast<long long>(ejectedAfter.count()),
              static_cast<long long>(kInterval.count()));

  std::string aTotal = clusterLine(pool.clustersText(), aKey + "cx_total");
  std::map<std::string, int> after;
  for (int i = 0; i < 20; ++i) ++after[tagOfNewConnection()];
  EXPECT_EQ(after["B"], 20);  // no failed connection, none sent to A
  EXPECT_EQ(clusterLine(pool.clustersText(), aKey + "cx_total"), aTotal);  // no attempt on A

  std::string prometheus = stats.renderPrometheus();
  EXPECT_NE(prometheus.find("braid_dp_cluster_health_check_attempts_total{cluster=\"backend\"}"),
            std::string::npos)
      << prometheus;
  EXPECT_NE(prometheus.find("braid_dp_cluster_health_check_failures_total{cluster=\"backend\"}"),
            std::string::npos);
  std::string bKey = "backend::127.0.0.1:" + std::to_string(b.port()) + "::";
  EXPECT_EQ(clusterLine(pool.clustersText(), bKey + "health_flags"),
            bKey + "health_flags::healthy");

  // A new snapshot keeps the state (keyed by cluster and address): A stays out.
  ASSERT_EQ(pool.apply(makeSnapshot("2", {makeListener("out", port, "backend")}, {cluster})), "");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(tagOfNewConnection(), "B");

  // A is back: healthyThreshold 1, so within about one interval it takes traffic again.
  a.start(a.port());
  ASSERT_TRUE(waitFor([&] {
    return clusterLine(pool.clustersText(), aKey + "health_flags") ==
           aKey + "health_flags::healthy";
  }));
  std::map<std::string, int> back;
  for (int i = 0; i < 10; ++i) ++back[tagOfNewConnection()];
  EXPECT_GE(back["A"], 3);
  EXPECT_GE(back["B"], 3);
  EXPECT_EQ(back["A"] + back["B"], 10);

  // Without the health check, the flags are cleared at once.
  a.stop();
  ASSERT_TRUE(waitFor([&] {
    return clusterLine(pool.clustersText(), aKey + "health_flags") ==
           aKey + "health_flags::/failed_active_hc";
  }));
  cluster.healthCheck.reset();
  ASSERT_EQ(pool.apply(makeSnapshot("3", {makeListener("out", port, "backend")}, {cluster})), "");
  EXPECT_TRUE(waitFor([&] {
    return clusterLine(pool.clustersText(), aKey + "health_flags") ==
           aKey + "health_flags::healthy";
  }));
}

TEST(HealthCheckerTest, ComesBackAfterHealthyThresholdSuccesses) {
  ProbeServer a(ProbeServer::Mode::kTag, "A");
  Checked c({a.port()}, fastCheck(milliseconds(50), 1, 3));
  a.stop();
  ASSERT_TRUE(waitFor([&] { return c.failed(0); }));
  EXPECT_FALSE(c.endpoint(0).usable());
  a.start(a.port());
  ASSERT_TRUE(waitFor([&] { return !c.failed(0); }));
  // Three probes reached it (each one connection) before it counted as healthy again. The
  // kernel completes a probe's connect before the server's thread accepts it, so its count may
  // trail the checker's verdict for a moment.
  EXPECT_TRUE(waitFor([&] { return a.accepted() >= 3; })) << a.accepted();
  EXPECT_TRUE(c.endpoint(0).usable());
  EXPECT_GE(c.counters().healthCheckFailures.load(), 1u);
  EXPECT_GT(c.counters().healthCheckAttempts.load(), c.counters().healthCheckFailures.load());
}

TEST(HealthCheckerTest, HttpCheckExpectsOneOfTheStatuses) {
  ProbeServer server(ProbeServer::Mode::kHttp);
  HealthCheckConfig hc = fastCheck(milliseconds(50), 5, 1);
  hc.kind = HealthCheckConfig::Kind::kHttp;
  hc.path = "/healthz?deep=1";
  hc.expectedStatuses = {200, 204};
  hc.setHeaders = {{"user-agent", "probe/1"}};
  hc.addHeaders = {{"x-extra", "1"}};
  Checked c({server.port()}, hc);
  ASSERT_TRUE(waitFor([&] { return !server.lastRequest().empty(); }));
  std::string request = server.lastRequest();
  EXPECT_EQ(request.rfind("GET /healthz?deep=1 HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\r\nHost: backend\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nuser-agent: probe/1\r\n"), std::string::npos) << request;
  EXPECT_EQ(request.find("braid-health-check"), std::string::npos) << request;  // replaced
  EXPECT_NE(request.find("\r\nx-extra: 1\r\n"), std::string::npos) << request;
  EXPECT_FALSE(c.failed(0));

  // A status not expected is an active failure: unhealthy at once, whatever unhealthyThreshold.
  uint64_t failures = c.counters().healthCheckFailures.load();
  server.setStatus(503);
  ASSERT_TRUE(waitFor([&] { return c.failed(0); }));
  EXPECT_EQ(c.counters().healthCheckFailures.load(), failures + 1);
  EXPECT_FALSE(c.endpoint(0).usable());
  server.setStatus(204);
  EXPECT_TRUE(waitFor([&] { return !c.failed(0); }));
}

TEST(HealthCheckerTest, TcpSendAndReceiveBlocksInOrder) {
  ProbeServer server(ProbeServer::Mode::kPingPong);
  server.setReply("hello +PO and NG\r\n");
  HealthCheckConfig hc = fastCheck(milliseconds(60), 1, 1);
  hc.send = "PING\r\n";
  hc.receive = {"+PO", "NG"};  // both, in order, not adjacent
  Checked c({server.port()}, hc);
  ASSERT_TRUE(waitFor([&] { return c.counters().healthCheckAttempts.load() >= 3; }));
  EXPECT_FALSE(c.failed(0));
  EXPECT_EQ(c.counters().healthCheckFailures.load(), 0u);

  // The blocks out of order never match: the probe times out, a network failure.
  server.setReply("NG +PO\r\n");
  ASSERT_TRUE(waitFor([&] { return c.failed(0); }));
  server.setReply("+PONG\r\n");
  EXPECT_TRUE(waitFor([&] { return !c.failed(0); }));
}

TEST(HealthCheckerTest, PanicUsesEveryEndpointBelowTheThreshold) {
  ProbeServer a(ProbeServer::Mode::kTag, "A"), b(ProbeServer::Mode::kTag, "B"),
      d(ProbeServer::Mode::kTag, "D");
  HealthCheckConfig hc = fastCheck(milliseconds(50), 1, 1);
  hc.healthyPanicThreshold = 50;
  {
    // One of three down: 66% healthy, no panic, the dead one is skipped.
    Checked c({a.port(), b.port(), d.port()}, hc);
    d.stop();
    ASSERT_TRUE(waitFor([&] { return c.failed(2); }));
    EXPECT_FALSE(c.endpoint(2).usable());
    EXPECT_TRUE(c.endpoint(0).usable());
    // Two of three down: 33% < 50%, panic: every endpoint is used.
    b.stop();
    ASSERT_TRUE(waitFor([&] { return c.failed(1); }));
    EXPECT_TRUE(waitFor([&] { return c.endpoint(1).usable() && c.endpoint(2).usable(); }));
    EXPECT_TRUE(c.endpoint(0).usable());
    // Back above the threshold: out of panic.
    b.start(b.port());
    ASSERT_TRUE(waitFor([&] { return !c.failed(1); }));
    EXPECT_TRUE(waitFor([&] { return !c.endpoint(2).usable(); }));
    EXPECT_TRUE(c.endpoint(1).usable());
  }
  {
    // failTrafficOnPanic: in panic no endpoint is used.
    hc.failTrafficOnPanic = true;
    Checked c({a.port(), b.port(), d.port()}, hc);
    b.stop();
    ASSERT_TRUE(waitFor([&] { return c.failed(1) && c.failed(2); }));
    EXPECT_TRUE(waitFor([&] { return !c.endpoint(0).usable(); }));
  }
  {
    // Threshold 0: never panic; the dead endpoints stay out.
    hc.failTrafficOnPanic = false;
    hc.healthyPanicThreshold = 0;
    Checked c({a.port(), b.port(), d.port()}, hc);
    ASSERT_TRUE(waitFor([&] { return c.failed(1) && c.failed(2); }));
    std::this_thread::sleep_for(milliseconds(120));
    EXPECT_FALSE(c.endpoint(1).usable());
    EXPECT_FALSE(c.endpoint(2).usable());
    EXPECT_TRUE(c.endpoint(0).usable());
  }
}

TEST(HealthCheckerTest, ANewIntervalTakesEffectWithoutWaitingForTheOldOne) {
  ProbeServer server(ProbeServer::Mode::kTag, "A");
  Checked c({server.port()}, fastCheck(milliseconds(60000), 1, 1));
  ASSERT_TRUE(waitFor([&] { return c.counters().healthCheckAttempts.load() == 1; }));
  c.config.healthCheck = fastCheck(milliseconds(50), 1, 1);
  c.checker.update(c.clusters);
  EXPECT_TRUE(waitFor([&] { return c.counters().healthCheckAttempts.load() >= 3; }, 2000ms));
}

TEST(HealthCheckerTest, NoTrafficIntervalUntilTheFirstConnection) {
  ProbeServer server(ProbeServer::Mode::kTag, "A");
  HealthCheckConfig hc = fastCheck(milliseconds(50), 1, 1);
  hc.noTrafficInterval = milliseconds(60000);
  Checked c({server.port()}, hc);
  ASSERT_TRUE(waitFor([&] { return c.counters().healthCheckAttempts.load() == 1; }));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(c.counters().healthCheckAttempts.load(), 1u);  // no traffic: the slow interval
  c.endpoint(0).counters->total.fetch_add(1);              // a connection (any filter's)
  EXPECT_TRUE(waitFor([&] { return c.counters().healthCheckAttempts.load() >= 4; }, 2000ms));
}

// The peer's sidecar for the mTLS tests: a STRICT inbound (identity "backend", L4) in front of
// `app`, as in an mTLS mesh.
class BackendSidecar {
 public:
  BackendSidecar(const test_pki::Ca& ca, uint16_t appPort) : inboundPort_(freePort()) {
    auto inbound = makeListener("inbound:backend", inboundPort_, "localhost:app");
    inbound.direction = Direction::kInbound;
    inbound.security.mode = TlsMode::kStrict;
    inbound.security.identity = "backend";
    auto app = makeCluster("localhost:app", {appPort});
    app.service = "";
    auto snapshot = std::make_shared<Snapshot>(*makeSnapshot("1", {inbound}, {app}));
    snapshot->mtls = meshTls(ca);
    snapshot->identities = {"backend"};
    EXPECT_EQ(pool_.setIdentity(test_pki::makeIdentity(ca, {"backend"})), "");
    EXPECT_EQ(pool_.apply(snapshot), "");
  }
  static MtlsConfig meshTls(const test_pki::Ca& ca) {
    MtlsConfig mtls;
    mtls.enabled = true;
    mtls.backend = "ca-1";
    mtls.trustDomain = "default";
    mtls.trustedRootsPem = {ca.certPem()};
    return mtls;
  }
  uint16_t port() const { return inboundPort_; }
  uint64_t handshakes() { return stats_.listener("inbound:backend")->sslHandshakes.load(); }

 private:
  uint16_t inboundPort_;
  Stats stats_;
  WorkerPool pool_{1, stats_};
};

tls::TlsContextsPtr webContexts(const test_pki::Ca& ca) {
  std::string error;
  auto contexts = tls::TlsContexts::build(BackendSidecar::meshTls(ca),
                                          *test_pki::makeIdentity(ca, {"web"}), error);
  EXPECT_TRUE(contexts) << error;
  return contexts;
}

TEST(HealthCheckerTest, MtlsClustersAreProbedThroughTheHandshakeToTheApp) {
  test_pki::Ca ca("mesh root");
  ProbeServer app(ProbeServer::Mode::kHttp);
  BackendSidecar sidecar(ca, app.port());
  HealthCheckConfig hc = fastCheck(milliseconds(200), 2, 1);
  hc.kind = HealthCheckConfig::Kind::kHttp;
  hc.path = "/health";
  Checked c({sidecar.port()}, hc, webContexts(ca), "spiffe://default/backend");
  ASSERT_TRUE(waitFor([&] { return c.counters().healthCheckAttempts.load() >= 3; }));
  EXPECT_FALSE(c.failed(0));
  EXPECT_EQ(c.counters().healthCheckFailures.load(), 0u);
  // The GET went through the sidecar (verified mTLS) to the app.
  EXPECT_EQ(app.lastRequest().rfind("GET /health HTTP/1.1\r\nHost: backend\r\n", 0), 0u)
      << app.lastRequest();
  EXPECT_GE(sidecar.handshakes(), 1u);
  // The app's answer counts: a 503 ejects at once.
  app.setStatus(503);
  EXPECT_TRUE(waitFor([&] { return c.failed(0); }));
  app.setStatus(200);
  EXPECT_TRUE(waitFor([&] { return !c.failed(0); }));
}

TEST(HealthCheckerTest, AnUnexpectedServerIdentityIsANetworkFailure) {
  test_pki::Ca ca("mesh root");
  ProbeServer app(ProbeServer::Mode::kHttp);
  BackendSidecar sidecar(ca, app.port());
  HealthCheckConfig hc = fastCheck(milliseconds(100), 2, 1);
  hc.kind = HealthCheckConfig::Kind::kHttp;
  Checked c({sidecar.port()}, hc, webContexts(ca), "spiffe://default/someone-else");
  EXPECT_TRUE(waitFor([&] { return c.failed(0); }));
  EXPECT_GE(c.counters().healthCheckFailures.load(), 2u);  // unhealthyThreshold network failures
  EXPECT_EQ(app.lastRequest(), "");                        // nothing reached the app
}

TEST(HealthCheckerTest, AnMtlsClusterIsNotProbedWithoutACertificateAndIsAsSoonAsOneArrives) {
  test_pki::Ca ca("mesh root");
  ProbeServer app(ProbeServer::Mode::kHttp);
  BackendSidecar sidecar(ca, app.port());
  HealthCheckConfig hc = fastCheck(milliseconds(100), 1, 1);
  hc.kind = HealthCheckConfig::Kind::kHttp;
  hc.noTrafficInterval = milliseconds(60000);  // the slow interval until there is traffic
  Checked c({sidecar.port()}, hc, nullptr, "spiffe://default/backend");  // no identity yet
  std::this_thread::sleep_for(milliseconds(400));
  EXPECT_EQ(c.counters().healthCheckAttempts.load(), 0u);  // nothing goes out, nothing fails
  EXPECT_FALSE(c.failed(0));
  // The certificate arrives: probed within one interval, not after the slow one.
  auto contexts = webContexts(ca);
  c.clusters["backend"].tlsClient = contexts->client("web");
  c.checker.update(c.clusters, contexts);
  EXPECT_TRUE(waitFor([&] { return c.counters().healthCheckAttempts.load() >= 1; }, 1000ms));
  EXPECT_TRUE(waitFor([&] { return !app.lastRequest().empty(); }, 1000ms));
  EXPECT_FALSE(c.failed(0));
  EXPECT_EQ(c.counters().healthCheckFailures.load(), 0u);
}

}  // namespace
}  // namespace braid::dataplane
