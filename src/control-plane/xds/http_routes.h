#pragma once

// Route compilation for one outbound: the merged MeshHTTPRoute / MeshTCPRoute `to` conf for its
// service, with MeshTimeout (http.requestTimeout) and MeshRetry (http) for that service, turned
// into the ProxyConfig's RouteTable or TcpProxy weights. Pure functions of the matched policies;
// the generator creates the clusters they name (docs/policy-matching.md for the merged shapes).
//
// Route order follows Kuma (MeshHTTPRoute's SortRules, Gateway API precedence): every `matches`
// entry of every rule becomes one route, stably sorted by
//   1. path: Exact, then PathPrefix (longer value first), then RegularExpression (longer first),
//      then no path;
//   2. a method before none;
//   3. more header matches first;  4. more query-parameter matches first.
// Ties keep the merged rule order. When no route matches every request, a final route "default"
// (PathPrefix "/") sends the rest to the outbound's own cluster, as Kuma's implicit route does.

#include <map>
#include <string>
#include <vector>

#include "braid/proxy/v1/config.pb.h"
#include "control-plane/policy-matching/matched_policies.h"

namespace braid::xds {

using Tags = std::map<std::string, std::string>;

struct OutboundRouting {
  std::string service;     // the outbound's braid.io/service
  std::string protocol;    // the outbound's protocol: tcp, http, http2, grpc
  std::string ownCluster;  // the outbound's own cluster (its tags)
};

// Envoy's route timeout when MeshTimeout sets none (KUMA_FACTS: 15 s).
inline constexpr uint32_t kDefaultRequestTimeoutMs = 15000;
// MeshTimeout http.streamIdleTimeout when unset: Kuma's default outbound policy's 30 minutes.
inline constexpr uint32_t kDefaultStreamIdleTimeoutMs = 30 * 60 * 1000;

// True when the outbound gets an HTTP connection manager: an L7 protocol, unless only a
// MeshTCPRoute (no MeshHTTPRoute) applies to it, which makes Kuma route it as TCP.
bool usesHttpRouting(const policy_matching::MatchedPolicies& matched,
                     const OutboundRouting& outbound);

// The outbound's routes. The tags of every cluster a route names other than the outbound's own
// (backendRefs, mirrors) are appended to `clusters` (the cluster's name is
// outboundClusterName(tags)); duplicates are possible.
braid::proxy::v1::RouteTable compileHttpRoutes(const policy_matching::MatchedPolicies& matched,
                                               const OutboundRouting& outbound,
                                               std::vector<Tags>& clusters);

// MeshTCPRoute's weighted backendRefs for the outbound (empty: none applies).
std::vector<braid::proxy::v1::WeightedCluster> compileTcpRoute(
    const policy_matching::MatchedPolicies& matched, const OutboundRouting& outbound,
    std::vector<Tags>& clusters);

}  // namespace braid::xds
