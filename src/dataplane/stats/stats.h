#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "dataplane/stats/latency_histogram.h"

namespace braid::dataplane {

// Counters of one listener. Workers look the object up once per snapshot and then update it with
// relaxed atomics; byte counts are accumulated per connection and added in batches.
struct alignas(64) ListenerCounters {
  std::atomic<uint64_t> connectionsTotal{0};
  std::atomic<uint64_t> connectionsActive{0};
  std::atomic<uint64_t> bytesReceived{0};  // from downstream
  std::atomic<uint64_t> bytesSent{0};      // to downstream
  // mTLS inbounds (CONTRACT §6).
  std::atomic<uint64_t> sslHandshakes{0};       // completed and verified
  std::atomic<uint64_t> sslHandshakeErrors{0};  // failed, or the peer is no valid SVID
  std::atomic<uint64_t> sslNoCertificate{0};    // the client presented no certificate
  std::atomic<uint64_t> sslIdentityMissing{0};  // closed: no certificate of ours to present
  std::atomic<uint64_t> rbacAllowed{0};
  std::atomic<uint64_t> rbacDenied{0};
  std::atomic<uint64_t> rbacShadowDenied{0};  // allowed, but a shadow rule would deny
  // HTTP listeners: responses sent downstream (proxied or local), by status class.
  std::atomic<uint64_t> downstreamRq1xx{0};
  std::atomic<uint64_t> downstreamRq2xx{0};
  std::atomic<uint64_t> downstreamRq3xx{0};
  std::atomic<uint64_t> downstreamRq4xx{0};
  std::atomic<uint64_t> downstreamRq5xx{0};
  // HTTP: from a request's head received to its end (response complete, or given up).
  LatencyHistogram downstreamRqTime;
};

// Counters of one cluster (all its endpoints).
struct alignas(64) ClusterCounters {
  std::atomic<uint64_t> upstreamConnectionsTotal{0};  // connect attempts
  std::atomic<uint64_t> upstreamConnectionsActive{0};
  std::atomic<uint64_t> connectFailures{0};  // refused, unreachable or timed out
  std::atomic<uint64_t> connectTimeouts{0};  // the timed-out subset of connectFailures
  std::atomic<uint64_t> bytesSent{0};        // to upstream
  std::atomic<uint64_t> bytesReceived{0};    // from upstream
  std::atomic<uint64_t> noHealthyEndpoint{0};
  // mTLS to other proxies: failed handshakes (bad or unexpected server certificate included),
  // also counted in connectFailures; handshakes that resumed a session.
  std::atomic<uint64_t> upstreamSslHandshakeErrors{0};
  std::atomic<uint64_t> upstreamSslSessionReused{0};
  // MeshHealthCheck probes of the cluster's endpoints, and those that failed.
  std::atomic<uint64_t> healthCheckAttempts{0};
  std::atomic<uint64_t> healthCheckFailures{0};
  // HTTP: responses received from upstream, by status class (each try counts).
  std::atomic<uint64_t> upstreamRq1xx{0};
  std::atomic<uint64_t> upstreamRq2xx{0};
  std::atomic<uint64_t> upstreamRq3xx{0};
  std::atomic<uint64_t> upstreamRq4xx{0};
  std::atomic<uint64_t> upstreamRq5xx{0};
  std::atomic<uint64_t> upstreamRqRetry{0};    // retries started
  std::atomic<uint64_t> upstreamRqTimeout{0};  // requests answered 504 by the route's timeout
  // Requests in progress and the retries among them (the retry budget's inputs, all workers).
  std::atomic<uint64_t> upstreamRqActive{0};
  std::atomic<uint64_t> upstreamRqRetryActive{0};
  // Cluster policies (docs/policies.md).
  std::atomic<uint64_t> upstreamCxOverflow{0};  // refused: MeshCircuitBreaker maxConnections
  std::atomic<uint64_t> upstreamRqOverflow{0};  // answered 503: MeshCircuitBreaker maxRequests
  // HTTP requests waiting for a new upstream connection (connect and TLS handshake), and those
  // answered 503 because MeshCircuitBreaker maxPendingRequests were already waiting.
  std::atomic<uint64_t> upstreamRqPendingActive{0};
  std::atomic<uint64_t> upstreamRqPendingOverflow{0};
  // RequestMirror copies to this cluster dropped because too many were in flight.
  std::atomic<uint64_t> upstreamRqMirrorDropped{0};
  std::atomic<uint64_t> outlierEjections{0};  // endpoints ejected by outlier detection
  std::atomic<uint64_t> idleTimeouts{0};      // TCP connections closed by MeshTimeout idleTimeout
  // HTTP, each try: from its request sent to its response complete or the try's failure.
  LatencyHistogram upstreamRqTime;
};

// Counters of one HTTP route of one listener: the requests it matched, by the class of the
// status sent downstream (proxied or local), their retries and timeouts, and their duration
// (as the listener's downstreamRqTime).
struct alignas(64) RouteCounters {
  std::atomic<uint64_t> rq1xx{0};
  std::atomic<uint64_t> rq2xx{0};
  std::atomic<uint64_t> rq3xx{0};
  std::atomic<uint64_t> rq4xx{0};
  std::atomic<uint64_t> rq5xx{0};
  std::atomic<uint64_t> rqRetry{0};    // retries started
  std::atomic<uint64_t> rqTimeout{0};  // answered 504 by the route's (or a try's) timeout
  LatencyHistogram rqTime;
};

// The proxy's statistics, thread-safe. Counters are keyed by listener / cluster / route name and
// live as long as the Stats object, so they survive snapshot changes.
class Stats {
 public:
  std::shared_ptr<ListenerCounters> listener(const std::string& name);
  std::shared_ptr<ClusterCounters> cluster(const std::string& name);
  // Keyed by the listener's name and the route's name (route names repeat across listeners).
  std::shared_ptr<RouteCounters> route(const std::string& listener, const std::string& route);

  // Prometheus text exposition format 0.0.4.
  std::string renderPrometheus() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<ListenerCounters>> listeners_;
  std::map<std::string, std::shared_ptr<ClusterCounters>> clusters_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<RouteCounters>> routes_;
};

}  // namespace braid::dataplane
