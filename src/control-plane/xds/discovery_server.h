#pragma once

// The dataplane server on --xds-address: the discovery stream (proto/braid/discovery/v1) over
// gRPC with TLS. Kept free of gRPC and protobuf headers so braid-cp's main includes only this.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "control-plane/api/proxy_admin_reply.h"
#include "control-plane/insights/dataplane_insights.h"
#include "control-plane/store/store.h"
#include "control-plane/xds/token_grant.h"

namespace braid::xds {

struct DiscoveryServerOptions {
  std::string address = "0.0.0.0:5678";  // HOST:PORT; port 0 picks one
  // The TLS identity: either files, re-read every `certificateRefreshSeconds` so a renewed
  // certificate is served without a restart, or PEM text fixed for the server's life (tests).
  std::string serverCertFile;
  std::string serverKeyFile;
  unsigned certificateRefreshSeconds = 60;
  std::string serverCertPem;
  std::string serverKeyPem;
  // How long to wait after a change for more changes before regenerating (bursts coalesce).
  int debounceMs = 20;
  // Regenerate at the latest this long after the first change of a burst.
  int maxDelayMs = 200;
  // --dp-auth token: every stream must carry a dataplane token ("authorization: Bearer …") that
  // `authenticate` accepts, for the mesh and name of the Dataplane it registers (and, when the
  // token carries tags, with inbounds that all have them).
  bool requireToken = false;
  Authenticator authenticate;
  // After a start, proxies this CP has not heard from yet count as up for this long (they are
  // reconnecting); after it, only proxies with an open stream do.
  int startupGraceMs = 10000;
  // How long `askProxy` waits for a proxy to answer on its admin stream.
  int adminTimeoutMs = 5000;
};

class DiscoveryServer {
 public:
  DiscoveryServer(store::Store& store, DataplaneInsights& insights, DiscoveryServerOptions options);
  ~DiscoveryServer();
  DiscoveryServer(const DiscoveryServer&) = delete;
  DiscoveryServer& operator=(const DiscoveryServer&) = delete;

  bool start(std::string& error);
  int port() const;
  // Closes every stream; their dataplanes show offline but peers are not re-pushed (a CP restart
  // is not a departure).
  void stop();

  // The configuration the generator produces for a stored Dataplane right now, as JSON
  // ({"version":…,"config":{…}}); nullopt when the dataplane or its mesh does not exist.
  std::optional<std::string> configJsonFor(const std::string& mesh, const std::string& name);

  // The admin text ("stats" or "clusters") of a dataplane's proxy, asked over the admin stream
  // the proxy opened (proto/braid/discovery/v1/admin.proto). Blocks up to adminTimeoutMs.
  api::ProxyAdminReply askProxy(const std::string& mesh, const std::string& name,
                                const std::string& kind);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace braid::xds
