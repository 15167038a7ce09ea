#pragma once

// A worker's idle HTTP/1.1 upstream connections, by pool key (cluster, endpoint, TLS identity):
// a request takes one instead of connecting when it can, and gives it back once its response is
// complete and both sides may carry another message. Idle connections close when their peer
// closes them; at most `maxIdlePerKey` wait per key (the oldest goes first). MeshTimeout's
// idleTimeout and http.maxConnectionDuration are checked when a connection would be taken or
// given back: one past them is closed instead. Loop thread only.

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "dataplane/filters/http/upstream_connection.h"

namespace braid::dataplane::hcm {

class UpstreamPool final : private UpstreamConnection::IdleOwner {
 public:
  explicit UpstreamPool(size_t maxIdlePerKey = 64) : maxIdlePerKey_(maxIdlePerKey) {}
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // The key of a cluster's endpoint: connections are shared only where they are alike.
  static std::string key(const upstream::ClusterRuntime& cluster, size_t endpoint);

  // The most recently used idle connection for `key`, attached to `client`; nullptr when none.
  // Connections idle for longer than `idleTimeout` (0: no limit) are closed on the way.
  std::unique_ptr<UpstreamConnection> take(
      const std::string& key, UpstreamConnection::Client& client,
      std::chrono::milliseconds idleTimeout = std::chrono::milliseconds(0));
  // Keeps an idle connection (nothing buffered either way) for the next request, unless it is
  // older than `maxDuration` (0: no limit): then it is closed.
  void release(std::unique_ptr<UpstreamConnection> connection,
               std::chrono::milliseconds maxDuration = std::chrono::milliseconds(0));
  size_t idle() const;
  void clear() { idle_.clear(); }

 private:
  void onIdleClosed(UpstreamConnection& connection) override;

  size_t maxIdlePerKey_;
  std::map<std::string, std::deque<std::unique_ptr<UpstreamConnection>>> idle_;
};

}  // namespace braid::dataplane::hcm
