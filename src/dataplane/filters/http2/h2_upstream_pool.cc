#include "dataplane/filters/http2/h2_upstream_pool.h"

#include <algorithm>
#include <exception>

#include "dataplane/filters/http/upstream_pool.h"

namespace braid::dataplane::h2 {

H2UpstreamPool::H2UpstreamPool(event_base* base, const tcp_proxy::ProxyLimits& limits)
    : base_(base), limits_(limits), reaper_(base, [this] { closed_.clear(); }) {}

H2UpstreamPool::~H2UpstreamPool() { clear(); }

H2UpstreamConnection* H2UpstreamPool::acquire(const upstream::ClusterRuntime& cluster,
                                              size_t endpoint,
                                              const std::shared_ptr<WorkerConfig>& config) {
  // HTTP/2 connections are not interchangeable with the HTTP/1.1 pool's: their own key space.
  std::string key = hcm::UpstreamPool::key(cluster, endpoint) + "|h2";
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
  list.push_back(std::move(created));
  return list.back().get();
}

size_t H2UpstreamPool::connections() const {
  size_t total = 0;
  for (const auto& [key, list] : connections_) total += list.size();
  return total;
}

void H2UpstreamPool::clear() {
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
  reaper_.schedule(std::chrono::milliseconds(0));
}

}  // namespace braid::dataplane::h2
