#include "dataplane/server/worker_config.h"

#include <set>

namespace braid::dataplane {

WorkerConfig::WorkerConfig(std::shared_ptr<const RuntimeConfig> config,
                           upstream::LbStateStore& states)
    : runtime(std::move(config)) {
  std::set<std::string> names;
  for (const auto& [name, cluster] : runtime->clusters) {
    balancers.emplace(name,
                      std::make_unique<upstream::LoadBalancer>(cluster, states.cluster(name)));
    names.insert(name);
  }
  states.retainOnly(names);
  for (const auto& listener : runtime->listeners) {
    routes[listener.addressKey] = {&listener, balancers.at(listener.config->cluster).get()};
  }
}

}  // namespace braid::dataplane
