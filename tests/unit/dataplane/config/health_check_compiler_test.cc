// Cluster.health_check (MeshHealthCheck, compiled by the CP with every default) into the
// snapshot's HealthCheckConfig, through compileProxyConfig as braid-dp receives it.

#include "dataplane/config/health_check_compiler.h"

#include <gtest/gtest.h>

#include "braid/proxy/v1/config.pb.h"
#include "dataplane/config/proxy_config_compiler.h"

namespace braid::dataplane {
namespace {
namespace pb = braid::proxy::v1;
using std::chrono::milliseconds;

pb::ProxyConfig withHealthCheck(const pb::HealthCheck& hc) {
  pb::ProxyConfig config;
  auto* cluster = config.add_clusters();
  cluster->set_name("backend");
  auto* e = cluster->add_endpoints();
  e->mutable_address()->set_address("10.0.0.1");
  e->mutable_address()->set_port(10001);
  e->set_healthy(true);
  *cluster->mutable_health_check() = hc;
  auto* listener = config.add_listeners();
  listener->set_name("outbound:127.0.0.1:20001");
  listener->mutable_address()->set_address("127.0.0.1");
  listener->mutable_address()->set_port(20001);
  listener->set_direction(pb::Listener::OUTBOUND);
  listener->add_filter_chains()->mutable_tcp_proxy()->set_cluster("backend");
  return config;
}

pb::HealthCheck base() {
  pb::HealthCheck hc;
  hc.set_interval_ms(5000);
  hc.set_timeout_ms(1000);
  hc.set_unhealthy_threshold(2);
  hc.set_healthy_threshold(3);
  hc.set_initial_jitter_ms(100);
  hc.set_interval_jitter_ms(200);
  hc.set_interval_jitter_percent(10);
  hc.set_healthy_panic_threshold(30);
  hc.set_fail_traffic_on_panic(true);
  hc.set_no_traffic_interval_ms(10000);
  return hc;
}

TEST(HealthCheckCompiler, HttpCheckWithEveryField) {
  pb::HealthCheck hc = base();
  auto* http = hc.mutable_http();
  http->set_path("/healthz");
  http->add_expected_statuses(200);
  http->add_expected_statuses(204);
  auto* set = http->mutable_request_headers_to_add()->add_set();
  set->set_name("x-probe");
  set->set_value("braid");
  auto result = compileProxyConfig(withHealthCheck(hc), "v1");
  ASSERT_TRUE(result.snapshot) << result.error;
  const auto& c = result.snapshot->clusters.at("backend").healthCheck;
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->kind, HealthCheckConfig::Kind::kHttp);
  EXPECT_EQ(c->interval, milliseconds(5000));
  EXPECT_EQ(c->timeout, milliseconds(1000));
  EXPECT_EQ(c->unhealthyThreshold, 2u);
  EXPECT_EQ(c->healthyThreshold, 3u);
  EXPECT_EQ(c->initialJitter, milliseconds(100));
  EXPECT_EQ(c->intervalJitter, milliseconds(200));
  EXPECT_EQ(c->intervalJitterPercent, 10u);
  EXPECT_EQ(c->healthyPanicThreshold, 30u);
  EXPECT_TRUE(c->failTrafficOnPanic);
  EXPECT_EQ(c->noTrafficInterval, milliseconds(10000));
  EXPECT_EQ(c->path, "/healthz");
  EXPECT_EQ(c->expectedStatuses, (std::vector<uint32_t>{200, 204}));
  ASSERT_EQ(c->setHeaders.size(), 1u);
  EXPECT_EQ(c->setHeaders[0], (std::pair<std::string, std::string>{"x-probe", "braid"}));
}

TEST(HealthCheckCompiler, TcpBytesAndGrpcAsTcp) {
  pb::HealthCheck hc = base();
  hc.mutable_tcp()->set_send(std::string("PING\r\n\0", 7));
  hc.mutable_tcp()->add_receive("+PONG");
  HealthCheckConfig out;
  EXPECT_TRUE(compileHealthCheck(hc, out).empty());
  EXPECT_EQ(out.kind, HealthCheckConfig::Kind::kTcp);
  EXPECT_EQ(out.send, std::string("PING\r\n\0", 7));
  EXPECT_EQ(out.receive, (std::vector<std::string>{"+PONG"}));

  hc.mutable_grpc()->set_service_name("search.v1");
  hc.mutable_grpc()->set_authority("search.internal");
  HealthCheckConfig grpc;
  EXPECT_TRUE(compileHealthCheck(hc, grpc).empty());
  EXPECT_EQ(grpc.kind, HealthCheckConfig::Kind::kGrpc);
  EXPECT_EQ(grpc.grpcServiceName, "search.v1");
  EXPECT_EQ(grpc.grpcAuthority, "search.internal");
  EXPECT_TRUE(grpc.send.empty());
}

TEST(HealthCheckCompiler, Http2ChecksAreHttpChecksOverHttp2) {
  pb::HealthCheck hc = base();
  hc.mutable_http()->set_path("/ready");
  hc.mutable_http()->set_http2(true);
  HealthCheckConfig out;
  EXPECT_TRUE(compileHealthCheck(hc, out).empty());
  EXPECT_EQ(out.kind, HealthCheckConfig::Kind::kHttp);
  EXPECT_EQ(out.path, "/ready");
  EXPECT_TRUE(out.http2);
}

TEST(HealthCheckCompiler, RefusesWhatCannotRun) {
  pb::HealthCheck hc;  // zero interval, timeout, thresholds; no checker
  hc.set_healthy_panic_threshold(101);
  auto result = compileProxyConfig(withHealthCheck(hc), "v1");
  EXPECT_FALSE(result.snapshot);
  for (const char* problem :
       {"cluster backend health_check: interval_ms must be > 0", "timeout_ms must be > 0",
        "unhealthy_threshold must be > 0", "healthy_threshold must be > 0",
        "healthy_panic_threshold > 100", "no checker"}) {
    EXPECT_NE(result.error.find(problem), std::string::npos) << problem << ": " << result.error;
  }

  pb::HealthCheck bad = base();
  bad.mutable_http()->set_path("healthz");
  bad.mutable_http()->add_expected_statuses(99);
  auto* header = bad.mutable_http()->mutable_request_headers_to_add()->add_add();
  header->set_name("x-a");
  header->set_value("1\r\nInjected: yes");
  HealthCheckConfig out;
  auto problems = compileHealthCheck(bad, out);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_NE(problems[0].find("must start with '/'"), std::string::npos);
  EXPECT_NE(problems[1].find("99 is not a status"), std::string::npos);
  EXPECT_NE(problems[2].find("'x-a' is not a valid header"), std::string::npos);
}

TEST(HealthCheckCompiler, NoHealthCheckNoConfig) {
  pb::ProxyConfig config = withHealthCheck(base());
  config.mutable_clusters(0)->clear_health_check();
  auto result = compileProxyConfig(config, "v1");
  ASSERT_TRUE(result.snapshot) << result.error;
  EXPECT_FALSE(result.snapshot->clusters.at("backend").healthCheck.has_value());
}

}  // namespace
}  // namespace braid::dataplane
