#include "dataplane/config/cluster_compiler.h"

#include <algorithm>

namespace braid::dataplane {
namespace pb = braid::proxy::v1;

namespace {

// Envoy's bounds; above this a ring costs more memory per worker than it is worth.
constexpr uint32_t kMaxRingSize = 8388608;

void compileLb(const pb::Cluster& in, const std::string& where, ClusterConfig& out,
               std::vector<std::string>& problems) {
  switch (in.lb_policy()) {
    case pb::Cluster::ROUND_ROBIN:
      out.lbPolicy = LbPolicy::kRoundRobin;
      break;
    case pb::Cluster::LEAST_REQUEST:
      out.lbPolicy = LbPolicy::kLeastRequest;
      break;
    case pb::Cluster::RANDOM:
      out.lbPolicy = LbPolicy::kRandom;
      break;
    case pb::Cluster::RING_HASH:
    case pb::Cluster::MAGLEV:  // same guarantees from the ring (see snapshot.h)
      out.lbPolicy = LbPolicy::kRingHash;
      break;
    default:
      problems.push_back(where + ": unknown lb_policy " + std::to_string(in.lb_policy()));
  }
  if (!in.has_lb()) return;
  const pb::LoadBalancing& lb = in.lb();
  if (lb.choice_count() != 0) {
    if (lb.choice_count() < 2) problems.push_back(where + ": lb.choice_count must be at least 2");
    out.choiceCount = lb.choice_count();
  }
  if (lb.min_ring_size() != 0) out.minRingSize = std::min(lb.min_ring_size(), kMaxRingSize);
  if (lb.max_ring_size() != 0) out.maxRingSize = std::min(lb.max_ring_size(), kMaxRingSize);
  if (out.minRingSize > out.maxRingSize) {
    problems.push_back(where + ": lb.min_ring_size is above lb.max_ring_size");
  }
  for (const auto& policy : lb.hash_policies()) {
    HashPolicyConfig config;
    switch (policy.type()) {
      case pb::HashPolicy::CONNECTION:
        config.type = HashPolicyConfig::Type::kConnection;
        break;
      case pb::HashPolicy::HEADER:
        config.type = HashPolicyConfig::Type::kHeader;
        break;
      case pb::HashPolicy::COOKIE:
        config.type = HashPolicyConfig::Type::kCookie;
        break;
      case pb::HashPolicy::QUERY_PARAMETER:
        config.type = HashPolicyConfig::Type::kQueryParameter;
        break;
      case pb::HashPolicy::FILTER_STATE:
        config.type = HashPolicyConfig::Type::kFilterState;
        break;
      default:
        problems.push_back(where + ": unknown hash policy type " + std::to_string(policy.type()));
        continue;
    }
    if (config.type != HashPolicyConfig::Type::kConnection && policy.name().empty()) {
      problems.push_back(where + ": a hash policy has no name");
    }
    config.name = policy.name();
    config.terminal = policy.terminal();
    config.cookieTtl = std::chrono::milliseconds(policy.cookie_ttl_ms());
    config.cookiePath = policy.cookie_path();
    out.hashPolicies.push_back(std::move(config));
  }
}

void compileOutlier(const pb::OutlierDetection& in, const std::string& where,
                    OutlierDetectionConfig& out, std::vector<std::string>& problems) {
  out.enabled = true;
  if (in.interval_ms() != 0) out.interval = std::chrono::milliseconds(in.interval_ms());
  if (in.base_ejection_time_ms() != 0) {
    out.baseEjectionTime = std::chrono::milliseconds(in.base_ejection_time_ms());
  }
  if (in.max_ejection_percent() > 100) {
    problems.push_back(where + ": outlier_detection.max_ejection_percent is above 100");
  }
  out.maxEjectionPercent = std::min(in.max_ejection_percent(), 100u);
  out.splitExternalLocalErrors = in.split_external_local_errors();
  out.consecutive5xx = in.consecutive_5xx();
  out.consecutiveGatewayFailure = in.consecutive_gateway_failure();
  out.consecutiveLocalOriginFailure = in.consecutive_local_origin_failure();
}

}  // namespace

void compileClusterPolicies(const pb::Cluster& in, const std::string& where, ClusterConfig& out,
                            std::vector<std::string>& problems) {
  compileLb(in, where, out, problems);
  if (in.has_circuit_breakers()) {
    const auto& cb = in.circuit_breakers();
    out.circuitBreaker = {cb.max_connections(), cb.max_pending_requests(), cb.max_requests(),
                          cb.max_retries()};
  }
  if (in.has_outlier_detection()) {
    compileOutlier(in.outlier_detection(), where, out.outlierDetection, problems);
  }
  if (in.has_connection()) {
    out.maxConnectAttempts =
        static_cast<int>(std::min(in.connection().max_connect_attempts(), 100u));
    out.idleTimeout = std::chrono::milliseconds(in.connection().idle_timeout_ms());
    out.maxConnectionDuration =
        std::chrono::milliseconds(in.connection().max_connection_duration_ms());
  }
}

}  // namespace braid::dataplane
