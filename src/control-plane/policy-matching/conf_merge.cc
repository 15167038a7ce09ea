#include "control-plane/policy-matching/conf_merge.h"

#include <algorithm>

#include "control-plane/policy-matching/merge_patch.h"

namespace braid::policy_matching {
namespace {

bool isPermissionList(const std::string& key) {
  return key == "allow" || key == "deny" || key == "allowWithShadowDeny";
}

const Json& matchesOf(const Json& rule) {
  static const Json kNone;  // null: the rule has no matches (all traffic)
  if (!rule.is_object()) return kNone;
  auto it = rule.find("matches");
  return it == rule.end() ? kNone : *it;
}

void mergeRulesByMatches(Json& acc, const Json& rules) {
  if (!acc.is_array()) acc = Json::array();
  for (const Json& rule : rules) {
    if (!rule.is_object()) continue;
    const Json& matches = matchesOf(rule);
    auto same = std::find_if(acc.begin(), acc.end(),
                             [&](const Json& r) { return matchesOf(r) == matches; });
    const Json patch = rule.contains("default") ? rule["default"] : Json::object();
    if (same != acc.end()) {
      applyMergePatch((*same)["default"], patch);
      continue;
    }
    Json fresh = Json::object();
    for (const auto& [key, value] : rule.items()) {
      if (key != "default") fresh[key] = value;
    }
    fresh["default"] = mergePatch(Json::object(), patch);
    acc.push_back(std::move(fresh));
  }
}

}  // namespace

MergeStyle mergeStyleFor(const std::string& policyType) {
  if (policyType == "MeshTrafficPermission") return MergeStyle::kAppendPermissions;
  if (policyType == "MeshHTTPRoute" || policyType == "MeshTCPRoute") return MergeStyle::kRouteRules;
  return MergeStyle::kPatch;
}

void mergeConf(Json& acc, const Json& patch, MergeStyle style) {
  if (style == MergeStyle::kPatch || !patch.is_object()) {
    applyMergePatch(acc, patch);
    return;
  }
  if (!acc.is_object()) acc = Json::object();
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      acc.erase(key);
    } else if (style == MergeStyle::kAppendPermissions && isPermissionList(key) &&
               value.is_array()) {
      Json& list = acc[key];
      if (!list.is_array()) list = Json::array();
      for (const Json& item : value) list.push_back(item);
    } else if (style == MergeStyle::kRouteRules && key == "rules" && value.is_array()) {
      mergeRulesByMatches(acc[key], value);
    } else {
      applyMergePatch(acc[key], value);
    }
  }
}

Json mergeRanked(std::vector<RankedConf> confs, MergeStyle style) {
  std::stable_sort(confs.begin(), confs.end(),
                   [](const RankedConf& a, const RankedConf& b) { return a.rank < b.rank; });
  Json acc = Json::object();
  for (const RankedConf& c : confs) {
    if (c.conf) mergeConf(acc, *c.conf, style);
  }
  return acc;
}

}  // namespace braid::policy_matching
