#include "control-plane/xds/mesh_view.h"

#include <algorithm>

#include "control-plane/xds/dataplane_fields.h"

namespace braid::xds {

MeshView::MeshView(std::string mesh, const std::map<std::string, Json>& dataplanes,
                   const std::function<bool(const std::string& name)>& online)
    : mesh_(std::move(mesh)) {
  for (const auto& [name, dataplane] : dataplanes) {
    bool up = !online || online(name);
    const Json& networking = networkingOf(dataplane);
    std::string address = stringAt(networking, "address");
    std::string advertised = stringAt(networking, "advertisedAddress");
    for (const auto& inbound : arrayAt(networking, "inbound")) {
      std::string state = stringAt(inbound, "state");
      if (state == "Ignored") continue;
      InboundEndpoint e;
      e.dataplane = name;
      std::string inboundAddress = stringAt(inbound, "address");
      e.address = !advertised.empty()       ? advertised
                  : !inboundAddress.empty() ? inboundAddress
                                            : address;
      e.port = inbound.value("port", 0u);
      bool ready = true;
      if (auto h = inbound.find("health"); h != inbound.end() && h->is_object()) {
        ready = h->value("ready", true);
      }
      e.healthy = up && ready && state != "NotReady";
      e.tags = tagsOf(inbound);
      e.protocol = lowerCase(e.tags.count(kProtocolTag) ? e.tags[kProtocolTag] : "");
      std::string service = e.tags[kServiceTag];
      byService_.emplace(service, std::move(e));
    }
  }
}

std::vector<const InboundEndpoint*> MeshView::endpointsMatching(
    const std::map<std::string, std::string>& tags) const {
  std::vector<const InboundEndpoint*> out;
  auto service = tags.find(kServiceTag);
  if (service == tags.end()) return out;
  auto [begin, end] = byService_.equal_range(service->second);
  for (auto it = begin; it != end; ++it) {
    const InboundEndpoint& e = it->second;
    bool all = std::all_of(tags.begin(), tags.end(), [&](const auto& kv) {
      auto t = e.tags.find(kv.first);
      return t != e.tags.end() && t->second == kv.second;
    });
    if (all) out.push_back(&e);
  }
  std::sort(out.begin(), out.end(), [](const InboundEndpoint* a, const InboundEndpoint* b) {
    return std::tie(a->dataplane, a->port) < std::tie(b->dataplane, b->port);
  });
  return out;
}

std::vector<std::string> MeshView::servicesOf(const Json& dataplane) {
  std::vector<std::string> out;
  for (const auto& inbound : arrayAt(networkingOf(dataplane), "inbound")) {
    out.push_back(tagsOf(inbound)[kServiceTag]);
  }
  return out;
}

std::vector<std::string> MeshView::outboundServicesOf(const Json& dataplane) {
  std::vector<std::string> out;
  for (const auto& outbound : arrayAt(networkingOf(dataplane), "outbound")) {
    out.push_back(tagsOf(outbound)[kServiceTag]);
  }
  return out;
}

}  // namespace braid::xds
