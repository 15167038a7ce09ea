#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace braid::dataplane {

// Counters of one listener. Workers look the object up once per snapshot and then update it with
// relaxed atomics; byte counts are accumulated per connection and added in batches.
struct alignas(64) ListenerCounters {
  std::atomic<uint64_t> connectionsTotal{0};
  std::atomic<uint64_t> connectionsActive{0};
  std::atomic<uint64_t> bytesReceived{0};  // from downstream
  std::atomic<uint64_t> bytesSent{0};      // to downstream
};

// Counters of one cluster (all its endpoints).
struct alignas(64) ClusterCounters {
  std::atomic<uint64_t> upstreamConnectionsTotal{0};  // connect attempts
  std::atomic<uint64_t> upstreamConnectionsActive{0};
  std::atomic<uint64_t> connectFailures{0};  // refused, unreachable or timed out
  std::atomic<uint64_t> connectTimeouts{0};  // the timed-out subset of connectFailures
  std::atomic<uint64_t> bytesSent{0};        // to upstream
  std::atomic<uint64_t> bytesReceived{0};    // from upstream
  std::atomic<uint64_t> noHealthyEndpoint{0};
};

// The proxy's statistics, thread-safe. Counters are keyed by listener / cluster name and live as
// long as the Stats object, so they survive snapshot changes.
class Stats {
 public:
  std::shared_ptr<ListenerCounters> listener(const std::string& name);
  std::shared_ptr<ClusterCounters> cluster(const std::string& name);

  // Prometheus text exposition format 0.0.4.
  std::string renderPrometheus() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<ListenerCounters>> listeners_;
  std::map<std::string, std::shared_ptr<ClusterCounters>> clusters_;
};

}  // namespace braid::dataplane
