// Cluster fields 7-10 (MeshLoadBalancingStrategy, MeshCircuitBreaker, MeshRetry tcp, MeshTimeout
// idleTimeout) → ClusterConfig.

#include "dataplane/config/cluster_compiler.h"

#include <gtest/gtest.h>

namespace braid::dataplane {
namespace {

namespace pb = braid::proxy::v1;

TEST(ClusterCompilerTest, AbsentFieldsKeepTheDefaults) {
  pb::Cluster in;
  ClusterConfig out;
  std::vector<std::string> problems;
  compileClusterPolicies(in, "cluster c", out, problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(out.lbPolicy, LbPolicy::kRoundRobin);
  EXPECT_EQ(out.choiceCount, 0u);
  EXPECT_EQ(out.circuitBreaker.maxConnections, 0u);  // no limit without a MeshCircuitBreaker
  EXPECT_FALSE(out.outlierDetection.enabled);
  EXPECT_EQ(out.maxConnectAttempts, 0);
  EXPECT_EQ(out.idleTimeout, std::chrono::hours(1));
}

TEST(ClusterCompilerTest, CompilesEveryPolicy) {
  pb::Cluster in;
  in.set_lb_policy(pb::Cluster::MAGLEV);
  in.mutable_lb()->set_min_ring_size(64);
  pb::HashPolicy* header = in.mutable_lb()->add_hash_policies();
  header->set_type(pb::HashPolicy::HEADER);
  header->set_name("x-user");
  in.mutable_lb()->add_hash_policies()->set_type(pb::HashPolicy::CONNECTION);
  in.mutable_circuit_breakers()->set_max_connections(7);
  in.mutable_circuit_breakers()->set_max_pending_requests(9);
  pb::OutlierDetection* od = in.mutable_outlier_detection();
  od->set_base_ejection_time_ms(500);
  od->set_max_ejection_percent(30);
  od->set_consecutive_gateway_failure(4);
  in.mutable_connection()->set_max_connect_attempts(6);
  in.mutable_connection()->set_idle_timeout_ms(0);
  ClusterConfig out;
  std::vector<std::string> problems;
  compileClusterPolicies(in, "cluster c", out, problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(out.lbPolicy, LbPolicy::kRingHash);  // Maglev is served by the ring
  EXPECT_EQ(out.minRingSize, 64u);
  ASSERT_EQ(out.hashPolicies.size(), 2u);
  EXPECT_EQ(out.hashPolicies[0].type, HashPolicyConfig::Type::kHeader);
  EXPECT_EQ(out.hashPolicies[0].name, "x-user");
  EXPECT_EQ(out.hashPolicies[1].type, HashPolicyConfig::Type::kConnection);
  EXPECT_EQ(out.circuitBreaker.maxConnections, 7u);
  EXPECT_EQ(out.circuitBreaker.maxPendingRequests, 9u);
  EXPECT_TRUE(out.outlierDetection.enabled);
  EXPECT_EQ(out.outlierDetection.interval, std::chrono::seconds(10));  // Envoy's, unset
  EXPECT_EQ(out.outlierDetection.baseEjectionTime, std::chrono::milliseconds(500));
  EXPECT_EQ(out.outlierDetection.maxEjectionPercent, 30u);
  EXPECT_EQ(out.outlierDetection.consecutive5xx, 0u);  // not set: off
  EXPECT_EQ(out.outlierDetection.consecutiveGatewayFailure, 4u);
  EXPECT_EQ(out.maxConnectAttempts, 6);
  EXPECT_EQ(out.idleTimeout.count(), 0);  // 0: never
}

TEST(ClusterCompilerTest, RejectsWhatCannotBeServed) {
  pb::Cluster in;
  in.set_lb_policy(static_cast<pb::Cluster::LbPolicy>(42));
  in.mutable_lb()->set_choice_count(1);
  in.mutable_lb()->set_min_ring_size(100);
  in.mutable_lb()->set_max_ring_size(10);
  in.mutable_lb()->add_hash_policies()->set_type(pb::HashPolicy::COOKIE);  // no name
  in.mutable_outlier_detection()->set_max_ejection_percent(101);
  ClusterConfig out;
  std::vector<std::string> problems;
  compileClusterPolicies(in, "cluster c", out, problems);
  ASSERT_EQ(problems.size(), 5u);
  EXPECT_EQ(problems[0], "cluster c: unknown lb_policy 42");
  EXPECT_EQ(problems[4], "cluster c: outlier_detection.max_ejection_percent is above 100");
}

}  // namespace
}  // namespace braid::dataplane
