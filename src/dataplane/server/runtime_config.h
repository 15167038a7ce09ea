#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/config/snapshot.h"
#include "dataplane/network/address.h"
#include "dataplane/stats/stats.h"
#include "dataplane/upstream/cluster_runtime.h"
#include "dataplane/upstream/endpoint_registry.h"

namespace braid::dataplane {

struct ListenerRuntime {
  const ListenerConfig* config = nullptr;
  network::ResolvedAddress address;
  std::string addressKey;  // canonical "ip:port": listening sockets are kept by address
  std::shared_ptr<ListenerCounters> counters;
  const upstream::ClusterRuntime* cluster = nullptr;
};

// A snapshot resolved on the main thread for the workers: addresses parsed, counters looked up.
// Immutable once built; shared by every worker and by every connection that started under it.
struct RuntimeConfig {
  SnapshotPtr snapshot;
  std::map<std::string, upstream::ClusterRuntime> clusters;
  std::vector<ListenerRuntime> listeners;
};

// What the data path cannot serve: a listener address that is not an IP literal or has port 0,
// two listeners on one address, a listener whose cluster is missing. "" when none.
std::string validateSnapshot(const Snapshot& snapshot);

// Resolves a snapshot that passed validateSnapshot().
std::shared_ptr<const RuntimeConfig> buildRuntimeConfig(SnapshotPtr snapshot, Stats& stats,
                                                        upstream::EndpointRegistry& endpoints);

}  // namespace braid::dataplane
