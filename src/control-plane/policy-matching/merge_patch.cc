#include "control-plane/policy-matching/merge_patch.h"

namespace braid::policy_matching {

void applyMergePatch(Json& target, const Json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  // RFC 7386: patching a non-object with an object starts from an empty object.
  if (!target.is_object()) target = Json::object();
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      target.erase(key);
    } else {
      // A missing key patched with an object still goes through the recursion so that nulls
      // nested in the patch are dropped rather than copied.
      Json& slot = target[key];
      applyMergePatch(slot, value);
    }
  }
}

Json mergePatch(Json target, const Json& patch) {
  applyMergePatch(target, patch);
  return target;
}

}  // namespace braid::policy_matching
