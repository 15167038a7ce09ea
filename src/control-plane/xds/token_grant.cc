#include "control-plane/xds/token_grant.h"

#include "control-plane/xds/dataplane_fields.h"

namespace braid::xds {

std::string tokenTagsViolation(const TokenGrant& grant, const Json& content) {
  if (grant.tags.empty()) return "";
  const Json& inbounds = arrayAt(networkingOf(content), "inbound");
  for (size_t i = 0; i < inbounds.size(); ++i) {
    if (stringAt(inbounds[i], "state") == "Ignored") continue;
    auto tags = tagsOf(inbounds[i]);
    for (const auto& [key, value] : grant.tags) {
      auto it = tags.find(key);
      if (it != tags.end() && it->second == value) continue;
      return "inbound[" + std::to_string(i) + "] has " + key + "=" +
             (it == tags.end() ? "(none)" : it->second) + ", the token allows " + key + "=" +
             value + " only";
    }
  }
  return "";
}

}  // namespace braid::xds
