#pragma once

// The dataplanes of one mesh as the generator needs them: every inbound that can receive traffic,
// with the address other proxies reach it at. Built once per generation pass and shared by every
// proxy generated in that pass, so a change that affects 1,000 proxies parses the mesh once.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/json.h"

namespace braid::xds {

struct InboundEndpoint {
  std::string dataplane;  // the Dataplane's name
  std::string address;    // advertisedAddress, else inbound.address, else networking.address
  uint32_t port = 0;      // the inbound port: where that proxy listens
  bool healthy = true;    // health.ready != false, state != NotReady, and its proxy online
  std::string protocol;   // braid.io/protocol, lower case; "" when absent
  std::map<std::string, std::string> tags;
};

class MeshView {
 public:
  // `dataplanes`: name → stored content (the resource body: networking, labels). `online` says
  // whether a dataplane's proxy is up; inbounds of proxies that are not are unhealthy.
  MeshView(std::string mesh, const std::map<std::string, Json>& dataplanes,
           const std::function<bool(const std::string& name)>& online = {});

  const std::string& mesh() const { return mesh_; }
  // Every inbound (not Ignored) of every dataplane whose tags include all of `tags`, in a stable
  // order (dataplane name, then port).
  std::vector<const InboundEndpoint*> endpointsMatching(
      const std::map<std::string, std::string>& tags) const;
  // The services a dataplane's inbounds belong to (for change impact).
  static std::vector<std::string> servicesOf(const Json& dataplane);
  // The services a dataplane reaches through its outbounds.
  static std::vector<std::string> outboundServicesOf(const Json& dataplane);

 private:
  std::string mesh_;
  std::multimap<std::string, InboundEndpoint> byService_;  // braid.io/service → endpoint
};

}  // namespace braid::xds
