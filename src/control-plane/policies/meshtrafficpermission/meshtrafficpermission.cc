// MeshTrafficPermission (POLICY_FIELDS.md §1): which callers may reach the selected proxies'
// inbounds. `from[]` gives an action per caller targetRef; `rules[]` lists SPIFFE/SNI matches to
// allow, deny or allow-with-shadow-deny. Exactly one of the two styles is used.
#include "control-plane/policies/common/policy_sections.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using policies::requireSection;
using policies::ruleItem;
using policies::rulesExclude;
using policies::sectionNameNeedsInbound;
using policies::targetedItem;
using policies::topTargetRef;
using rules::RefPosition;
using schema::opt;
using schema::req;
using schema::S;

S fromConf() {
  return S::object({req("action", S::enumOf({"Allow", "Deny", "AllowWithShadowDeny"}))});
}

S rulesConf() {
  S matches = S::array(rules::match());
  return S::object(
             {opt("allow", matches), opt("deny", matches), opt("allowWithShadowDeny", matches)})
      .check(requireSection({"allow", "deny", "allowWithShadowDeny"}));
}

S spec() {
  const std::vector<std::string> topKinds = {rules::kMesh, rules::kMeshSubset, rules::kMeshService,
                                             rules::kMeshServiceSubset, rules::kDataplane};
  const std::vector<std::string> fromKinds = {rules::kMesh, rules::kMeshSubset, rules::kMeshService,
                                              rules::kMeshServiceSubset};
  S from = targetedItem(rules::targetRef(fromKinds, RefPosition::kFrom), fromConf());
  return S::object({
                       opt("targetRef", topTargetRef(topKinds, /*inbound=*/true)),
                       opt("from", S::array(from)),
                       opt("rules", S::array(ruleItem(rulesConf(), /*withMatches=*/false))),
                   })
      .check(requireSection({"from", "rules"}))
      .check(rulesExclude({"from"}))
      .check(sectionNameNeedsInbound());
}

}  // namespace

const ResourceType& meshTrafficPermissionType() {
  static const ResourceType kType{
      .name = "MeshTrafficPermission",
      .plural = "meshtrafficpermissions",
      .singular = "meshtrafficpermission",
      .scope = Scope::kMesh,
      .layout = Layout::kPolicy,
      .readOnly = false,
      .body = spec(),
  };
  return kType;
}

}  // namespace braid
