#include "control-plane/policy-matching/matched_policies.h"

#include <algorithm>

#include "control-plane/policy-matching/precedence.h"

namespace braid::policy_matching {
namespace {

bool hasSection(const PolicyInput& p, const char* key) {
  auto it = p.spec.find(key);
  if (it == p.spec.end() || it->is_null()) return false;
  return !it->is_array() || !it->empty();
}

const Json& targetRefOf(const PolicyInput& p) {
  static const Json kAbsent;  // null = {kind: Mesh}
  auto it = p.spec.find("targetRef");
  return it == p.spec.end() ? kAbsent : *it;
}

TypeResult mergeType(const std::string& type, std::vector<const PolicyInput*> policies,
                     const DataplaneView& dp) {
  std::stable_sort(policies.begin(), policies.end(), [](const auto* a, const auto* b) {
    return mergeOrderKey(targetRefOf(*a), a->name) < mergeOrderKey(targetRefOf(*b), b->name);
  });
  std::vector<MatchedPolicy> matched;
  TypeResult r;
  for (const PolicyInput* p : policies) {
    Selection s = selectDataplane(targetRefOf(*p), dp);
    if (!s.matched) continue;
    matched.push_back({p, std::move(s)});
    r.matched.push_back(p->name);
    r.hasTo = r.hasTo || hasSection(*p, "to");
    r.hasFrom = r.hasFrom || hasSection(*p, "from");
    r.hasRules = r.hasRules || hasSection(*p, "rules");
    r.hasDefault = r.hasDefault || hasSection(*p, "default");
  }
  const MergeStyle style = mergeStyleFor(type);
  if (r.hasTo) r.to = mergeTo(matched, dp, style);
  if (r.hasFrom) r.from = mergeFrom(matched, dp, style);
  if (r.hasRules) r.rules = mergeInboundRules(matched, dp, style);
  if (r.hasDefault) r.defaultConf = mergeDefaults(matched, style);
  return r;
}

}  // namespace

const Json* TypeResult::toService(const std::string& service) const {
  const Json* mesh = nullptr;
  for (const ToConf& t : to) {
    if (t.target.kind == "MeshService" && t.target.name == service) return &t.conf;
    if (t.target.kind == "Mesh") mesh = &t.conf;
  }
  return mesh;
}

MatchedPolicies matchPolicies(const DataplaneView& dp, const std::vector<PolicyInput>& policies) {
  std::map<std::string, std::vector<const PolicyInput*>> byType;
  for (const PolicyInput& p : policies) byType[p.type].push_back(&p);
  MatchedPolicies out;
  for (auto& [type, list] : byType) {
    TypeResult r = mergeType(type, std::move(list), dp);
    if (!r.matched.empty()) out.emplace(type, std::move(r));
  }
  return out;
}

Json toJson(const MatchedPolicies& result) {
  Json out = Json::object();
  for (const auto& [type, r] : result) {
    Json t = Json::object();
    t["matched"] = r.matched;
    if (r.hasTo) {
      Json list = Json::array();
      for (const ToConf& c : r.to) {
        list.push_back(Json{{"targetRef", c.target.toJson()}, {"conf", c.conf}});
      }
      t["to"] = std::move(list);
    }
    if (r.hasFrom) {
      Json list = Json::array();
      for (const FromConf& c : r.from) {
        list.push_back(
            Json{{"inbound", c.inbound}, {"targetRef", c.target.toJson()}, {"conf", c.conf}});
      }
      t["from"] = std::move(list);
    }
    if (r.hasRules) {
      Json list = Json::array();
      for (const InboundRuleConf& c : r.rules) {
        Json item = Json::object();
        item["inbound"] = c.inbound;
        if (!c.matches.is_null()) item["matches"] = c.matches;
        item["conf"] = c.conf;
        list.push_back(std::move(item));
      }
      t["rules"] = std::move(list);
    }
    if (r.hasDefault) t["default"] = r.defaultConf;
    out[type] = std::move(t);
  }
  return out;
}

Json matchedPoliciesJson(const Resource& dataplane, const std::vector<Resource>& policies) {
  const DataplaneView dp = makeDataplaneView(dataplane.name, dataplane.content);
  std::vector<PolicyInput> inputs;
  for (const Resource& p : policies) {
    if (!p.type || p.type->layout != Layout::kPolicy || p.mesh != dataplane.mesh) continue;
    inputs.push_back({p.type->name, p.name, p.body()});
  }
  return toJson(matchPolicies(dp, inputs));
}

}  // namespace braid::policy_matching
