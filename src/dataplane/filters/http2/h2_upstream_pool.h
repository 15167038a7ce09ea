#pragma once

// A worker's HTTP/2 connections to the peer sidecars (ADR 0006 decision 3), by pool key
// (cluster, endpoint, TLS identity): a request's try takes a connection with room for one more
// stream, connected or still connecting, and a new one is opened only when every connection to
// that endpoint is at the server's concurrent-stream limit (or going away). Closed connections
// are destroyed from a zero-delay timer, never inside their own events.
//
// MeshTimeout: a connection with no stream for its cluster's idleTimeout is closed (GOAWAY,
// then close), one older than maxConnectionDuration drains (GOAWAY: new streams go to a new
// connection; it closes after its last stream), both from one sweep timer at the earliest
// deadline (none while the pool is empty). A new configuration drains the connections of
// endpoints it no longer has (retain). Loop thread only.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/event/timer.h"
#include "dataplane/filters/http/sweep_timer.h"
#include "dataplane/filters/http/upstream_pool.h"
#include "dataplane/filters/http2/h2_upstream_connection.h"

namespace braid::dataplane::h2 {

class H2UpstreamPool final : private H2UpstreamConnection::Owner {
 public:
  H2UpstreamPool(event_base* base, const tcp_proxy::ProxyLimits& limits);
  ~H2UpstreamPool();
  H2UpstreamPool(const H2UpstreamPool&) = delete;
  H2UpstreamPool& operator=(const H2UpstreamPool&) = delete;

  // A connection to `endpoint` of `cluster` with room for a stream; a new one (connecting) when
  // none has. nullptr: a new connection failed at once. `config` keeps `cluster` alive while a
  // new connection connects.
  H2UpstreamConnection* acquire(const upstream::ClusterRuntime& cluster, size_t endpoint,
                                const std::shared_ptr<WorkerConfig>& config);
  size_t connections() const;
  // The worker's configuration changed: connections to pool keys `keys` lacks drain (closed at
  // once when idle, after their streams otherwise), the others take their cluster's new limits.
  // A connection opened later for a key `keys` lacks (a request still holding the previous
  // configuration) drains as soon as it is opened.
  void retain(std::shared_ptr<const hcm::PoolKeys> keys);
  // Drops every connection (worker shutdown; no request may be left using them).
  void clear();

 private:
  void onConnectionDone(H2UpstreamConnection& connection) override;
  void onConnectionIdle(H2UpstreamConnection& connection) override;
  // Closes the idle connections past their idle timeout, drains those past their maximum
  // duration, and arms the timer for the earliest deadline left.
  void sweep();

  event_base* base_;
  const tcp_proxy::ProxyLimits& limits_;
  std::map<std::string, std::vector<std::unique_ptr<H2UpstreamConnection>>> connections_;
  std::vector<std::unique_ptr<H2UpstreamConnection>> closed_;
  event::Timer reaper_;
  hcm::SweepTimer sweep_;
  std::shared_ptr<const hcm::PoolKeys> keys_;  // of the current configuration; null before one
};

}  // namespace braid::dataplane::h2
