#pragma once

// The proxy admin stream on the dataplane server (proto/braid/discovery/v1/admin.proto): every
// proxy keeps one open to the CP, because the CP cannot reach the proxy's admin endpoint (it
// listens on the proxy's loopback). The REST API's `…/_stats` and `…/_clusters` send a request
// down the proxy's stream and wait for its answer. Streams are admitted as the discovery stream
// admits proxies: the first message carries the Dataplane document, and with --dp-auth token the
// token must name that Dataplane. Generated gRPC code stays in the .cc.

#include <chrono>
#include <memory>
#include <string>

#include "control-plane/api/proxy_admin_reply.h"
#include "control-plane/xds/token_grant.h"

namespace grpc {
class Service;
}

namespace braid::xds {

class ProxyAdmin {
 public:
  ProxyAdmin(bool requireToken, Authenticator authenticate);
  ~ProxyAdmin();
  ProxyAdmin(const ProxyAdmin&) = delete;
  ProxyAdmin& operator=(const ProxyAdmin&) = delete;

  // A service to register on one gRPC server; its streams join this registry. This object must
  // outlive that server.
  std::unique_ptr<grpc::Service> makeService();

  // Asks the proxy of (mesh, name) for its admin text, `kind` "stats" or "clusters", and waits
  // for the answer up to `timeout`. Thread-safe; other callers are not held up meanwhile.
  api::ProxyAdminReply ask(const std::string& mesh, const std::string& name,
                           const std::string& kind, std::chrono::milliseconds timeout);

  struct Registry;

 private:
  std::shared_ptr<Registry> registry_;
};

}  // namespace braid::xds
