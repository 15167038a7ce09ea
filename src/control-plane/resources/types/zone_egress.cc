// ZoneEgress (global, legacy layout): the proxy through which a zone's sidecars reach external
// services and other zones when the Mesh routes through egress (POLICY_FIELDS §18).
#include "control-plane/resources/types/proxy_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using schema::opt;
using schema::req;
using schema::S;

S zoneEgressBody() {
  S networking = S::object({
                               opt("address", proxy_rules::proxyAddress()),
                               req("port", S::port()),
                               opt("admin", S::object({opt("port", S::port())})),
                           })
                     .check(proxy_rules::adminPortDiffersFromPort());
  return S::object({
      opt("zone", S::string().notEmpty()),
      req("networking", networking),
  });
}

}  // namespace

const ResourceType& zoneEgressType() {
  static const ResourceType kType{
      .name = "ZoneEgress",
      .plural = "zoneegresses",
      .singular = "zoneegress",
      .scope = Scope::kGlobal,
      .layout = Layout::kLegacy,
      .readOnly = false,
      .body = zoneEgressBody(),
  };
  return kType;
}

}  // namespace braid
