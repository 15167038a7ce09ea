#pragma once

// A worker's idle HTTP/1.1 upstream connections, by pool key (cluster, endpoint, TLS identity):
// a request takes one instead of connecting when it can, and gives it back once its response is
// complete and both sides may carry another message. Idle connections close when their peer
// closes them; at most `maxIdlePerKey` wait per key (the oldest goes first). Loop thread only.

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
  std::unique_ptr<UpstreamConnection> take(const std::string& key,
                                           UpstreamConnection::Client& client);
  // Keeps an idle connection (nothing buffered either way) for the next request.
  void release(std::unique_ptr<UpstreamConnection> connection);
  size_t idle() const;
  void clear() { idle_.clear(); }

 private:
  void onIdleClosed(UpstreamConnection& connection) override;

  size_t maxIdlePerKey_;
  std::map<std::string, std::deque<std::unique_ptr<UpstreamConnection>>> idle_;
};

}  // namespace braid::dataplane::hcm
