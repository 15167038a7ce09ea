// The DP side of routes: ProxyConfig RouteTable / TcpProxy weights → Snapshot structs, with every
// problem listed; and every golden ProxyConfig the CP generates compiles.
#include "dataplane/config/route_compiler.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dataplane/config/proxy_config_compiler.h"
#include "support/golden.h"

namespace braid::dataplane {
namespace {
namespace pb = braid::proxy::v1;

pb::Cluster* addCluster(pb::ProxyConfig& config, const std::string& name) {
  auto* cluster = config.add_clusters();
  cluster->set_name(name);
  auto* e = cluster->add_endpoints();
  e->mutable_address()->set_address("10.0.0.1");
  e->mutable_address()->set_port(10001);
  return cluster;
}

pb::Listener* addListener(pb::ProxyConfig& config, uint32_t port) {
  auto* listener = config.add_listeners();
  listener->set_name("outbound:127.0.0.1:" + std::to_string(port));
  listener->mutable_address()->set_address("127.0.0.1");
  listener->mutable_address()->set_port(port);
  listener->set_direction(pb::Listener::OUTBOUND);
  listener->set_protocol("http");
  return listener;
}

pb::ProxyConfig httpConfig() {
  pb::ProxyConfig config;
  addCluster(config, "backend");
  addCluster(config, "backend{version=v2}");
  auto* http = addListener(config, 20001)->add_filter_chains()->mutable_http();
  http->set_stat_prefix("backend");
  auto* v2 = http->mutable_routes()->add_routes();
  v2->set_name("rule-0");
  auto* h = v2->mutable_match()->add_headers();
  h->set_name("x-version");
  h->set_regex("v2|v3");
  auto* action = v2->mutable_route();
  auto* c = action->add_clusters();
  c->set_cluster("backend{version=v2}");
  c->set_weight(20);
  c = action->add_clusters();
  c->set_cluster("backend");
  c->set_weight(80);
  action->set_timeout_ms(3000);
  auto* retry = action->mutable_retry();
  retry->set_num_retries(2);
  retry->add_retry_on("5xx");
  retry->add_retry_on("retriable-status-codes");
  retry->add_retriable_status_codes(429);
  retry->set_backoff_base_ms(40);
  auto* redirect = http->mutable_routes()->add_routes();
  redirect->set_name("rule-1");
  redirect->mutable_match()->set_prefix("/old");
  redirect->mutable_redirect()->set_prefix("/new");
  redirect->mutable_redirect()->set_status(301);
  auto* def = http->mutable_routes()->add_routes();
  def->set_name("default");
  def->mutable_match()->set_prefix("/");
  c = def->mutable_route()->add_clusters();
  c->set_cluster("backend");
  c->set_weight(1);
  return config;
}

TEST(RouteCompiler, CompilesAnHttpListener) {
  auto result = compileProxyConfig(httpConfig(), "v1");
  ASSERT_TRUE(result.snapshot) << result.error;
  const ListenerConfig& l = result.snapshot->listeners.at(0);
  ASSERT_TRUE(l.http.has_value());
  EXPECT_EQ(l.cluster, "backend");  // the stat prefix names the outbound's own cluster
  const auto& routes = l.http->routes.routes;
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[0].match.headers.at(0).kind, HeaderMatcher::Kind::kRegex);
  ASSERT_TRUE(routes[0].match.headers.at(0).regex.re);
  EXPECT_EQ(routes[0].action.totalWeight, 100u);
  EXPECT_EQ(routes[0].action.timeout, std::chrono::milliseconds(3000));
  EXPECT_TRUE(routes[0].action.retry.enabled);
  EXPECT_EQ(routes[0].action.retry.retryOn, RetryPolicy::k5xx | RetryPolicy::kRetriableStatusCodes);
  EXPECT_EQ(routes[0].action.retry.backoffMax, std::chrono::milliseconds(400));  // 10× base
  EXPECT_EQ(routes[0].action.retry.retriableStatusCodes, std::vector<uint16_t>{429});
  EXPECT_TRUE(routes[1].isRedirect);
  EXPECT_EQ(routes[1].redirect.path, PathReplace::kPrefix);
  EXPECT_EQ(routes[1].redirect.status, 301);
  EXPECT_FALSE(routes[2].action.retry.enabled);
}

TEST(RouteCompiler, ListsEveryProblem) {
  pb::ProxyConfig config = httpConfig();
  auto* routes =
      config.mutable_listeners(0)->mutable_filter_chains(0)->mutable_http()->mutable_routes();
  routes->mutable_routes(0)->mutable_match()->mutable_headers(0)->set_regex("(unclosed");
  routes->mutable_routes(0)->mutable_route()->mutable_clusters(0)->set_cluster("nowhere");
  routes->mutable_routes(0)->mutable_route()->mutable_retry()->add_retry_on("sometimes");
  routes->mutable_routes(1)->mutable_redirect()->set_status(200);
  routes->mutable_routes(2)->mutable_match()->set_regex("[z-a]");
  routes->add_routes()->set_name("empty");
  auto result = compileProxyConfig(config, "v1");
  ASSERT_FALSE(result.snapshot);
  for (const char* expected :
       {"route[0] rule-0 header[0]: regex '(unclosed' is invalid",
        "route[0] rule-0: cluster 'nowhere' is not defined", "unknown retry_on 'sometimes'",
        "route[1] rule-1: redirect status 200", "route[2] default path: regex '[z-a]' is invalid",
        "route[3] empty: has neither route nor redirect"}) {
    EXPECT_NE(result.error.find(expected), std::string::npos) << expected << "\n" << result.error;
  }
}

TEST(RouteCompiler, PrefixRewriteNeedsAPrefixMatch) {
  pb::ProxyConfig config = httpConfig();
  auto* route = config.mutable_listeners(0)
                    ->mutable_filter_chains(0)
                    ->mutable_http()
                    ->mutable_routes()
                    ->mutable_routes(0);
  route->mutable_route()->mutable_rewrite()->set_prefix("/v2");
  auto result = compileProxyConfig(config, "v1");
  ASSERT_FALSE(result.snapshot);
  EXPECT_NE(result.error.find("a prefix replacement needs a prefix match"), std::string::npos);
}

TEST(RouteCompiler, TcpWeightedClusters) {
  pb::ProxyConfig config;
  addCluster(config, "db");
  addCluster(config, "db{role=primary}");
  auto* tcp = addListener(config, 20002)->add_filter_chains()->mutable_tcp_proxy();
  tcp->set_cluster("db");
  auto* w = tcp->add_weighted_clusters();
  w->set_cluster("db{role=primary}");
  w->set_weight(90);
  w = tcp->add_weighted_clusters();
  w->set_cluster("db{role=replica}");
  w->set_weight(10);
  auto refused = compileProxyConfig(config, "v1");
  ASSERT_FALSE(refused.snapshot);
  EXPECT_NE(refused.error.find("tcp_proxy: cluster 'db{role=replica}' is not defined"),
            std::string::npos)
      << refused.error;
  addCluster(config, "db{role=replica}");
  auto result = compileProxyConfig(config, "v1");
  ASSERT_TRUE(result.snapshot) << result.error;
  const ListenerConfig& l = result.snapshot->listeners.at(0);
  EXPECT_FALSE(l.http.has_value());
  EXPECT_EQ(l.totalWeight, 100u);
  ASSERT_EQ(l.weightedClusters.size(), 2u);
  EXPECT_EQ(l.weightedClusters[1], (WeightedCluster{"db{role=replica}", 10}));
}

// What the CP generates, the DP accepts: every golden ProxyConfig compiles.
TEST(RouteCompiler, EveryGoldenProxyConfigCompiles) {
  auto dir = testing::sourceDir() / "tests/golden/xds";
  int http = 0;
  for (const auto& file : testing::filesIn(dir, ".json")) {
    auto doc = nlohmann::json::parse(testing::readFile(file));
    pb::ProxyConfig config;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(doc.at("config").dump(), &config).ok())
        << file;
    auto result = compileProxyConfig(config, "golden");
    EXPECT_TRUE(result.snapshot) << file << ": " << result.error;
    if (!result.snapshot) continue;
    for (const auto& l : result.snapshot->listeners) http += l.http.has_value();
  }
  EXPECT_GE(http, 6);
}

}  // namespace
}  // namespace braid::dataplane
