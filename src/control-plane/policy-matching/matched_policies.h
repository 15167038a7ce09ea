#pragma once

// The policies that select a dataplane and their merged result, per policy type. This is what
// `GET /meshes/{mesh}/dataplanes/{name}/_policies` shows and what proxy configuration is later
// compiled from. Rules: target_ref_match.h (selection), precedence.h (merge order),
// section_rules.h (per-target merging), conf_merge.h and merge_patch.h (how confs combine);
// docs/policy-matching.md has the whole picture.
//
// JSON shape (matchedPoliciesJson), one key per policy type that has at least one matched
// policy, types sorted by name:
//
//   {"MeshTimeout": {
//      "matched": ["mesh-default", "web-only"],          // merge order: least specific first
//      "to":    [{"targetRef": {"kind": "Mesh"}, "conf": {…}},
//                {"targetRef": {"kind": "MeshService", "name": "backend"}, "conf": {…}}],
//      "from":  [{"inbound": "8080", "targetRef": {"kind": "Mesh"}, "conf": {…}}],
//      "rules": [{"inbound": "http", "conf": {…}},
//                {"inbound": "http", "matches": [{"spiffeID": …}], "conf": {…}}],
//      "default": {…}}}
//
// "to", "from", "rules" and "default" appear when some matched policy of the type has that
// section (so an empty list means: configured, but nothing applies to this dataplane's
// inbounds). "inbound" is the inbound's `name`, or its port as a string when it has none.
// targetRefs are canonical: {kind, name?, tags?} with tags sorted.

#include <map>
#include <string>
#include <vector>

#include "common/json.h"
#include "control-plane/policy-matching/dataplane_view.h"
#include "control-plane/policy-matching/policy_input.h"
#include "control-plane/policy-matching/section_rules.h"
#include "control-plane/resources/resource.h"

namespace braid::policy_matching {

struct TypeResult {
  std::vector<std::string> matched;  // policy names in merge order
  bool hasTo = false, hasFrom = false, hasRules = false, hasDefault = false;
  std::vector<ToConf> to;
  std::vector<FromConf> from;
  std::vector<InboundRuleConf> rules;
  Json defaultConf = Json::object();

  // The merged `to` conf for traffic to `service`: its MeshService target, else the Mesh
  // catch-all; null when neither exists.
  const Json* toService(const std::string& service) const;
};

using MatchedPolicies = std::map<std::string, TypeResult>;  // by policy type name

// `policies` may mix types; each is matched against `dp` on its own.
MatchedPolicies matchPolicies(const DataplaneView& dp, const std::vector<PolicyInput>& policies);

Json toJson(const MatchedPolicies& result);

// For the REST handler: policies of other meshes and non-policy resources are ignored.
Json matchedPoliciesJson(const Resource& dataplane, const std::vector<Resource>& policies);

}  // namespace braid::policy_matching
