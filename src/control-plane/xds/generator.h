#pragma once

// Proxy configuration generation: a pure function of a dataplane and the mesh it lives in
// (docs/architecture.md, "Discovery"). Same inputs, same bytes: the version is a hash of them.
//
// - one inbound listener per inbound (not Ignored) → a cluster "localhost:<servicePort>" holding
//   the local application at serviceAddress:servicePort;
// - one outbound listener per outbound → a cluster named after the outbound's tags holding every
//   inbound in the mesh whose tags include them (healthy or not, flagged), reached at that
//   dataplane's advertised address and inbound port; its connect timeout comes from the merged
//   MeshTimeout `to` conf for that service (connectionTimeout), else Envoy's 5 s;
// - an outbound whose protocol is http, http2 or grpc gets an `http` filter chain whose routes
//   come from MeshHTTPRoute, MeshTimeout and MeshRetry (http_routes.h); a tcp one gets
//   MeshTCPRoute's weighted clusters; every cluster a route names (MeshServiceSubset →
//   "<service>{k=v}") is generated like an outbound's;
// - with mTLS: `mtls` (backend, trust domain, roots), `identities` (the inbounds' services),
//   each inbound listener's mode, certificate and compiled MeshTrafficPermission rules, and each
//   outbound cluster's client certificate, expected SAN and SNI.

#include <map>
#include <string>

#include "braid/proxy/v1/config.pb.h"
#include "common/json.h"
#include "control-plane/policy-matching/policy_input.h"
#include "control-plane/xds/mesh_security.h"
#include "control-plane/xds/mesh_view.h"

namespace braid::xds {

// Memoises, within one generation pass over one MeshView, what every outbound to the same tags
// shares: its endpoints and protocol. The output is identical with or without it; it must not
// outlive the view it was filled from.
struct OutboundCache {
  struct Entry {
    std::string protocol;
    braid::proxy::v1::Cluster cluster;  // everything but the per-proxy connect timeout
  };
  std::map<std::string, Entry> byCluster;
};

struct GeneratorInput {
  std::string name;                 // the Dataplane's name
  const Json* dataplane = nullptr;  // its stored content (networking, labels)
  const MeshView* mesh = nullptr;
  const std::vector<policy_matching::PolicyInput>* policies = nullptr;  // the mesh's; may be null
  OutboundCache* cache = nullptr;                                       // optional
  const MeshSecurity* security = nullptr;  // null or mtlsEnabled false: plaintext
};

braid::proxy::v1::ProxyConfig generateProxyConfig(const GeneratorInput& input);

// "<service>" or "<service>{k=v,…}" for an outbound's tags (extra tags sorted by key, as in
// Kuma's SNI form).
std::string outboundClusterName(const std::map<std::string, std::string>& tags);

// A version that changes exactly when the configuration does: 16 hex digits of the SHA-256 of
// its deterministic serialisation.
std::string configVersion(const braid::proxy::v1::ProxyConfig& config);

// The JSON people read (`_config`, golden files): proto field names, defaults included.
std::string configToJson(const braid::proxy::v1::ProxyConfig& config);

}  // namespace braid::xds
