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

namespace braid::dataplane {
namespace {

// validConfig() with mTLS on: an inbound listener with permissions, the outbound cluster with TLS.
pb::ProxyConfig mtlsConfig() {
  pb::ProxyConfig config = validConfig();
  auto* mtls = config.mutable_mtls();
  mtls->set_backend("ca-1");
  mtls->set_trust_domain("default");
  mtls->add_trusted_roots_pem("ROOT-1");
  mtls->add_trusted_roots_pem("ROOT-2");
  config.add_identities("web");
  auto* tls = config.mutable_clusters(0)->mutable_tls();
  tls->set_identity("web");
  tls->set_expected_san("spiffe://default/backend");
  tls->set_sni("backend{mesh=default}");
  auto* app = config.add_clusters();
  app->set_name("localhost:9001");
  auto* e = app->add_endpoints();
  e->mutable_address()->set_address("127.0.0.1");
  e->mutable_address()->set_port(9001);
  auto* inbound = config.add_listeners();
  inbound->set_name("inbound:127.0.0.1:10001");
  inbound->mutable_address()->set_address("127.0.0.1");
  inbound->mutable_address()->set_port(10001);
  inbound->set_direction(pb::Listener::INBOUND);
  inbound->set_protocol("http");
  inbound->add_filter_chains()->mutable_tcp_proxy()->set_cluster("localhost:9001");
  auto* security = inbound->mutable_security();
  security->set_mode(pb::STRICT);
  security->set_identity("web");
  security->set_enforce_permissions(true);
  auto* deny = security->add_permissions();
  deny->set_prefix("spiffe://default/legacy");
  deny->set_action(pb::Permission::DENY);
  auto* allow = security->add_permissions();
  allow->set_any(true);
  allow->set_action(pb::Permission::ALLOW_WITH_SHADOW_DENY);
  allow->set_policy("p1");
  return config;
}

TEST(ProxyConfigCompiler, CompilesMtlsAndPermissions) {
  auto result = compileProxyConfig(mtlsConfig(), "v2");
  ASSERT_TRUE(result.snapshot) << result.error;
  const Snapshot& s = *result.snapshot;
  EXPECT_TRUE(s.mtls.enabled);
  EXPECT_EQ(s.mtls.backend, "ca-1");
  EXPECT_EQ(s.mtls.trustDomain, "default");
  EXPECT_EQ(s.mtls.trustedRootsPem, (std::vector<std::string>{"ROOT-1", "ROOT-2"}));
  EXPECT_EQ(s.identities, (std::vector<std::string>{"web"}));
  const ClusterConfig& backend = s.clusters.at("backend");
  EXPECT_TRUE(backend.tls.enabled);
  EXPECT_EQ(backend.tls.expectedSan, "spiffe://default/backend");
  EXPECT_EQ(backend.tls.sni, "backend{mesh=default}");
  EXPECT_FALSE(s.clusters.at("localhost:9001").tls.enabled);
  ASSERT_EQ(s.listeners.size(), 2u);
  const ListenerConfig& inbound = s.listeners[1];
  EXPECT_EQ(inbound.protocol, "http");
  EXPECT_EQ(inbound.security.mode, TlsMode::kStrict);
  EXPECT_EQ(inbound.security.identity, "web");
  EXPECT_TRUE(inbound.security.enforcePermissions);
  ASSERT_EQ(inbound.security.rules.size(), 2u);
  EXPECT_EQ(inbound.security.rules[0].match, PermissionRule::Match::kPrefix);
  EXPECT_EQ(inbound.security.rules[0].value, "spiffe://default/legacy");
  EXPECT_EQ(inbound.security.rules[0].action, PermissionAction::kDeny);
  EXPECT_EQ(inbound.security.rules[1].match, PermissionRule::Match::kAny);
  EXPECT_EQ(inbound.security.rules[1].action, PermissionAction::kAllowWithShadowDeny);
  EXPECT_EQ(inbound.security.rules[1].policy, "p1");
  EXPECT_EQ(s.listeners[0].security.mode, TlsMode::kDisabled);
}

TEST(ProxyConfigCompiler, RefusesTlsWithoutMtlsOrWithAnUnknownIdentity) {
  pb::ProxyConfig noMtls = mtlsConfig();
  noMtls.clear_mtls();
  noMtls.clear_identities();
  auto result = compileProxyConfig(noMtls, "v3");
  EXPECT_FALSE(result.snapshot);
  EXPECT_NE(result.error.find("cluster backend: tls is set but the mesh has no mtls"),
            std::string::npos)
      << result.error;
  EXPECT_NE(
      result.error.find("listener inbound:127.0.0.1:10001: tls is on but the mesh has no mtls"),
      std::string::npos)
      << result.error;

  pb::ProxyConfig unknown = mtlsConfig();
  unknown.mutable_clusters(0)->mutable_tls()->set_identity("admin");
  unknown.mutable_mtls()->clear_trusted_roots_pem();
  result = compileProxyConfig(unknown, "v4");
  EXPECT_FALSE(result.snapshot);
  EXPECT_NE(
      result.error.find("cluster backend: identity 'admin' is not among the proxy's identities"),
      std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("mtls: no trusted roots"), std::string::npos) << result.error;

  pb::ProxyConfig noPrincipal = mtlsConfig();
  noPrincipal.mutable_listeners(1)->mutable_security()->mutable_permissions(0)->clear_principal();
  result = compileProxyConfig(noPrincipal, "v5");
  EXPECT_FALSE(result.snapshot);
  EXPECT_NE(result.error.find("permission[0] has no principal"), std::string::npos) << result.error;
}

}  // namespace
}  // namespace braid::dataplane
