#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/snapshot.h"
#include "dataplane/network/address.h"
#include "dataplane/stats/stats.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace braid::dataplane::upstream {

// Counters of one endpoint, shared by every worker (least-request reads `active` + `requests`).
struct alignas(64) EndpointCounters {
  std::atomic<uint64_t> active{0};    // TCP proxy connections connecting or open
  std::atomic<uint64_t> requests{0};  // HTTP requests (tries) in progress on it
  std::atomic<uint64_t> total{0};     // connect attempts
  std::atomic<uint64_t> connectFailures{0};
  // Active health checks (health_checker.h), written by the checker thread only.
  static constexpr uint8_t kFailedActiveHc = 1;  // failing its cluster's active checks
  static constexpr uint8_t kHcPanic = 2;         // its cluster panics: use it even so
  static constexpr uint8_t kHcFailTraffic = 4;   // ...or, with failTrafficOnPanic, use none
  std::atomic<uint8_t> activeHc{0};
  // Outlier detection (outlier_detector.h): failures in a row, and the current or last ejection.
  std::atomic<uint32_t> consecutive5xx{0};
  std::atomic<uint32_t> consecutiveGatewayFailure{0};
  std::atomic<uint32_t> consecutiveLocalOriginFailure{0};
  std::atomic<uint32_t> timesEjected{0};
  std::atomic<int64_t> ejectedUntilNs{0};  // steady_clock; 0: never ejected
};

// Counts one HTTP try in its endpoint's `requests` while it is held (the connection managers
// hold one per try), so least-request balances HTTP by requests in progress, as Envoy does.
class EndpointRequest {
 public:
  EndpointRequest() = default;
  ~EndpointRequest() { reset(); }
  EndpointRequest(const EndpointRequest&) = delete;
  EndpointRequest& operator=(const EndpointRequest&) = delete;
  void hold(std::shared_ptr<EndpointCounters> counters) {
    reset();
    counters_ = std::move(counters);
    if (counters_) counters_->requests.fetch_add(1, std::memory_order_relaxed);
  }
  void reset() {
    if (counters_) counters_->requests.fetch_sub(1, std::memory_order_relaxed);
    counters_.reset();
  }

 private:
  std::shared_ptr<EndpointCounters> counters_;
};

// One endpoint of a cluster as the workers use it: parsed once on the main thread.
struct EndpointRuntime {
  const EndpointConfig* config = nullptr;
  std::optional<network::ResolvedAddress> address;  // nullopt: not an IP literal, never picked
  std::string key;                                  // "ip:port", canonical
  std::shared_ptr<EndpointCounters> counters;

  bool usable() const {
    if (!config->healthy || !address.has_value()) return false;
    uint8_t hc = counters ? counters->activeHc.load(std::memory_order_relaxed) : 0;
    if ((hc & EndpointCounters::kHcPanic) != 0) {
      return (hc & EndpointCounters::kHcFailTraffic) == 0;
    }
    return (hc & EndpointCounters::kFailedActiveHc) == 0;
  }
  // A weight of 0 is not a valid configuration; it counts as 1 rather than starving the endpoint.
  uint32_t weight() const { return config->weight == 0 ? 1 : config->weight; }
};

class OutlierDetector;

struct ClusterRuntime {
  const ClusterConfig* config = nullptr;
  std::shared_ptr<ClusterCounters> counters;
  std::vector<EndpointRuntime> endpoints;  // parallel to config->endpoints
  // config->tls.enabled: the client context of config->tls.identity (owned by the
  // RuntimeConfig's TLS contexts); nullptr when this proxy has no certificate for it.
  SSL_CTX* tlsClient = nullptr;
  // Shared by every worker and every snapshot of this cluster; nullptr in tests that build a
  // ClusterRuntime by hand (no outlier detection then).
  std::shared_ptr<OutlierDetector> outlier;
};

}  // namespace braid::dataplane::upstream
