#pragma once

// MeshHealthCheck's active checks (Envoy's HealthChecker). One thread with its own event loop
// per braid-dp probes every endpoint of every cluster that has a health check and publishes
// each endpoint's health in its EndpointCounters (EndpointCounters::activeHc), which the
// workers' balancers read (EndpointRuntime::usable()).
//
// Rules (Envoy's):
//  - A probe (health_probe.h) connects; for a cluster with mTLS (another sidecar: every cluster of
//    an mTLS mesh) it then does the data path's mTLS client handshake (this proxy's certificate,
//    the mesh's roots, the server's SVID checked against the cluster's SAN). Over that stream:
//    kTcp sends `send` and expects the receive blocks in order (not necessarily contiguous),
//    kHttp a GET (HTTP/1.1; HTTP/2 for `http2` services) whose status must be one of the
//    expected ones, kGrpc a grpc.health.v1.Health/Check over HTTP/2 that must answer SERVING.
//    The peer sidecar's inbound is L4, so the check reaches its app. `timeout` bounds the whole
//    probe.
//  - A network failure (refused, timed out, a failed TLS handshake or server identity, closed
//    early, a malformed response) counts toward unhealthyThreshold; an active failure (an HTTP
//    status not expected, a gRPC answer other than OK + SERVING) marks the endpoint unhealthy at
//    once. healthyThreshold successes in a row bring it back.
//  - Probes run every `interval` (+ intervalJitter and intervalJitterPercent of the interval,
//    random), or every noTrafficInterval while no endpoint of the cluster has ever had a
//    connection (back to `interval` within one interval of the first); the first one after a
//    random part of initialJitter.
//  - Panic: when the healthy endpoints (not failing active checks, not marked unhealthy by the
//    CP) are fewer than healthyPanicThreshold percent of the cluster, every endpoint marked
//    unhealthy by active checks is used again, or none with failTrafficOnPanic.
//  - An mTLS cluster is not probed until this proxy has its certificate (no probe, no verdict).
//  - An endpoint starts healthy (a configuration push must not stop traffic); state is kept by
//    (cluster, endpoint address) across snapshots, like the endpoint counters.
//  - Every probe connects anew: reuseConnection is not implemented.

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dataplane/event/event_loop.h"
#include "dataplane/tls/tls_contexts.h"
#include "dataplane/upstream/cluster_runtime.h"
#include "dataplane/upstream/health_probe.h"

namespace braid::dataplane::upstream {

class HealthChecker {
 public:
  HealthChecker();   // starts the thread
  ~HealthChecker();  // stops it; the endpoints keep the health they had
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // The clusters of the configuration just applied, with its TLS contexts (RuntimeConfig::tls,
  // which own the clusters' tlsClient; nullptr: none) (any thread; the work is posted to the
  // checker's loop). Endpoints or clusters that no longer have a health check stop being probed
  // and count as healthy again.
  void update(const std::map<std::string, ClusterRuntime>& clusters,
              tls::TlsContextsPtr contexts = nullptr);
  // Waits until the checker has handled everything posted before (tests).
  void sync();

  using Target = HealthProbeTarget;
  class Session;

 private:
  void applyOnLoop(std::vector<Target> targets);
  void publishPanic(const std::string& cluster);
  bool clusterHasTraffic(const std::string& cluster) const;

  event::EventLoop loop_;
  // Loop thread only. By (cluster, endpoint key).
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Session>> sessions_;
  std::thread thread_;
};

}  // namespace braid::dataplane::upstream
