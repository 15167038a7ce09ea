#include "dataplane/server/worker_pool.h"

#include <latch>
#include <map>

#include "dataplane/network/socket_ops.h"
#include "dataplane/server/worker.h"
#include "dataplane/upstream/outlier_detector.h"

namespace braid::dataplane {
namespace {

constexpr int kListenBacklog = 1024;

}  // namespace

WorkerPool::WorkerPool(int workers, Stats& stats, const tcp_proxy::ProxyLimits& limits)
    : stats_(stats) {
  for (int i = 0; i < std::max(workers, 1); ++i) {
    workers_.push_back(std::make_unique<Worker>(limits));
  }
  healthChecker_ = std::make_unique<upstream::HealthChecker>();
}

WorkerPool::~WorkerPool() = default;

void WorkerPool::onEveryWorker(const std::function<void(size_t)>& task) const {
  std::latch finished(static_cast<std::ptrdiff_t>(workers_.size()));
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->post([&task, &finished, i] {
      task(i);
      finished.count_down();
    });
  }
  finished.wait();
}

std::string WorkerPool::apply(SnapshotPtr next) {
  std::lock_guard lock(applyMutex_);
  WorkloadIdentityPtr identity;
  {
    std::lock_guard currentLock(currentMutex_);
    identity = identity_;
  }
  return applyLocked(std::move(next), identity);
}

std::string WorkerPool::setIdentity(WorkloadIdentityPtr identity) {
  std::lock_guard lock(applyMutex_);
  if (!identity) return "no identity";
  SnapshotPtr snapshot = current();
  if (snapshot) {
    // The same snapshot again: nothing to bind, the workers switch to the new contexts.
    if (std::string error = applyLocked(snapshot, identity); !error.empty()) return error;
  } else {
    // No configuration yet: check the key and certificates on their own.
    std::string error;
    if (!tls::TlsContexts::build(MtlsConfig{}, *identity, error)) return error;
  }
  std::lock_guard currentLock(currentMutex_);
  identity_ = std::move(identity);
  return "";
}

bool WorkerPool::identityReady() const {
  std::lock_guard lock(currentMutex_);
  if (!current_) return false;
  const Snapshot& snapshot = *current_->snapshot;
  if (!snapshot.mtls.enabled) return true;
  if (!identity_) return false;
  for (const auto& service : snapshot.identities) {
    if (!identity_->certChainPemByService.contains(service)) return false;
  }
  return true;
}

std::string WorkerPool::applyLocked(SnapshotPtr next, const WorkloadIdentityPtr& identity) {
  if (!next) return "no snapshot";
  if (std::string error = validateSnapshot(*next); !error.empty()) return error;
  tls::TlsContextsPtr contexts;
  if (next->mtls.enabled && identity) {
    std::shared_ptr<const RuntimeConfig> running;
    {
      std::lock_guard currentLock(currentMutex_);
      running = current_;
    }
    if (running && running->tls && tlsIdentity_ == identity &&
        running->snapshot->mtls == next->mtls) {
      // Same identity, same roots: keep the contexts, so sessions (the server's ticket keys,
      // the client session cache) survive configuration changes.
      contexts = running->tls;
    } else {
      std::string error;
      contexts = tls::TlsContexts::build(next->mtls, *identity, error);
      if (!contexts) return "mTLS: " + error;
    }
  }

  // Bind first: a failure must leave the running configuration as it is.
  std::map<std::string, std::vector<network::UniqueFd>> opened;  // address key → one per worker
  std::set<std::string> addresses;
  for (const auto& listener : next->listeners) {
    auto address = *network::resolve(listener.address);
    std::string key = network::formatAddress(address);
    addresses.insert(key);
    if (draining_ || bound_.contains(key)) continue;
    if (std::string error = network::probeAddressFree(address); !error.empty()) {
      return "listener " + listener.name + ": " + error;
    }
    auto& sockets = opened[key];
    for (size_t i = 0; i < workers_.size(); ++i) {
      network::UniqueFd socket;
      std::string error = network::openListenSocket(address, kListenBacklog, socket);
      if (!error.empty()) return "listener " + listener.name + ": " + error;
      sockets.push_back(std::move(socket));
    }
  }

  auto runtime = buildRuntimeConfig(std::move(next), stats_, endpoints_, std::move(contexts));
  onEveryWorker([&](size_t worker) {
    std::map<std::string, network::UniqueFd> sockets;
    for (auto& [key, perWorker] : opened) sockets.emplace(key, std::move(perWorker[worker]));
    workers_[worker]->applyOnLoop(runtime, std::move(sockets));
  });
  healthChecker_->update(runtime->clusters, runtime->tls);
  if (!draining_) bound_ = std::move(addresses);
  tlsIdentity_ = identity;
  {
    std::lock_guard currentLock(currentMutex_);
    current_ = std::move(runtime);
  }
  endpoints_.prune();
  return "";
}

SnapshotPtr WorkerPool::current() const {
  std::lock_guard lock(currentMutex_);
  return current_ ? current_->snapshot : nullptr;
}

void WorkerPool::stopListening() {
  std::lock_guard lock(applyMutex_);
  draining_ = true;
  onEveryWorker([&](size_t worker) { workers_[worker]->stopListeningOnLoop(); });
  bound_.clear();
}

uint64_t WorkerPool::activeConnections() const {
  uint64_t total = 0;
  for (const auto& worker : workers_) total += worker->activeConnections();
  return total;
}

std::string WorkerPool::clustersText() const {
  std::shared_ptr<const RuntimeConfig> config;
  {
    std::lock_guard lock(currentMutex_);
    config = current_;
  }
  std::string out;
  if (!config) return out;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [name, cluster] : config->clusters) {
    if (cluster.outlier) {
      // Cluster-wide lines: the circuit breaker's refusals and the outlier detector's ejections.
      auto clusterLine = [&](const std::string& field, uint64_t value) {
        out.append(name).append("::").append(field).append("::");
        out.append(std::to_string(value)).append("\n");
      };
      if (cluster.config->circuitBreaker.maxConnections != 0) {
        clusterLine("default_priority::max_connections",
                    cluster.config->circuitBreaker.maxConnections);
        clusterLine("upstream_cx_overflow",
                    cluster.counters->upstreamCxOverflow.load(std::memory_order_relaxed));
      }
      if (cluster.config->outlierDetection.enabled) {
        clusterLine("outlier::ejections_active",
                    upstream::OutlierDetector::ejectedCount(cluster, now));
        clusterLine("outlier::ejections_total",
                    cluster.counters->outlierEjections.load(std::memory_order_relaxed));
      }
    }
    for (const auto& endpoint : cluster.endpoints) {
      std::string prefix = name + "::" + endpoint.key + "::";
      const auto& counters = *endpoint.counters;
      auto line = [&](const std::string& field, const std::string& value) {
        out.append(prefix).append(field).append("::").append(value).append("\n");
      };
      line("cx_active", std::to_string(counters.active.load(std::memory_order_relaxed)));
      line("cx_connect_fail",
           std::to_string(counters.connectFailures.load(std::memory_order_relaxed)));
      line("cx_total", std::to_string(counters.total.load(std::memory_order_relaxed)));
      line("weight", std::to_string(endpoint.config->weight));
      std::string flags = endpoint.config->healthy ? "" : "/failed_eds_health";
      if ((counters.activeHc.load(std::memory_order_relaxed) &
           upstream::EndpointCounters::kFailedActiveHc) != 0) {
        flags = "/failed_active_hc" + flags;
      }
      if (upstream::OutlierDetector::isEjected(counters, now)) flags += "/failed_outlier_check";
      line("health_flags", flags.empty() ? "healthy" : flags);
      if (!endpoint.config->origin.empty()) line("origin", endpoint.config->origin);
    }
  }
  return out;
}

size_t WorkerPool::bufferedBytes() const {
  std::vector<size_t> perWorker(workers_.size());
  onEveryWorker(
      [&](size_t worker) { perWorker[worker] = workers_[worker]->bufferedBytesOnLoop(); });
  size_t total = 0;
  for (size_t bytes : perWorker) total += bytes;
  return total;
}

size_t WorkerPool::pipesInUse() const {
  std::vector<size_t> perWorker(workers_.size());
  onEveryWorker([&](size_t worker) { perWorker[worker] = workers_[worker]->pipesInUseOnLoop(); });
  size_t total = 0;
  for (size_t pipes : perWorker) total += pipes;
  return total;
}

void WorkerPool::flushStats() {
  onEveryWorker([&](size_t worker) { workers_[worker]->flushStatsOnLoop(); });
}

}  // namespace braid::dataplane
