#include "dataplane/filters/http2/h2_upstream_pool.h"

#include <algorithm>
#include <exception>
#include <string_view>

namespace braid::dataplane::h2 {
namespace {

using hcm::SweepTimer;

// HTTP/2 connections are not interchangeable with the HTTP/1.1 pool's: their own key space.
constexpr std::string_view kKeySuffix = "|h2";

}  // namespace

H2UpstreamPool::H2UpstreamPool(event_base* base, const tcp_proxy::ProxyLimits& limits)
    : base_(base),
      limits_(limits),
      reaper_(base, [this] { closed_.clear(); }),
      sweep_(base, [this] { sweep(); }) {}

H2UpstreamPool::~H2UpstreamPool() { clear(); }

H2UpstreamConnection* H2UpstreamPool::acquire(const upstream::ClusterRuntime& cluster,
                                              size_t endpoint,
                                              const std::shared_ptr<WorkerConfig>& config) {
  std::string key = hcm::UpstreamPool::key(cluster, endpoint).append(kKeySuffix);
  auto& list = connections_[key];
  for (auto& connection : list) {
    if (connection->hasCapacity()) return connection.get();
  }
  std::unique_ptr<H2UpstreamConnection> created;
  H2UpstreamConnection::Owner& owner = *this;
  try {
    created = std::make_unique<H2UpstreamConnection>(base_, key, cluster, endpoint, config, limits_,
                                                     owner);
  } catch (const std::exception&) {
    return nullptr;
  }
  if (!created->connect()) {
    closed_.push_back(std::move(created));
    reaper_.schedule(std::chrono::milliseconds(0));
    return nullptr;
  }
  // Opened for a request that still holds a configuration older than the pool's: once its
  // endpoint is gone, the connection carries this request's stream and no other.
  const bool stale = keys_ && !keys_->contains(key.substr(0, key.size() - kKeySuffix.size()));
  const auto now = hcm::SweepTimer::Clock::now();
  sweep_.armAt(std::min(created->ageDeadline(), created->idleDeadline()), now);
  list.push_back(std::move(created));
  H2UpstreamConnection* connection = list.back().get();
  if (stale) connection->markDraining();
  return connection;
}

size_t H2UpstreamPool::connections() const {
  size_t total = 0;
  for (const auto& [key, list] : connections_) total += list.size();
  return total;
}

void H2UpstreamPool::retain(std::shared_ptr<const hcm::PoolKeys> keys) {
  keys_ = std::move(keys);
  std::vector<H2UpstreamConnection*> gone;
  SweepTimer::Clock::time_point earliest = SweepTimer::kNever;
  for (const auto& [key, list] : connections_) {
    auto found = keys_->find(key.substr(0, key.size() - kKeySuffix.size()));
    for (const auto& connection : list) {
      if (found == keys_->end()) {
        gone.push_back(connection.get());
        continue;
      }
      connection->setLimits(found->second.idleTimeout, found->second.maxConnectionDuration);
      earliest = std::min({earliest, connection->ageDeadline(), connection->idleDeadline()});
    }
  }
  sweep_.cancel();  // the limits may have grown: the next sweep is at the new earliest
  sweep_.armAt(earliest, SweepTimer::Clock::now());
  // Draining may close a connection, which leaves connections_: not while walking it.
  for (H2UpstreamConnection* connection : gone) connection->drain("endpoint removed");
}

void H2UpstreamPool::onConnectionIdle(H2UpstreamConnection& connection) {
  sweep_.armAt(connection.idleDeadline(), hcm::SweepTimer::Clock::now());
}

void H2UpstreamPool::sweep() {
  const auto now = SweepTimer::Clock::now();
  std::vector<H2UpstreamConnection*> tooOld;
  std::vector<H2UpstreamConnection*> idle;
  for (const auto& [key, list] : connections_) {
    for (const auto& connection : list) {
      if (SweepTimer::due(connection->ageDeadline(), now)) {
        tooOld.push_back(connection.get());
      } else if (SweepTimer::due(connection->idleDeadline(), now)) {
        idle.push_back(connection.get());
      }
    }
  }
  // Closing moves a connection from connections_ to closed_ (alive until the reaper runs).
  for (H2UpstreamConnection* connection : tooOld) connection->drain("max connection duration");
  for (H2UpstreamConnection* connection : idle) connection->closeIdle("idle timeout");
  SweepTimer::Clock::time_point earliest = SweepTimer::kNever;
  for (const auto& [key, list] : connections_) {
    for (const auto& connection : list) {
      earliest = std::min({earliest, connection->ageDeadline(), connection->idleDeadline()});
    }
  }
  sweep_.armAt(earliest, now);
}

void H2UpstreamPool::clear() {
  sweep_.cancel();
  reaper_.cancel();
  closed_.clear();
  connections_.clear();
}

void H2UpstreamPool::onConnectionDone(H2UpstreamConnection& connection) {
  auto found = connections_.find(connection.key());
  if (found == connections_.end()) return;
  auto& list = found->second;
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const auto& held) { return held.get() == &connection; });
  if (it == list.end()) return;
  closed_.push_back(std::move(*it));
  list.erase(it);
  if (list.empty()) connections_.erase(found);
  if (connections_.empty()) sweep_.cancel();
  reaper_.schedule(std::chrono::milliseconds(0));
}

}  // namespace braid::dataplane::h2
