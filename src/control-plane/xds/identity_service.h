#pragma once

// The workload certificate service on the dataplane server (CONTRACT §5, §6): a proxy sends a CSR
// for the key it generated; the CP signs one certificate per service of the Dataplane it has
// registered under the caller's token — never the SANs the CSR asks for — with the mesh's enabled
// CA backend. Generated gRPC code stays in the .cc.

#include <memory>

#include "control-plane/ca/mesh_ca.h"
#include "control-plane/insights/dataplane_insights.h"
#include "control-plane/store/store.h"
#include "control-plane/xds/config_syncer.h"

namespace grpc {
class Service;
}

namespace braid::xds {

// `authenticate` is used when `requireToken`: the token's mesh and name must be the ones asked
// for. The returned service is registered on the discovery server's gRPC server.
std::unique_ptr<grpc::Service> makeIdentityService(store::Store& store, DataplaneInsights& insights,
                                                   ca::MeshCa& meshCa, bool requireToken,
                                                   Authenticator authenticate);

}  // namespace braid::xds
