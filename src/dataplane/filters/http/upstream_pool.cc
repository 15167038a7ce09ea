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
                                                       UpstreamConnection::Client& client) {
  auto found = idle_.find(key);
  if (found == idle_.end() || found->second.empty()) return nullptr;
  auto connection = std::move(found->second.back());
  found->second.pop_back();
  if (found->second.empty()) idle_.erase(found);
  connection->attach(client);
  return connection;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> connection) {
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
