#pragma once

// Compiles the ProxyConfig's HTTP routes and TCP weights into the Snapshot's plain structs
// (config/route_config.h), refusing what a worker could not run: a regex RE2 does not accept,
// a cluster the ProxyConfig does not define, a route with no action or no cluster, an unknown
// retry condition, a redirect status other than 301/302/303/307/308. Every problem is appended
// to `problems` (prefixed with `where`); the caller refuses the whole configuration.

#include <map>
#include <string>
#include <vector>

#include "braid/proxy/v1/config.pb.h"
#include "dataplane/config/snapshot.h"

namespace braid::dataplane {

void compileHttpConnectionManager(const braid::proxy::v1::HttpConnectionManager& in,
                                  const std::map<std::string, ClusterConfig>& clusters,
                                  const std::string& where, HttpConnectionManagerConfig& out,
                                  std::vector<std::string>& problems);

// MeshTCPRoute weights; returns their sum.
uint64_t compileWeightedClusters(
    const google::protobuf::RepeatedPtrField<braid::proxy::v1::WeightedCluster>& in,
    const std::map<std::string, ClusterConfig>& clusters, const std::string& where,
    std::vector<WeightedCluster>& out, std::vector<std::string>& problems);

}  // namespace braid::dataplane
