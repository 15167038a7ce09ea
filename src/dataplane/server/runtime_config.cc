#include "dataplane/server/runtime_config.h"

namespace braid::dataplane {

std::string validateSnapshot(const Snapshot& snapshot) {
  std::map<std::string, const ListenerConfig*> byAddress;
  for (const auto& listener : snapshot.listeners) {
    std::string prefix = "listener " + listener.name + ": ";
    auto address = network::resolve(listener.address);
    if (!address) return prefix + "address " + listener.address.ip + " is not an IP address";
    // Every worker binds its own socket, so an ephemeral port would differ between workers.
    if (listener.address.port == 0) return prefix + "port 0 is not supported";
    auto [it, added] = byAddress.emplace(network::formatAddress(*address), &listener);
    if (!added) {
      return prefix + "address " + it->first + " is also the address of listener " +
             it->second->name;
    }
    if (!snapshot.clusters.contains(listener.cluster)) {
      return prefix + "cluster " + listener.cluster + " is not defined";
    }
  }
  return "";
}

std::shared_ptr<const RuntimeConfig> buildRuntimeConfig(SnapshotPtr snapshot, Stats& stats,
                                                        upstream::EndpointRegistry& endpoints,
                                                        tls::TlsContextsPtr tls) {
  auto config = std::make_shared<RuntimeConfig>();
  config->snapshot = std::move(snapshot);
  config->tls = std::move(tls);
  for (const auto& [name, cluster] : config->snapshot->clusters) {
    upstream::ClusterRuntime runtime;
    runtime.config = &cluster;
    runtime.counters = stats.cluster(name);
    runtime.outlier = endpoints.outlier(name);
    runtime.endpoints.reserve(cluster.endpoints.size());
    for (const auto& endpoint : cluster.endpoints) {
      upstream::EndpointRuntime resolved;
      resolved.config = &endpoint;
      resolved.address = network::resolve(endpoint.address);
      resolved.key = resolved.address ? network::formatAddress(*resolved.address)
                                      : network::formatAddress(endpoint.address);
      resolved.counters = endpoints.get(name, resolved.key);
      runtime.endpoints.push_back(std::move(resolved));
    }
    if (cluster.tls.enabled && config->tls)
      runtime.tlsClient = config->tls->client(cluster.tls.identity);
    config->clusters.emplace(name, std::move(runtime));
  }
  for (const auto& listener : config->snapshot->listeners) {
    ListenerRuntime runtime;
    runtime.config = &listener;
    runtime.address = *network::resolve(listener.address);
    runtime.addressKey = network::formatAddress(runtime.address);
    runtime.counters = stats.listener(listener.name);
    if (listener.http) {
      for (const auto& route : listener.http->routes.routes) {
        runtime.routeCounters.push_back(stats.route(listener.name, route.name));
      }
    }
    runtime.cluster = &config->clusters.at(listener.cluster);
    if (listener.security.mode != TlsMode::kDisabled && config->tls) {
      runtime.tlsServer = config->tls->server(listener.security.identity);
    }
    config->listeners.push_back(std::move(runtime));
  }
  return config;
}

}  // namespace braid::dataplane
