// The HTTP connection manager to a TLS cluster: proxy A's HTTP outbound (identity "web") sends
// requests over mTLS to proxy B's inbound (identity "backend", STRICT), which passes them to the
// app. The server's SVID is checked as the TCP proxy checks it.

#include <gtest/gtest.h>
#include <signal.h>

#include "dataplane/server/worker_pool.h"
#include "dataplane/stats/stats.h"
#include "http_test_server.h"
#include "test_pki.h"
#include "test_support.h"

namespace braid::dataplane {
namespace {

using namespace test_support;  // NOLINT: the test helpers
using http_test::Client;
using http_test::get;
using http_test::Upstream;

const bool kSigpipeIgnored = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();

MtlsConfig mesh(const test_pki::Ca& ca) {
  MtlsConfig mtls;
  mtls.enabled = true;
  mtls.backend = "ca-1";
  mtls.trustDomain = "default";
  mtls.trustedRootsPem = {ca.certPem()};
  return mtls;
}

class HttpUpstreamTlsTest : public ::testing::Test {
 protected:
  void start(const std::string& expectedSan) {
    inboundPort_ = freePort();
    auto inbound = makeListener("inbound:backend", inboundPort_, "localhost:app");
    inbound.direction = Direction::kInbound;
    inbound.protocol = "http";
    inbound.security.mode = TlsMode::kStrict;
    inbound.security.identity = "backend";
    // With a route table too: an inbound keeps its mTLS front (the TCP proxy) all the same.
    inbound.http = HttpConnectionManagerConfig{};
    auto app = makeCluster("localhost:app", {app_.port()});
    app.service = "";
    auto backendSnapshot = std::make_shared<Snapshot>(*makeSnapshot("1", {inbound}, {app}));
    backendSnapshot->mtls = mesh(ca_);
    backendSnapshot->identities = {"backend"};
    ASSERT_EQ(backend_.setIdentity(test_pki::makeIdentity(ca_, {"backend"})), "");
    ASSERT_EQ(backend_.apply(backendSnapshot), "");

    auto cluster = makeCluster("backend", {inboundPort_});
    cluster.tls.enabled = true;
    cluster.tls.identity = "web";
    cluster.tls.expectedSan = expectedSan;
    cluster.tls.sni = "backend{mesh=default}";
    outboundPort_ = freePort();
    auto listener = makeListener("outbound:backend", outboundPort_, "backend");
    listener.protocol = "http";
    listener.http = HttpConnectionManagerConfig{};
    Route route;
    route.match.path = RouteMatch::Path::kPrefix;
    route.match.pathValue = "/";
    route.action.clusters = {{"backend", 1}};
    route.action.totalWeight = 1;
    listener.http->routes.routes = {route};
    auto snapshot = std::make_shared<Snapshot>(*makeSnapshot("1", {listener}, {cluster}));
    snapshot->mtls = mesh(ca_);
    snapshot->identities = {"web"};
    ASSERT_EQ(web_.setIdentity(test_pki::makeIdentity(ca_, {"web"})), "");
    ASSERT_EQ(web_.apply(snapshot), "");
  }

  test_pki::Ca ca_{"mesh root"};
  Upstream app_{"app"};
  Stats backendStats_;
  WorkerPool backend_{1, backendStats_};
  Stats webStats_;
  WorkerPool web_{1, webStats_};
  uint16_t inboundPort_ = 0;
  uint16_t outboundPort_ = 0;
};

TEST_F(HttpUpstreamTlsTest, RequestsGoOverVerifiedMutualTlsAndReuseTheConnection) {
  start("spiffe://default/backend");
  Client client(outboundPort_);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client.send(get("/tls")));
    auto response = client.read();
    ASSERT_TRUE(response.ok);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.header("x-upstream"), "app");
  }
  EXPECT_EQ(app_.requests(), 20);
  // One TLS connection carried them all.
  EXPECT_EQ(webStats_.cluster("backend")->upstreamConnectionsTotal.load(), 1u);
  EXPECT_TRUE(waitFor(
      [&] { return backendStats_.listener("inbound:backend")->sslHandshakes.load() == 1; }));
}

TEST_F(HttpUpstreamTlsTest, AnUnexpectedServerIdentityIsRefused) {
  start("spiffe://default/someone-else");
  Client client(outboundPort_);
  ASSERT_TRUE(client.send(get("/")));
  auto response = client.read();
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.body, "upstream connect error");
  EXPECT_GE(webStats_.cluster("backend")->upstreamSslHandshakeErrors.load(), 1u);
  EXPECT_EQ(app_.requests(), 0);
}

}  // namespace
}  // namespace braid::dataplane
