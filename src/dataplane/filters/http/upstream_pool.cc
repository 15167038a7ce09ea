#include "dataplane/filters/http/upstream_pool.h"

#include <algorithm>

#include "dataplane/server/runtime_config.h"

namespace braid::dataplane::hcm {

using Clock = SweepTimer::Clock;

std::string UpstreamPool::key(const upstream::ClusterRuntime& cluster, size_t endpoint) {
  std::string out = cluster.config->name;
  out.append("|").append(cluster.endpoints[endpoint].key);
  const UpstreamTls& tls = cluster.config->tls;
  if (tls.enabled) out.append("|tls|").append(tls.identity).append("|").append(tls.expectedSan);
  return out;
}

PoolKeys UpstreamPool::keysOf(const RuntimeConfig& config) {
  PoolKeys keys;
  for (const auto& [name, cluster] : config.clusters) {
    const PoolLimits limits{cluster.config->idleTimeout, cluster.config->maxConnectionDuration};
    for (size_t i = 0; i < cluster.endpoints.size(); ++i) keys.emplace(key(cluster, i), limits);
  }
  return keys;
}

void UpstreamPool::runOn(event_base* base) {
  sweep_ = std::make_unique<SweepTimer>(base, [this] { sweep(); });
}

Clock::time_point UpstreamPool::deadlineOf(const UpstreamConnection& connection,
                                           const PoolLimits& limits) {
  Clock::time_point deadline = SweepTimer::kNever;
  if (limits.idleTimeout.count() > 0) deadline = connection.idleSince + limits.idleTimeout;
  if (limits.maxConnectionDuration.count() > 0) {
    deadline = std::min(deadline, connection.created + limits.maxConnectionDuration);
  }
  return deadline;
}

void UpstreamPool::retain(std::shared_ptr<const PoolKeys> keys) {
  keys_ = std::move(keys);
  const auto now = Clock::now();
  Clock::time_point earliest = SweepTimer::kNever;
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto found = keys_->find(it->first);
    if (found == keys_->end()) {
      it = idle_.erase(it);  // the endpoint (or its cluster) is gone: close its connections
      continue;
    }
    for (Idle& entry : it->second) {
      entry.deadline = deadlineOf(*entry.connection, found->second);
      earliest = std::min(earliest, entry.deadline);
    }
    ++it;
  }
  if (sweep_) {
    sweep_->cancel();  // the limits may have grown: the next sweep is at the new earliest
    sweep_->armAt(earliest, now);
  }
}

std::unique_ptr<UpstreamConnection> UpstreamPool::take(const std::string& key,
                                                       UpstreamConnection::Client& client,
                                                       std::chrono::milliseconds idleTimeout) {
  auto found = idle_.find(key);
  if (found == idle_.end()) return nullptr;
  auto& list = found->second;
  const auto now = Clock::now();
  std::unique_ptr<UpstreamConnection> connection;
  while (!list.empty() && !connection) {
    Idle entry = std::move(list.back());
    list.pop_back();
    const bool idledTooLong =
        idleTimeout.count() > 0 && now - entry.connection->idleSince > idleTimeout;
    if (!idledTooLong && !SweepTimer::due(entry.deadline, now)) {
      connection = std::move(entry.connection);
    }
  }
  // The sweep stays armed when the pool empties: a busy pool empties and refills with every
  // request, and a sweep of an empty pool costs less than a timer deleted and added each time.
  if (list.empty()) idle_.erase(found);
  if (connection) connection->attach(client);
  return connection;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> connection,
                           std::chrono::milliseconds maxDuration) {
  const auto now = Clock::now();
  PoolLimits limits{std::chrono::milliseconds(0), maxDuration};
  if (keys_) {
    auto found = keys_->find(connection->poolKey());
    if (found == keys_->end()) return;  // its endpoint left the configuration: closed
    limits = found->second;
  }
  if (limits.maxConnectionDuration.count() > 0 &&
      now - connection->created >= limits.maxConnectionDuration) {
    return;  // closed
  }
  connection->idleSince = now;
  const Clock::time_point deadline = deadlineOf(*connection, limits);
  auto& list = idle_[connection->poolKey()];
  connection->detachIdle(*this);
  list.push_back(Idle{std::move(connection), deadline});
  if (list.size() > maxIdlePerKey_) list.pop_front();
  if (sweep_) sweep_->armAt(deadline, now);
}

size_t UpstreamPool::idle() const {
  size_t total = 0;
  for (const auto& [key, list] : idle_) total += list.size();
  return total;
}

void UpstreamPool::clear() {
  idle_.clear();
  cancelSweepIfEmpty();
}

void UpstreamPool::sweep() {
  const auto now = Clock::now();
  Clock::time_point earliest = SweepTimer::kNever;
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& list = it->second;
    std::erase_if(list, [&](const Idle& entry) { return SweepTimer::due(entry.deadline, now); });
    for (const Idle& entry : list) earliest = std::min(earliest, entry.deadline);
    it = list.empty() ? idle_.erase(it) : std::next(it);
  }
  sweep_->armAt(earliest, now);
}

void UpstreamPool::cancelSweepIfEmpty() {
  if (idle_.empty() && sweep_) sweep_->cancel();
}

void UpstreamPool::onIdleClosed(UpstreamConnection& connection) {
  auto found = idle_.find(connection.poolKey());
  if (found == idle_.end()) return;
  auto& list = found->second;
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const Idle& held) { return held.connection.get() == &connection; });
  if (it == list.end()) return;
  list.erase(it);  // destroys the connection: its last action
  if (list.empty()) {
    idle_.erase(found);
    cancelSweepIfEmpty();
  }
}

}  // namespace braid::dataplane::hcm
