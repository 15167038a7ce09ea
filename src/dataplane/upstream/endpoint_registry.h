#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "dataplane/upstream/cluster_runtime.h"

namespace braid::dataplane::upstream {

// Endpoint counters keyed by (cluster, endpoint address), so that an endpoint keeps its counters
// (and least-request its active count) across snapshots. Main thread only.
class EndpointRegistry {
 public:
  std::shared_ptr<EndpointCounters> get(const std::string& cluster, const std::string& endpoint);
  // Forgets endpoints that no snapshot in use refers to any more.
  void prune();

 private:
  std::map<std::pair<std::string, std::string>, std::shared_ptr<EndpointCounters>> counters_;
};

}  // namespace braid::dataplane::upstream
