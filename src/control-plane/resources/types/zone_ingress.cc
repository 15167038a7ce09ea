// ZoneIngress (global, legacy layout): the proxy that receives a zone's cross-zone traffic and
// the address other zones reach it at (POLICY_FIELDS §17).
#include "control-plane/resources/types/proxy_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using schema::member;
using schema::opt;
using schema::req;
using schema::S;

// Other zones dial advertisedAddress:advertisedPort; one without the other is unusable (Kuma
// silently ignores such an ingress, Braid refuses it).
void checkAdvertised(const Json& net, const std::string& path, FieldErrors& errors) {
  bool address = member(net, "advertisedAddress") != nullptr;
  bool port = member(net, "advertisedPort") != nullptr;
  if (address && !port) {
    errors.add(joinPath(path, "advertisedPort"), "must be defined when advertisedAddress is set");
  } else if (port && !address) {
    errors.add(joinPath(path, "advertisedAddress"), "must be defined when advertisedPort is set");
  }
}

S zoneIngressBody() {
  S networking = S::object({
                               opt("address", proxy_rules::proxyAddress()),
                               req("port", S::port()),
                               opt("advertisedAddress", proxy_rules::proxyAddress()),
                               opt("advertisedPort", S::port()),
                               opt("admin", S::object({opt("port", S::port())})),
                           })
                     .check(checkAdvertised)
                     .check(proxy_rules::adminPortDiffersFromPort());
  // Filled in by the control plane from the zone's dataplanes; accepted so that documents read
  // back from the API can be applied again.
  S availableService = S::object({
      req("tags", proxy_rules::serviceTags()),
      opt("instances", S::u32()),
      opt("mesh", S::string().notEmpty()),
      opt("externalService", S::boolean()),
  });
  return S::object({
      opt("zone", S::string().notEmpty()),
      req("networking", networking),
      opt("availableServices", S::array(availableService)),
  });
}

}  // namespace

const ResourceType& zoneIngressType() {
  static const ResourceType kType{
      .name = "ZoneIngress",
      .plural = "zoneingresses",
      .singular = "zoneingress",
      .scope = Scope::kGlobal,
      .layout = Layout::kLegacy,
      .readOnly = false,
      .body = zoneIngressBody(),
  };
  return kType;
}

}  // namespace braid
