#pragma once

// The running configuration of braid-dp, as the workers see it: compiled on the main thread from
// the CP's ProxyConfig (config/proxy_config_compiler.cc), validated whole, then shared read-only
// with every worker as a std::shared_ptr<const Snapshot>. New connections take the newest
// snapshot; open ones keep the one they started with until they close. No protobuf here: workers
// never see generated code.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/health_check_config.h"
#include "dataplane/config/route_config.h"

namespace braid::dataplane {

struct SocketAddress {
  std::string ip;  // IPv4 or IPv6 literal
  uint16_t port = 0;
  bool operator==(const SocketAddress&) const = default;
};

struct EndpointConfig {
  SocketAddress address;
  uint32_t weight = 1;
  bool healthy = true;
  std::string origin;  // "<mesh>/<dataplane>", for /clusters
};

// MeshLoadBalancingStrategy's Maglev is balanced as kRingHash (the same consistency: a key keeps
// its endpoint, and only the keys of an endpoint that leaves move).
enum class LbPolicy { kRoundRobin, kLeastRequest, kRandom, kRingHash };

// Where a hashing balancer takes its key (the HTTP connection manager evaluates them in order;
// a TCP proxy always hashes the caller's source IP).
struct HashPolicyConfig {
  enum class Type { kConnection, kHeader, kCookie, kQueryParameter, kFilterState };
  Type type = Type::kConnection;
  std::string name;  // header / cookie / query parameter name, filter-state key
  bool terminal = false;
  std::chrono::milliseconds cookieTtl{0};
  std::string cookiePath;
};

// MeshCircuitBreaker connectionLimits. 0 = no limit (no MeshCircuitBreaker: the CP fills
// Envoy's 1024 whenever connectionLimits is given).
struct CircuitBreakerConfig {
  uint32_t maxConnections = 0;      // upstream connections of the cluster, all workers together
  uint32_t maxPendingRequests = 0;  // HTTP
  uint32_t maxRequests = 0;         // HTTP
  uint32_t maxRetries = 0;          // HTTP
};

// MeshCircuitBreaker outlierDetection (upstream/outlier_detector.h). A threshold of 0 is off.
struct OutlierDetectionConfig {
  bool enabled = false;
  std::chrono::milliseconds interval{10000};
  std::chrono::milliseconds baseEjectionTime{30000};
  uint32_t maxEjectionPercent = 10;
  bool splitExternalLocalErrors = false;
  uint32_t consecutive5xx = 0;
  uint32_t consecutiveGatewayFailure = 0;
  uint32_t consecutiveLocalOriginFailure = 0;
};

// Mutual TLS between proxies (CONTRACT §6), compiled from the CP's ProxyConfig.mtls.
enum class TlsMode { kDisabled, kStrict, kPermissive };
enum class PermissionAction { kAllow, kDeny, kAllowWithShadowDeny };

// One MeshTrafficPermission rule, compiled by the CP. Rules are evaluated in order against the
// caller's SPIFFE ID; the first match decides; no match denies.
struct PermissionRule {
  enum class Match { kAny, kExact, kPrefix };
  Match match = Match::kAny;
  std::string value;  // the SPIFFE ID (kExact) or its prefix (kPrefix)
  PermissionAction action = PermissionAction::kDeny;
  std::string policy;  // the MeshTrafficPermission(s) it came from, for logs
  bool operator==(const PermissionRule&) const = default;
};

// An inbound's TLS and permissions.
struct InboundSecurity {
  TlsMode mode = TlsMode::kDisabled;
  std::string identity;  // the service whose certificate the listener presents
  bool enforcePermissions = false;
  std::vector<PermissionRule> rules;
  bool operator==(const InboundSecurity&) const = default;
};

// TLS from this proxy to a cluster's endpoints (other proxies).
struct UpstreamTls {
  bool enabled = false;
  std::string identity;     // the service whose certificate this proxy presents
  std::string expectedSan;  // the URI SAN the server must present: spiffe://<mesh>/<service>
  std::string sni;          // "<service>{mesh=<mesh>}" (CONTRACT §8)
  bool operator==(const UpstreamTls&) const = default;
};

struct ClusterConfig {
  std::string name;
  std::string service;  // "" for an inbound's local app
  LbPolicy lbPolicy = LbPolicy::kRoundRobin;
  std::chrono::milliseconds connectTimeout{5000};  // Envoy's default
  std::vector<EndpointConfig> endpoints;
  UpstreamTls tls;
  std::optional<HealthCheckConfig> healthCheck;  // MeshHealthCheck: active checks
  // MeshLoadBalancingStrategy details (cluster_compiler.h).
  // kLeastRequest: compare this many random endpoints (P2C); 0 = compare them all.
  uint32_t choiceCount = 0;
  uint32_t minRingSize = 1024;  // kRingHash
  uint32_t maxRingSize = 8388608;
  std::vector<HashPolicyConfig> hashPolicies;
  CircuitBreakerConfig circuitBreaker;
  OutlierDetectionConfig outlierDetection;
  int maxConnectAttempts = 0;  // MeshRetry tcp.maxConnectAttempt; 0 = ProxyLimits'
  // MeshTimeout idleTimeout: a TCP connection with no bytes either way this long is closed, and
  // an HTTP connection idle in a pool this long is not reused; 0 = never. Envoy's default.
  std::chrono::milliseconds idleTimeout{3600 * 1000};
  // MeshTimeout http.maxConnectionDuration: an HTTP connection this old is not reused; 0 = none.
  std::chrono::milliseconds maxConnectionDuration{0};
};

struct MtlsConfig {
  bool enabled = false;
  std::string backend;                       // certificates must be issued by this backend
  std::string trustDomain;                   // the mesh name
  std::vector<std::string> trustedRootsPem;  // every backend's root: rotation without failures
  bool operator==(const MtlsConfig&) const = default;
};

enum class Direction { kInbound, kOutbound };

struct ListenerConfig {
  std::string name;  // "inbound:127.0.0.1:8080"; unique in a snapshot
  SocketAddress address;
  Direction direction = Direction::kOutbound;
  // The TCP proxy's target; always a key of Snapshot::clusters. For an HTTP listener: the
  // outbound's own cluster (the one its catch-all route forwards to).
  std::string cluster;
  // MeshTCPRoute: when not empty, each TCP connection goes to one of these, picked by weight
  // (the worker picks; `cluster` is then unused).
  std::vector<WeightedCluster> weightedClusters;
  uint64_t totalWeight = 0;  // sum of weightedClusters' weights
  // An HTTP connection manager with its routes (protocol http, http2, grpc outbounds); absent:
  // a TCP proxy.
  std::optional<HttpConnectionManagerConfig> http;
  std::string statPrefix;        // label used in stats
  std::string protocol = "tcp";  // tcp, http, http2, grpc: how a denied caller is answered
  InboundSecurity security;      // inbound only
  bool operator==(const ListenerConfig&) const = default;
};

struct Snapshot {
  std::string version;  // the CP's version_info
  std::vector<ListenerConfig> listeners;
  std::map<std::string, ClusterConfig> clusters;
  MtlsConfig mtls;
  // The services this proxy needs a certificate for (its inbounds'; the first is also its
  // outbound identity). Empty when mTLS is off.
  std::vector<std::string> identities;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace braid::dataplane
