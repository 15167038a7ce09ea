#include "dataplane/config/proxy_config_compiler.h"

#include <gtest/gtest.h>

#include "braid/proxy/v1/config.pb.h"

namespace braid::dataplane {
namespace {
namespace pb = braid::proxy::v1;

pb::ProxyConfig validConfig() {
  pb::ProxyConfig config;
  auto* cluster = config.add_clusters();
  cluster->set_name("backend");
  cluster->set_lb_policy(pb::Cluster::LEAST_REQUEST);
  cluster->set_connect_timeout_ms(250);
  auto* e = cluster->add_endpoints();
  e->mutable_address()->set_address("10.0.0.1");
  e->mutable_address()->set_port(10001);
  e->set_healthy(true);
  e->set_origin("default/backend-1");
  auto* listener = config.add_listeners();
  listener->set_name("outbound:127.0.0.1:20001");
  listener->mutable_address()->set_address("127.0.0.1");
  listener->mutable_address()->set_port(20001);
  listener->set_direction(pb::Listener::OUTBOUND);
  listener->add_filter_chains()->mutable_tcp_proxy()->set_cluster("backend");
  return config;
}

TEST(ProxyConfigCompiler, CompilesAValidConfiguration) {
  auto result = compileProxyConfig(validConfig(), "v1");
  ASSERT_TRUE(result.snapshot) << result.error;
  const Snapshot& s = *result.snapshot;
  EXPECT_EQ(s.version, "v1");
  ASSERT_EQ(s.listeners.size(), 1u);
  EXPECT_EQ(s.listeners[0].address, (SocketAddress{"127.0.0.1", 20001}));
  EXPECT_EQ(s.listeners[0].cluster, "backend");
  EXPECT_EQ(s.listeners[0].statPrefix, "backend");
  EXPECT_EQ(s.listeners[0].direction, Direction::kOutbound);
  const ClusterConfig& c = s.clusters.at("backend");
  EXPECT_EQ(c.lbPolicy, LbPolicy::kLeastRequest);
  EXPECT_EQ(c.connectTimeout, std::chrono::milliseconds(250));
  ASSERT_EQ(c.endpoints.size(), 1u);
  EXPECT_EQ(c.endpoints[0].weight, 1u);  // 0 on the wire reads as 1
  EXPECT_EQ(c.endpoints[0].origin, "default/backend-1");
}

TEST(ProxyConfigCompiler, ConnectTimeoutDefaultsToFiveSeconds) {
  auto config = validConfig();
  config.mutable_clusters(0)->set_connect_timeout_ms(0);
  auto result = compileProxyConfig(config, "v1");
  ASSERT_TRUE(result.snapshot);
  EXPECT_EQ(result.snapshot->clusters.at("backend").connectTimeout,
            std::chrono::milliseconds(5000));
}

TEST(ProxyConfigCompiler, RefusesTheWholeConfigurationListingEveryProblem) {
  auto config = validConfig();
  config.mutable_listeners(0)->mutable_filter_chains(0)->mutable_tcp_proxy()->set_cluster("nope");
  config.mutable_clusters(0)->mutable_endpoints(0)->mutable_address()->set_address("backend.local");
  auto* dup = config.add_listeners();
  *dup = config.listeners(0);
  dup->mutable_address()->set_port(70000);
  auto result = compileProxyConfig(config, "v2");
  EXPECT_FALSE(result.snapshot);
  EXPECT_NE(result.error.find("names cluster 'nope', which is not defined"), std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("address 'backend.local' is not an IP address"), std::string::npos);
  EXPECT_NE(result.error.find("defined twice"), std::string::npos);
  EXPECT_NE(result.error.find("port 70000 is out of range"), std::string::npos);
}

TEST(ProxyConfigCompiler, TwoListenersOnOneAddressAreRefused) {
  auto config = validConfig();
  auto* second = config.add_listeners();
  *second = config.listeners(0);
  second->set_name("other");
  auto result = compileProxyConfig(config, "v1");
  EXPECT_FALSE(result.snapshot);
  EXPECT_NE(result.error.find("127.0.0.1:20001 is used by another listener"), std::string::npos);
}

TEST(ProxyConfigCompiler, AListenerWithoutATcpProxyIsRefused) {
  auto config = validConfig();
  config.mutable_listeners(0)->clear_filter_chains();
  auto result = compileProxyConfig(config, "v1");
  EXPECT_FALSE(result.snapshot);
  EXPECT_NE(result.error.find("needs exactly one filter chain"), std::string::npos);
}

}  // namespace
}  // namespace braid::dataplane
