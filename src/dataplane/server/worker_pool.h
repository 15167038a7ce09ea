#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "dataplane/config/snapshot.h"
#include "dataplane/filters/tcp_proxy/tcp_proxy_session.h"
#include "dataplane/server/runtime_config.h"
#include "dataplane/stats/stats.h"
#include "dataplane/tls/workload_identity.h"
#include "dataplane/upstream/endpoint_registry.h"
#include "dataplane/upstream/health_checker.h"

namespace braid::dataplane {

class Worker;

// The data path: N worker threads, each with its own libevent loop and its own SO_REUSEPORT
// socket per listener, proxying TCP to the listener's cluster. Every method is called from the
// main thread (never from a worker); the ones that wait for the workers say so.
class WorkerPool {
 public:
  // Starts `workers` threads (at least 1). `limits` are the TCP proxy's buffering and retry limits.
  WorkerPool(int workers, Stats& stats, const tcp_proxy::ProxyLimits& limits = {});
  ~WorkerPool();  // stops and joins the workers, closing every socket
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Makes `next` the snapshot of new connections. Binds every listener address that is new (one
  // SO_REUSEPORT socket per worker, backlog 1024) before touching anything: on a failure it closes
  // what it opened and returns the error ("listener <name>: bind <ip>:<port>: <strerror>"), the
  // running snapshot untouched. Addresses already listening keep their sockets; addresses `next`
  // no longer has stop accepting, and their established connections carry on under the snapshot
  // they started with. Returns "" once every worker has switched. After stopListening() nothing
  // is bound any more, but the snapshot still changes. With mTLS on, the TLS contexts are built
  // from the snapshot's trusted roots and the latest identity (setIdentity); a root that does not
  // parse refuses the snapshot ("mTLS: trusted root 2: …").
  std::string apply(SnapshotPtr next);
  SnapshotPtr current() const;

  // Makes `identity` (key and certificates) the one new connections use: rebuilds the TLS
  // contexts for the current snapshot and switches the workers; open connections keep theirs.
  // On a PEM that does not parse, a certificate that does not match the key, … returns the error
  // and keeps the previous identity. Kept whatever its backend: during a CA rotation the old
  // identity serves until it is renewed.
  std::string setIdentity(WorkloadIdentityPtr identity);
  // True when the current snapshot has mTLS off, or the identity has a certificate for every
  // service in snapshot->identities. False before the first snapshot.
  bool identityReady() const;

  // Drain: closes every listening socket on every worker, for good; waits for the workers.
  void stopListening();
  // Downstream connections open, all workers.
  uint64_t activeConnections() const;

  // The current snapshot's endpoints, Envoy's /clusters style, one fact per line:
  //   <cluster>::<ip>:<port>::cx_active::N        (connecting or open, all workers)
  //   <cluster>::<ip>:<port>::cx_connect_fail::N
  //   <cluster>::<ip>:<port>::cx_total::N         (connect attempts)
  //   <cluster>::<ip>:<port>::weight::W
  //   (health_flags starts with /failed_active_hc while failing active health checks)
  //   <cluster>::<ip>:<port>::health_flags::healthy   (or /failed_eds_health, and or
  //                                                     /failed_outlier_check while ejected)
  //   <cluster>::default_priority::max_connections::N, <cluster>::upstream_cx_overflow::N
  //                                       (MeshCircuitBreaker maxConnections set)
  //   <cluster>::outlier::ejections_active::N, ::outlier::ejections_total::N (outlier detection)
  //   <cluster>::<ip>:<port>::origin::<mesh>/<dataplane>   (when the endpoint names one)
  std::string clustersText() const;

  // Bytes held in user space by all connections (bounded by the watermarks); waits for the
  // workers.
  size_t bufferedBytes() const;
  // Splice pipes held by connections in a bulk transfer; waits for the workers.
  size_t pipesInUse() const;
  // Adds every open connection's pending byte counts to the Stats now (they are otherwise added
  // when a connection closes and every second); waits for the workers.
  void flushStats();
  int workers() const { return static_cast<int>(workers_.size()); }

 private:
  // apply() with applyMutex_ held and `identity` as the identity.
  std::string applyLocked(SnapshotPtr next, const WorkloadIdentityPtr& identity);
  // Runs task(worker index) on every worker thread and waits for all of them.
  void onEveryWorker(const std::function<void(size_t)>& task) const;

  Stats& stats_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::mutex applyMutex_;  // one apply()/stopListening() at a time
  mutable std::mutex currentMutex_;
  std::shared_ptr<const RuntimeConfig> current_;
  WorkloadIdentityPtr identity_;     // guarded by currentMutex_ (read by identityReady)
  WorkloadIdentityPtr tlsIdentity_;  // the identity current_->tls was built from (applyMutex_)
  std::set<std::string> bound_;      // address keys every worker listens on
  bool draining_ = false;
  upstream::EndpointRegistry endpoints_;
  std::unique_ptr<upstream::HealthChecker> healthChecker_;  // MeshHealthCheck's thread
};

}  // namespace braid::dataplane
