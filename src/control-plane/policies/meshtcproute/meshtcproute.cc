// MeshTCPRoute (POLICY_FIELDS.md §3): L4 routing on outbounds. Each `to[]` entry names a
// destination service and holds one rule that sends its connections to weighted backendRefs.
#include "control-plane/policies/common/policy_sections.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using policies::topTargetRef;
using rules::RefPosition;
using schema::opt;
using schema::req;
using schema::S;

S rule() {
  S backendRefs = S::array(rules::backendRef({rules::kMeshService, rules::kMeshServiceSubset,
                                              "MeshExternalService", "MeshMultiZoneService"}))
                      .notEmpty();
  return S::object({req("default", S::object({req("backendRefs", backendRefs)}))});
}

S spec() {
  const std::vector<std::string> topKinds = {rules::kMesh,        rules::kMeshSubset,
                                             rules::kMeshService, rules::kMeshServiceSubset,
                                             rules::kDataplane,   "MeshGateway"};
  const std::vector<std::string> toKinds = {rules::kMeshService, "MeshExternalService",
                                            "MeshMultiZoneService"};
  // A TCP connection cannot be told apart by anything but its destination: one rule per `to`.
  S rulesList =
      S::array(rule()).check([](const Json& v, const std::string& path, FieldErrors& errors) {
        if (v.is_array() && v.size() > 1) errors.add(path, "must have at most one rule");
      });
  S to = S::object({
      req("targetRef", rules::targetRef(toKinds, RefPosition::kTo)),
      req("rules", rulesList),
  });
  return S::object({
      opt("targetRef", topTargetRef(topKinds, /*inbound=*/false)),
      opt("to", S::array(to).notEmpty()),
  });
}

}  // namespace

const ResourceType& meshTcpRouteType() {
  static const ResourceType kType{
      .name = "MeshTCPRoute",
      .plural = "meshtcproutes",
      .singular = "meshtcproute",
      .scope = Scope::kMesh,
      .layout = Layout::kPolicy,
      .readOnly = false,
      .body = spec(),
  };
  return kType;
}

}  // namespace braid
