#pragma once

// MeshHealthCheck's active checks (Envoy's HealthChecker). One thread with its own event loop
// per braid-dp probes every endpoint of every cluster that has a health check and publishes
// each endpoint's health in its EndpointCounters (EndpointCounters::activeHc), which the
// workers' balancers read (EndpointRuntime::usable()).
//
// Rules (Envoy's):
//  - A probe is a TCP connect, then for kTcp an optional send and the receive blocks expected in
//    order (not necessarily contiguous), for kHttp an HTTP/1.1 GET whose status must be one of
//    the expected ones. `timeout` bounds the whole probe.
//  - A network failure (refused, timed out, closed early, a malformed response) counts toward
//    unhealthyThreshold; an active failure (an HTTP status not expected) marks the endpoint
//    unhealthy at once. healthyThreshold successes in a row bring it back.
//  - Probes run every `interval` (+ intervalJitter and intervalJitterPercent of the interval,
//    random), or every noTrafficInterval while no endpoint of the cluster has ever had a
//    connection (back to `interval` within one interval of the first); the first one after a
//    random part of initialJitter.
//  - Panic: when the healthy endpoints (not failing active checks, not marked unhealthy by the
//    CP) are fewer than healthyPanicThreshold percent of the cluster, every endpoint marked
//    unhealthy by active checks is used again, or none with failTrafficOnPanic.
//  - Clusters with mTLS (other sidecars) are probed with a TCP connect to the sidecar's inbound:
//    that inbound is L4 and a probe through TLS is future work. gRPC and HTTP/2 checks (not
//    spoken yet) are TCP connects too.
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
#include "dataplane/upstream/cluster_runtime.h"

namespace braid::dataplane::upstream {

class HealthChecker {
 public:
  HealthChecker();   // starts the thread
  ~HealthChecker();  // stops it; the endpoints keep the health they had
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // The clusters of the configuration just applied (any thread; the work is posted to the
  // checker's loop). Endpoints or clusters that no longer have a health check stop being probed
  // and count as healthy again.
  void update(const std::map<std::string, ClusterRuntime>& clusters);
  // Waits until the checker has handled everything posted before (tests).
  void sync();

  struct Target;
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
