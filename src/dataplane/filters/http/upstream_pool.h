#pragma once

// A worker's idle HTTP/1.1 upstream connections, by pool key (cluster, endpoint, TLS identity):
// a request takes one instead of connecting when it can, and gives it back once its response is
// complete and both sides may carry another message. At most `maxIdlePerKey` wait per key (the
// oldest goes first). An idle connection closes when its peer closes it, once it has been idle
// for its cluster's MeshTimeout idleTimeout, and once it is older than http.maxConnectionDuration
// (Envoy's cluster idle_timeout and max_connection_duration): one sweep timer runs at the
// earliest of those deadlines (none while the pool is empty). A new configuration (retain)
// closes the idle connections of keys it no longer has, and busy ones when they are given back.
// Loop thread only.

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "dataplane/filters/http/sweep_timer.h"
#include "dataplane/filters/http/upstream_connection.h"

namespace braid::dataplane {
struct RuntimeConfig;
}

namespace braid::dataplane::hcm {

// How long a cluster's pooled connections may live (0: no limit).
struct PoolLimits {
  std::chrono::milliseconds idleTimeout{0};
  std::chrono::milliseconds maxConnectionDuration{0};
};
// Every pool key of a configuration (UpstreamPool::key), with its cluster's limits.
using PoolKeys = std::unordered_map<std::string, PoolLimits>;

class UpstreamPool final : private UpstreamConnection::IdleOwner {
 public:
  explicit UpstreamPool(size_t maxIdlePerKey = 64) : maxIdlePerKey_(maxIdlePerKey) {}
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // The key of a cluster's endpoint: connections are shared only where they are alike.
  static std::string key(const upstream::ClusterRuntime& cluster, size_t endpoint);
  // The keys of every endpoint of every cluster of `config`: built once per configuration.
  static PoolKeys keysOf(const RuntimeConfig& config);

  // Closes expired idle connections from `base`'s loop (the worker's); without it they are
  // checked only when taken.
  void runOn(event_base* base);
  // The worker's configuration changed: idle connections whose key `keys` lacks close now, busy
  // ones when given back; the limits of `keys` apply to connections given back from now on
  // (and to those idle now).
  void retain(std::shared_ptr<const PoolKeys> keys);

  // The most recently used idle connection for `key`, attached to `client`; nullptr when none.
  // Expired connections, and those idle for longer than `idleTimeout` (0: no limit), are
  // closed on the way.
  std::unique_ptr<UpstreamConnection> take(
      const std::string& key, UpstreamConnection::Client& client,
      std::chrono::milliseconds idleTimeout = std::chrono::milliseconds(0));
  // Keeps an idle connection (nothing buffered either way) for the next request, with the
  // limits of its key in the configuration (retain); before any configuration, no idle limit
  // and `maxDuration` (0: none). It is closed instead when it is already too old or its key is
  // gone from the configuration.
  void release(std::unique_ptr<UpstreamConnection> connection,
               std::chrono::milliseconds maxDuration = std::chrono::milliseconds(0));
  size_t idle() const;
  void clear();

 private:
  struct Idle {
    std::unique_ptr<UpstreamConnection> connection;
    SweepTimer::Clock::time_point deadline;  // SweepTimer::kNever: none
  };

  void onIdleClosed(UpstreamConnection& connection) override;
  // Closes the expired idle connections; arms the timer for the earliest deadline left.
  void sweep();
  void cancelSweepIfEmpty();
  static SweepTimer::Clock::time_point deadlineOf(const UpstreamConnection& connection,
                                                  const PoolLimits& limits);

  size_t maxIdlePerKey_;
  std::map<std::string, std::deque<Idle>> idle_;  // the most recently idle at the back
  std::shared_ptr<const PoolKeys> keys_;          // null until the first configuration
  std::unique_ptr<SweepTimer> sweep_;             // null until runOn()
};

}  // namespace braid::dataplane::hcm
