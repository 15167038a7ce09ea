#include "control-plane/policy-matching/precedence.h"

namespace braid::policy_matching {
namespace {

bool has(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && !it->is_null();
}

}  // namespace

int topLevelRank(const Json& targetRef) {
  if (targetRef.is_null()) return 0;
  if (!targetRef.is_object()) return -1;
  auto kindIt = targetRef.find("kind");
  if (kindIt == targetRef.end() || !kindIt->is_string()) return -1;
  const std::string kind = kindIt->get<std::string>();
  if (kind == "Mesh") return 0;
  if (kind == "MeshSubset") return 10;
  if (kind == "MeshService") return 20;
  if (kind == "MeshServiceSubset") return 30;
  if (kind == "Dataplane") {
    int rank = has(targetRef, "name") ? 44 : has(targetRef, "labels") ? 42 : 40;
    return rank + (has(targetRef, "sectionName") ? 1 : 0);
  }
  return -1;
}

MergeOrderKey mergeOrderKey(const Json& targetRef, const std::string& policyName) {
  return {topLevelRank(targetRef), policyName};
}

}  // namespace braid::policy_matching
