#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/config/snapshot.h"
#include "dataplane/network/address.h"
#include "dataplane/stats/stats.h"
#include "dataplane/tls/tls_contexts.h"
#include "dataplane/upstream/cluster_runtime.h"
#include "dataplane/upstream/endpoint_registry.h"

namespace braid::dataplane {

struct ListenerRuntime {
  const ListenerConfig* config = nullptr;
  network::ResolvedAddress address;
  std::string addressKey;  // canonical "ip:port": listening sockets are kept by address
  std::shared_ptr<ListenerCounters> counters;
  // An HTTP listener: the counters of each of config->http's routes, in the routes' order.
  std::vector<std::shared_ptr<RouteCounters>> routeCounters;
  const upstream::ClusterRuntime* cluster = nullptr;
  // An inbound with TLS: the server context of config->security.identity; nullptr when this
  // proxy has no certificate for it.
  SSL_CTX* tlsServer = nullptr;

  // The counters of `route`, one of config->http's routes; nullptr for any other.
  RouteCounters* countersOf(const Route* route) const {
    if (route == nullptr || !config->http) return nullptr;
    const auto& routes = config->http->routes.routes;
    if (routes.empty() || route < routes.data() || route >= routes.data() + routes.size()) {
      return nullptr;
    }
    const auto index = static_cast<size_t>(route - routes.data());
    return index < routeCounters.size() ? routeCounters[index].get() : nullptr;
  }
};

// A snapshot resolved on the main thread for the workers: addresses parsed, counters looked up.
// Immutable once built; shared by every worker and by every connection that started under it.
struct RuntimeConfig {
  SnapshotPtr snapshot;
  // Built from the snapshot's mTLS settings and the workload identity; nullptr when mTLS is off
  // or there is no identity yet. Declared before what points into it.
  tls::TlsContextsPtr tls;
  std::map<std::string, upstream::ClusterRuntime> clusters;
  std::vector<ListenerRuntime> listeners;
};

// What the data path cannot serve: a listener address that is not an IP literal or has port 0,
// two listeners on one address, a listener whose cluster is missing. "" when none.
std::string validateSnapshot(const Snapshot& snapshot);

// Resolves a snapshot that passed validateSnapshot(), with the TLS contexts built for it
// (nullptr: none).
std::shared_ptr<const RuntimeConfig> buildRuntimeConfig(SnapshotPtr snapshot, Stats& stats,
                                                        upstream::EndpointRegistry& endpoints,
                                                        tls::TlsContextsPtr tls = nullptr);

}  // namespace braid::dataplane
