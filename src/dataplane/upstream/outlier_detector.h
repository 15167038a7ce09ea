#pragma once

// Passive health (MeshCircuitBreaker outlierDetection) and the circuit-breaker counters of one
// cluster, shared by every worker and kept across snapshots (EndpointRegistry::outlier).
//
// Whoever talks to an endpoint reports each outcome with recordResult(): the TCP proxy its
// connect attempts, the HTTP router its responses. An endpoint is ejected when one detector's
// run of consecutive failures reaches its threshold:
//  - consecutive5xx (totalFailures): 5xx responses and gateway errors;
//  - consecutiveGatewayFailure (gatewayFailures): 502, 503, 504 (a 500 breaks the run);
//  - consecutiveLocalOriginFailure (localOriginFailures): with splitExternalLocalErrors only.
// Without splitExternalLocalErrors a local-origin failure (connect refused or timed out, reset,
// upstream TLS failure) is a gateway error (Envoy reads it as a 503), so a TCP endpoint that
// refuses connections is ejected by either detector.
// The n-th ejection lasts n × baseEjectionTime (at most max(base, 300 s), Envoy's
// max_ejection_time); n drops by one for every `interval` the endpoint then stays in. At most
// maxEjectionPercent of the cluster's endpoints are out at once, but one always may be (Envoy).
// Return is exact: an endpoint is back once its time is over (Envoy waits for the next sweep).
// Balancers skip ejected endpoints while any other is usable (else they use them all: Envoy's
// panic mode). Thread-safe: counters are atomics; ejections take a mutex (rare).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "dataplane/upstream/cluster_runtime.h"

namespace braid::dataplane::upstream {

enum class UpstreamResult {
  kConnectSuccess,      // a connection (and its TLS) is up: ends a local-origin run
  kSuccess,             // a response that is not a 5xx: ends every run
  kLocalOriginFailure,  // connect refused / timed out, reset, upstream TLS failure
  kGatewayError,        // 502, 503, 504
  kServerError,         // any other 5xx
};

class OutlierDetector {
 public:
  using Clock = std::chrono::steady_clock;

  // `endpoint` indexes cluster.endpoints. A no-op when the cluster has no outlier detection.
  void record(const ClusterRuntime& cluster, size_t endpoint, UpstreamResult result,
              Clock::time_point now = Clock::now());

  static bool isEjected(const EndpointCounters& counters, Clock::time_point now) {
    return counters.ejectedUntilNs.load(std::memory_order_relaxed) > now.time_since_epoch().count();
  }
  // Endpoints of `cluster` ejected at `now`.
  static size_t ejectedCount(const ClusterRuntime& cluster, Clock::time_point now);

  // Ejections the max-ejection-percent rule prevented (ejections themselves count in
  // ClusterCounters::outlierEjections, with the circuit breaker's upstreamCxOverflow).
  std::atomic<uint64_t> ejectionsOverflow{0};

 private:
  void eject(const ClusterRuntime& cluster, size_t endpoint, Clock::time_point now);

  std::mutex mutex_;
};

// The HTTP router's and TCP proxy's entry point.
inline void recordResult(const ClusterRuntime& cluster, size_t endpoint, UpstreamResult result) {
  if (cluster.outlier && cluster.config->outlierDetection.enabled) {
    cluster.outlier->record(cluster, endpoint, result);
  }
}

}  // namespace braid::dataplane::upstream
