#pragma once

#include <string>

#include "dataplane/config/discovery_client.h"
#include "dataplane/server/worker_pool.h"

namespace braid::dataplane {

// Prometheus lines about the control-plane connection and the proxy as a whole.
std::string discoveryMetrics(const DiscoveryClient& discovery, const WorkerPool& workers);

}  // namespace braid::dataplane
