#include "dataplane/filters/http/upstream_pool.h"

#include <algorithm>

namespace braid::dataplane::hcm {

std::string UpstreamPool::key(const upstream::ClusterRuntime& cluster, size_t endpoint) {
  std::string out = cluster.config->name;
  out.append("|").append(cluster.endpoints[endpoint].key);
  const UpstreamTls& tls = cluster.config->tls;
  if (tls.enabled) out.append("|tls|").append(tls.identity).append("|").append(tls.expectedSan);
  return out;
}

std::unique_ptr<UpstreamConnection> UpstreamPool::take(const std::string& key,
                                                       UpstreamConnection::Client& client,
                                                       std::chrono::milliseconds idleTimeout) {
  auto found = idle_.find(key);
  if (found == idle_.end()) return nullptr;
  auto& list = found->second;
  const auto now = std::chrono::steady_clock::now();
  std::unique_ptr<UpstreamConnection> connection;
  while (!list.empty() && !connection) {
    connection = std::move(list.back());
    list.pop_back();
    // The most recent is at the back: once one has idled too long, so have all before it.
    if (idleTimeout.count() > 0 && now - connection->idleSince > idleTimeout) {
      connection.reset();
      list.clear();
    }
  }
  if (list.empty()) idle_.erase(found);
  if (connection) connection->attach(client);
  return connection;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> connection,
                           std::chrono::milliseconds maxDuration) {
  const auto now = std::chrono::steady_clock::now();
  if (maxDuration.count() > 0 && now - connection->created >= maxDuration) return;  // closed
  connection->idleSince = now;
  auto& list = idle_[connection->poolKey()];
  connection->detachIdle(*this);
  list.push_back(std::move(connection));
  if (list.size() > maxIdlePerKey_) list.pop_front();
}

size_t UpstreamPool::idle() const {
  size_t total = 0;
  for (const auto& [key, list] : idle_) total += list.size();
  return total;
}

void UpstreamPool::onIdleClosed(UpstreamConnection& connection) {
  auto found = idle_.find(connection.poolKey());
  if (found == idle_.end()) return;
  auto& list = found->second;
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const auto& held) { return held.get() == &connection; });
  if (it == list.end()) return;
  list.erase(it);  // destroys the connection: its last action
  if (list.empty()) idle_.erase(found);
}

}  // namespace braid::dataplane::hcm
