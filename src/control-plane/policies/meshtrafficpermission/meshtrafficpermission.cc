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

// A caller is known by its certificate's one SPIFFE ID, spiffe://<mesh>/<service>: a source
// selector on anything else (a version, a zone) could never be checked, so it is refused rather
// than silently widened or narrowed (docs/security.md).
void identityProvable(const Json& spec, const std::string& path, FieldErrors& errors) {
  if (spec.contains("from") && spec.at("from").is_array()) {
    const Json& from = spec.at("from");
    for (size_t i = 0; i < from.size(); ++i) {
      if (!from[i].is_object() || !from[i].contains("targetRef")) continue;
      const Json& ref = from[i].at("targetRef");
      if (!ref.is_object() || !ref.contains("tags") || !ref.at("tags").is_object()) continue;
      std::string refPath = joinPath(indexPath(joinPath(path, "from"), i), "targetRef");
      for (const auto& [tag, value] : ref.at("tags").items()) {
        if (tag == "braid.io/service") continue;
        errors.add(joinPath(joinPath(refPath, "tags"), tag),
                   "cannot be proven by a caller: its identity (spiffe://<mesh>/<service>) "
                   "carries only the braid.io/service tag");
      }
    }
  }
  if (spec.contains("rules") && spec.at("rules").is_array()) {
    const Json& rules = spec.at("rules");
    for (size_t i = 0; i < rules.size(); ++i) {
      if (!rules[i].is_object() || !rules[i].contains("default")) continue;
      const Json& conf = rules[i].at("default");
      if (!conf.is_object()) continue;
      for (const char* list : {"allow", "deny", "allowWithShadowDeny"}) {
        if (!conf.contains(list) || !conf.at(list).is_array()) continue;
        const Json& matches = conf.at(list);
        for (size_t j = 0; j < matches.size(); ++j) {
          if (!matches[j].is_object() || !matches[j].contains("sni")) continue;
          errors.add(
              joinPath(
                  indexPath(
                      joinPath(joinPath(indexPath(joinPath(path, "rules"), i), "default"), list),
                      j),
                  "sni"),
              "sni matches are not supported by MeshTrafficPermission in Braid yet; "
              "match the caller's spiffeID");
        }
      }
    }
  }
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
      .check(sectionNameNeedsInbound())
      .check(identityProvable);
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
