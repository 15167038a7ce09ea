#pragma once

// Merges, for one policy type, the sections of the policies that select a dataplane (already in
// merge order, see precedence.h) into one conf per target:
//
//   to[]       per outbound target: the catch-all Mesh (when some entry targets Mesh), every
//              outbound service of the dataplane, and every service or subset some entry names
//              (a transparent proxy reaches services it does not list). Each target takes the
//              entries whose targetRef covers it (peer_target.h), concatenated in policy order,
//              stable-sorted by the specificity of their targetRef, merged (conf_merge.h).
//              An entry's conf is its `default`, or {"rules": …} for route entries.
//   from[]     the same, per inbound the policy selects, over the distinct `from` targets.
//   rules[]    per inbound the policy selects, per distinct `matches` list: the rules without
//              `matches` (all traffic) first, then the rules with exactly those matches.
//   default    the `spec.default` of every policy, in merge order.
// Targets and rule groups are listed from least to most specific, ties in order of appearance.

#include <cstddef>
#include <string>
#include <vector>

#include "common/json.h"
#include "control-plane/policy-matching/conf_merge.h"
#include "control-plane/policy-matching/dataplane_view.h"
#include "control-plane/policy-matching/peer_target.h"
#include "control-plane/policy-matching/policy_input.h"

namespace braid::policy_matching {

struct ToConf {
  PeerTarget target;
  Json conf;
};

struct FromConf {
  size_t inboundIndex = 0;
  std::string inbound;  // InboundView::label()
  PeerTarget target;
  Json conf;
};

struct InboundRuleConf {
  size_t inboundIndex = 0;
  std::string inbound;
  Json matches;  // null: the group of rules for all traffic
  Json conf;
};

std::vector<ToConf> mergeTo(const std::vector<MatchedPolicy>& matched, const DataplaneView& dp,
                            MergeStyle style);
std::vector<FromConf> mergeFrom(const std::vector<MatchedPolicy>& matched, const DataplaneView& dp,
                                MergeStyle style);
std::vector<InboundRuleConf> mergeInboundRules(const std::vector<MatchedPolicy>& matched,
                                               const DataplaneView& dp, MergeStyle style);
Json mergeDefaults(const std::vector<MatchedPolicy>& matched, MergeStyle style);

}  // namespace braid::policy_matching
