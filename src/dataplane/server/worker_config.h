#pragma once

#include <map>
#include <memory>
#include <string>

#include "dataplane/server/runtime_config.h"
#include "dataplane/upstream/load_balancer.h"

namespace braid::dataplane {

struct ListenerRoute {
  const ListenerRuntime* listener = nullptr;
  upstream::LoadBalancer* balancer = nullptr;
};

// One worker's view of one RuntimeConfig: a load balancer per cluster (its round-robin state
// carried over from the previous snapshot) and a route per listening address. Connections hold
// it until they close. Owned and used by one worker thread.
struct WorkerConfig {
  WorkerConfig(std::shared_ptr<const RuntimeConfig> config, upstream::LbStateStore& states);

  std::shared_ptr<const RuntimeConfig> runtime;
  std::map<std::string, std::unique_ptr<upstream::LoadBalancer>> balancers;  // by cluster name
  std::map<std::string, ListenerRoute> routes;  // by listener address key
};

}  // namespace braid::dataplane
