#include "control-plane/xds/cluster_policies.h"

#include <algorithm>
#include <chrono>

#include "common/duration.h"

namespace braid::xds {
namespace pb = braid::proxy::v1;

namespace {

const Json* toConf(const policy_matching::MatchedPolicies& matched, const char* type,
                   const std::string& service) {
  auto found = matched.find(type);
  if (found == matched.end()) return nullptr;
  const Json* conf = found->second.toService(service);
  return conf != nullptr && conf->is_object() ? conf : nullptr;
}

const Json* objectAt(const Json& parent, const char* key) {
  if (!parent.contains(key) || !parent.at(key).is_object()) return nullptr;
  return &parent.at(key);
}

uint32_t u32At(const Json& parent, const char* key, uint32_t fallback) {
  if (!parent.contains(key) || !parent.at(key).is_number_integer()) return fallback;
  int64_t value = parent.at(key).get<int64_t>();
  return static_cast<uint32_t>(std::clamp<int64_t>(value, 0, UINT32_MAX));
}

// A Go duration in milliseconds; `fallback` when absent or malformed.
uint32_t msAt(const Json& parent, const char* key, uint32_t fallback) {
  if (!parent.contains(key) || !parent.at(key).is_string()) return fallback;
  auto d = parseDuration(parent.at(key).get<std::string>());
  if (!d) return fallback;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
  return static_cast<uint32_t>(std::clamp<int64_t>(ms, 0, UINT32_MAX));
}

std::string stringAt(const Json& parent, const char* key) {
  if (!parent.contains(key) || !parent.at(key).is_string()) return "";
  return parent.at(key).get<std::string>();
}

void compileHashPolicies(const Json& list, pb::LoadBalancing& lb) {
  if (!list.is_array()) return;
  for (const auto& item : list) {
    if (!item.is_object()) continue;
    std::string type = stringAt(item, "type");
    pb::HashPolicy policy;
    policy.set_terminal(item.contains("terminal") && item.at("terminal").is_boolean() &&
                        item.at("terminal").get<bool>());
    if (type == "Connection" || type == "SourceIP") {
      policy.set_type(pb::HashPolicy::CONNECTION);
    } else if (type == "Header") {
      policy.set_type(pb::HashPolicy::HEADER);
      if (const Json* o = objectAt(item, "header")) policy.set_name(stringAt(*o, "name"));
    } else if (type == "Cookie") {
      policy.set_type(pb::HashPolicy::COOKIE);
      if (const Json* o = objectAt(item, "cookie")) {
        policy.set_name(stringAt(*o, "name"));
        policy.set_cookie_ttl_ms(msAt(*o, "ttl", 0));
        policy.set_cookie_path(stringAt(*o, "path"));
      }
    } else if (type == "QueryParameter") {
      policy.set_type(pb::HashPolicy::QUERY_PARAMETER);
      if (const Json* o = objectAt(item, "queryParameter")) policy.set_name(stringAt(*o, "name"));
    } else if (type == "FilterState") {
      policy.set_type(pb::HashPolicy::FILTER_STATE);
      if (const Json* o = objectAt(item, "filterState")) policy.set_name(stringAt(*o, "key"));
    } else {
      continue;  // validation rejects other types
    }
    *lb.add_hash_policies() = std::move(policy);
  }
}

void applyLoadBalancing(const Json& conf, pb::Cluster& cluster) {
  const Json* balancer = objectAt(conf, "loadBalancer");
  bool hasHashPolicies = conf.contains("hashPolicies");
  if (balancer == nullptr && !hasHashPolicies) return;
  pb::LoadBalancing& lb = *cluster.mutable_lb();
  std::string type = balancer != nullptr ? stringAt(*balancer, "type") : "";
  if (type == "LeastRequest") {
    cluster.set_lb_policy(pb::Cluster::LEAST_REQUEST);
    const Json* o = objectAt(*balancer, "leastRequest");
    lb.set_choice_count(o != nullptr ? u32At(*o, "choiceCount", 2) : 2);
  } else if (type == "Random") {
    cluster.set_lb_policy(pb::Cluster::RANDOM);
  } else if (type == "RingHash") {
    cluster.set_lb_policy(pb::Cluster::RING_HASH);
    const Json* o = objectAt(*balancer, "ringHash");
    lb.set_min_ring_size(o != nullptr ? u32At(*o, "minRingSize", 1024) : 1024);
    lb.set_max_ring_size(o != nullptr ? u32At(*o, "maxRingSize", 8388608) : 8388608);
    std::string function = o != nullptr ? stringAt(*o, "hashFunction") : "";
    lb.set_hash_function(function.empty() ? "XXHash" : function);
    if (o != nullptr && o->contains("hashPolicies")) compileHashPolicies(o->at("hashPolicies"), lb);
  } else if (type == "Maglev") {
    cluster.set_lb_policy(pb::Cluster::MAGLEV);
    const Json* o = objectAt(*balancer, "maglev");
    lb.set_maglev_table_size(o != nullptr ? u32At(*o, "tableSize", 65537) : 65537);
    if (o != nullptr && o->contains("hashPolicies")) compileHashPolicies(o->at("hashPolicies"), lb);
  } else {
    cluster.set_lb_policy(pb::Cluster::ROUND_ROBIN);
  }
  if (hasHashPolicies) compileHashPolicies(conf.at("hashPolicies"), lb);
}

void applyCircuitBreaker(const Json& conf, pb::Cluster& cluster) {
  if (const Json* limits = objectAt(conf, "connectionLimits")) {
    pb::CircuitBreakers& cb = *cluster.mutable_circuit_breakers();
    cb.set_max_connections(u32At(*limits, "maxConnections", 1024));
    cb.set_max_pending_requests(u32At(*limits, "maxPendingRequests", 1024));
    cb.set_max_requests(u32At(*limits, "maxRequests", 1024));
    cb.set_max_retries(u32At(*limits, "maxRetries", 3));
  }
  const Json* outlier = objectAt(conf, "outlierDetection");
  if (outlier == nullptr) return;
  if (outlier->contains("disabled") && outlier->at("disabled").is_boolean() &&
      outlier->at("disabled").get<bool>()) {
    return;
  }
  pb::OutlierDetection& od = *cluster.mutable_outlier_detection();
  od.set_interval_ms(msAt(*outlier, "interval", 10000));
  od.set_base_ejection_time_ms(msAt(*outlier, "baseEjectionTime", 30000));
  od.set_max_ejection_percent(std::min<uint32_t>(u32At(*outlier, "maxEjectionPercent", 10), 100));
  od.set_split_external_local_errors(outlier->contains("splitExternalAndLocalErrors") &&
                                     outlier->at("splitExternalAndLocalErrors").is_boolean() &&
                                     outlier->at("splitExternalAndLocalErrors").get<bool>());
  const Json* detectors = objectAt(*outlier, "detectors");
  if (detectors == nullptr) return;
  // A detector given without `consecutive` takes Envoy's 5.
  auto consecutive = [&](const char* name) -> uint32_t {
    const Json* d = objectAt(*detectors, name);
    return d == nullptr ? 0 : u32At(*d, "consecutive", 5);
  };
  od.set_consecutive_5xx(consecutive("totalFailures"));
  od.set_consecutive_gateway_failure(consecutive("gatewayFailures"));
  od.set_consecutive_local_origin_failure(consecutive("localOriginFailures"));
}

void applyConnection(const Json* retry, const Json* timeout, pb::Cluster& cluster) {
  const Json* tcp = retry != nullptr ? objectAt(*retry, "tcp") : nullptr;
  bool hasAttempts = tcp != nullptr && tcp->contains("maxConnectAttempt");
  bool hasIdle = timeout != nullptr && timeout->contains("idleTimeout");
  const Json* http = timeout != nullptr ? objectAt(*timeout, "http") : nullptr;
  bool hasMaxDuration = http != nullptr && http->contains("maxConnectionDuration");
  if (!hasAttempts && !hasIdle && !hasMaxDuration) return;
  pb::ConnectionPolicy& connection = *cluster.mutable_connection();
  if (hasAttempts) connection.set_max_connect_attempts(u32At(*tcp, "maxConnectAttempt", 0));
  connection.set_idle_timeout_ms(hasIdle ? msAt(*timeout, "idleTimeout", kDefaultIdleTimeoutMs)
                                         : kDefaultIdleTimeoutMs);
  if (hasMaxDuration) {
    connection.set_max_connection_duration_ms(msAt(*http, "maxConnectionDuration", 0));
  }
}

}  // namespace

void applyClusterPolicies(const policy_matching::MatchedPolicies& matched,
                          const std::string& service, pb::Cluster& cluster) {
  if (const Json* conf = toConf(matched, "MeshLoadBalancingStrategy", service)) {
    applyLoadBalancing(*conf, cluster);
  }
  if (const Json* conf = toConf(matched, "MeshCircuitBreaker", service)) {
    applyCircuitBreaker(*conf, cluster);
  }
  applyConnection(toConf(matched, "MeshRetry", service), toConf(matched, "MeshTimeout", service),
                  cluster);
}

}  // namespace braid::xds
