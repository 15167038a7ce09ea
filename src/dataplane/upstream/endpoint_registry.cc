#include "dataplane/upstream/endpoint_registry.h"

namespace braid::dataplane::upstream {

std::shared_ptr<EndpointCounters> EndpointRegistry::get(const std::string& cluster,
                                                        const std::string& endpoint) {
  auto& slot = counters_[{cluster, endpoint}];
  if (!slot) slot = std::make_shared<EndpointCounters>();
  return slot;
}

std::shared_ptr<OutlierDetector> EndpointRegistry::outlier(const std::string& cluster) {
  auto& slot = outliers_[cluster];
  if (!slot) slot = std::make_shared<OutlierDetector>();
  return slot;
}

void EndpointRegistry::prune() {
  // Only this registry creates references, and only on this thread, so a count of 1 cannot grow
  // back while we look: nothing else holds the entry.
  std::erase_if(counters_, [](const auto& entry) { return entry.second.use_count() == 1; });
  std::erase_if(outliers_, [](const auto& entry) { return entry.second.use_count() == 1; });
}

}  // namespace braid::dataplane::upstream
