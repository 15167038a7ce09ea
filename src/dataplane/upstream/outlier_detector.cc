#include "dataplane/upstream/outlier_detector.h"

#include <algorithm>

namespace braid::dataplane::upstream {

namespace {

// Envoy's max_ejection_time default.
constexpr std::chrono::seconds kMaxEjectionTime{300};

void reset(std::atomic<uint32_t>& run) {
  // Read first: a success on a healthy endpoint then writes nothing (no shared cache-line traffic).
  if (run.load(std::memory_order_relaxed) != 0) run.store(0, std::memory_order_relaxed);
}

bool reached(std::atomic<uint32_t>& run, uint32_t threshold) {
  uint32_t now = run.fetch_add(1, std::memory_order_relaxed) + 1;
  return threshold != 0 && now >= threshold;
}

}  // namespace

size_t OutlierDetector::ejectedCount(const ClusterRuntime& cluster, Clock::time_point now) {
  size_t count = 0;
  for (const auto& endpoint : cluster.endpoints) count += isEjected(*endpoint.counters, now);
  return count;
}

void OutlierDetector::record(const ClusterRuntime& cluster, size_t endpoint, UpstreamResult result,
                             Clock::time_point now) {
  const OutlierDetectionConfig& config = cluster.config->outlierDetection;
  if (!config.enabled || endpoint >= cluster.endpoints.size()) return;
  EndpointCounters& c = *cluster.endpoints[endpoint].counters;
  const bool split = config.splitExternalLocalErrors;
  bool eject = false;
  switch (result) {
    case UpstreamResult::kConnectSuccess:
      reset(c.consecutiveLocalOriginFailure);
      if (!split) {
        reset(c.consecutive5xx);
        reset(c.consecutiveGatewayFailure);
      }
      return;
    case UpstreamResult::kSuccess:
      reset(c.consecutiveLocalOriginFailure);
      reset(c.consecutive5xx);
      reset(c.consecutiveGatewayFailure);
      return;
    case UpstreamResult::kLocalOriginFailure:
      if (split) {
        eject = reached(c.consecutiveLocalOriginFailure, config.consecutiveLocalOriginFailure);
        break;
      }
      [[fallthrough]];  // a 503 to the detectors
    case UpstreamResult::kGatewayError:
      eject = reached(c.consecutive5xx, config.consecutive5xx);
      eject = reached(c.consecutiveGatewayFailure, config.consecutiveGatewayFailure) || eject;
      break;
    case UpstreamResult::kServerError:
      eject = reached(c.consecutive5xx, config.consecutive5xx);
      reset(c.consecutiveGatewayFailure);
      break;
  }
  if (eject) this->eject(cluster, endpoint, now);
}

void OutlierDetector::eject(const ClusterRuntime& cluster, size_t endpoint, Clock::time_point now) {
  const OutlierDetectionConfig& config = cluster.config->outlierDetection;
  EndpointCounters& c = *cluster.endpoints[endpoint].counters;
  std::lock_guard lock(mutex_);
  if (isEjected(c, now)) return;  // another worker was first
  const size_t ejected = ejectedCount(cluster, now);
  const size_t total = cluster.endpoints.size();
  if (ejected > 0 && (ejected + 1) * 100 > config.maxEjectionPercent * total) {
    ejectionsOverflow.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // The multiplier decays by one per interval spent back in service since the last ejection.
  uint32_t times = c.timesEjected.load(std::memory_order_relaxed);
  int64_t lastEnd = c.ejectedUntilNs.load(std::memory_order_relaxed);
  if (lastEnd != 0 && config.interval.count() > 0) {
    auto back = std::chrono::nanoseconds(now.time_since_epoch().count() - lastEnd);
    auto intervals = static_cast<uint64_t>(std::max<int64_t>(0, back / config.interval));
    times = intervals >= times ? 0 : times - static_cast<uint32_t>(intervals);
  }
  ++times;
  auto cap = std::max<std::chrono::nanoseconds>(config.baseEjectionTime, kMaxEjectionTime);
  auto duration = std::min<std::chrono::nanoseconds>(config.baseEjectionTime * times, cap);
  c.timesEjected.store(times, std::memory_order_relaxed);
  c.ejectedUntilNs.store((now + duration).time_since_epoch().count(), std::memory_order_relaxed);
  c.consecutive5xx.store(0, std::memory_order_relaxed);
  c.consecutiveGatewayFailure.store(0, std::memory_order_relaxed);
  c.consecutiveLocalOriginFailure.store(0, std::memory_order_relaxed);
  if (cluster.counters) cluster.counters->outlierEjections.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace braid::dataplane::upstream
