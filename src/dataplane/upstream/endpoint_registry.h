#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "dataplane/upstream/cluster_runtime.h"
#include "dataplane/upstream/outlier_detector.h"

namespace braid::dataplane::upstream {

// Endpoint counters keyed by (cluster, endpoint address), so that an endpoint keeps its counters
// (and least-request its active count) across snapshots. Main thread only.
class EndpointRegistry {
 public:
  std::shared_ptr<EndpointCounters> get(const std::string& cluster, const std::string& endpoint);
  // The cluster's outlier detector (and circuit-breaker counters), kept across snapshots.
  std::shared_ptr<OutlierDetector> outlier(const std::string& cluster);
  // Forgets endpoints and detectors that no snapshot in use refers to any more.
  void prune();

 private:
  std::map<std::pair<std::string, std::string>, std::shared_ptr<EndpointCounters>> counters_;
  std::map<std::string, std::shared_ptr<OutlierDetector>> outliers_;
};

}  // namespace braid::dataplane::upstream
