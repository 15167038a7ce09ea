#pragma once

// Building blocks shared by every policy's `spec` (POLICY_FIELDS.md §0, §1–§13): the top-level
// targetRef, the items of `to[]`, `from[]` and `rules[]`, and the rules that tie those sections
// together. A policy composes them with the schema builder, e.g. MeshTimeout:
//
//   S::object({
//       opt("targetRef", topTargetRef(kTopKinds)),
//       opt("to", S::array(targetedItem(rules::targetRef(kToKinds, RefPosition::kTo), conf))),
//       opt("from", S::array(targetedItem(rules::targetRef({kMesh}, RefPosition::kFrom), conf))),
//       opt("rules", S::array(ruleItem(conf, /*withMatches=*/true))),
//   })
//       .check(requireSection({"to", "from", "rules"}))
//       .check(rulesExclude({"to", "from"}))
//       .check(sectionNameNeedsInbound());
//
// Sections count as "defined" only when they are non-empty lists, as in Kuma.

#include <string>
#include <vector>

#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/schema.h"

namespace braid::policies {

// The top-level `spec.targetRef`: optional, an omitted one means `{kind: Mesh}`. The default is
// not written into the stored spec (a read returns what the user wrote); code that needs the kind
// calls topKind(). `inbound` is true for policy types that have `from` or `rules`, where a
// Dataplane targetRef may carry `sectionName` (see also sectionNameNeedsInbound()).
schema::S topTargetRef(std::vector<std::string> allowedKinds, bool inbound);

// The kind of `spec.targetRef`, "Mesh" when the targetRef or its kind is absent or not a string.
std::string topKind(const Json& spec);

// An item of `to[]` or `from[]`: `{targetRef: REQ, default: REQ}`.
schema::S targetedItem(const schema::S& targetRef, const schema::S& conf);

// An item of `rules[]`: `{matches: [Match], default: REQ}` (rules::match() items), or just
// `{default: REQ}` when the policy's rules have no matches (MeshTrafficPermission,
// MeshCircuitBreaker).
schema::S ruleItem(const schema::S& conf, bool withMatches);

// The spec of a policy that shapes both directions (MeshTimeout, MeshCircuitBreaker,
// MeshAccessLog): targetRef (topKinds; sectionName allowed), to[] (toKinds), from[] (kind Mesh),
// rules[] (`rule`, built with ruleItem), each item carrying `conf`; at least one section set,
// and rules without to/from.
schema::S toFromRulesSpec(std::vector<std::string> topKinds, std::vector<std::string> toKinds,
                          const schema::S& conf, const schema::S& rule);

// True when spec[key] is a non-empty list.
bool hasItems(const Json& spec, const char* key);

// Check on `spec`: at least one of `sections` is a non-empty list. Reported at `spec` as
// "at least one of 'to', 'from' or 'rules' must be defined".
schema::Check requireSection(std::vector<std::string> sections);

// Check on `spec`: when `rules` has items, each of `others` that also has items is reported at its
// own path: "spec.from: must be empty when 'rules' is defined".
schema::Check rulesExclude(std::vector<std::string> others);

// Check on `spec` for inbound-capable policies: a top-level Dataplane targetRef may name a
// `sectionName` (an inbound) only when the policy actually configures inbound traffic, i.e. `from`
// or `rules` has items.
schema::Check sectionNameNeedsInbound();

// Check on a `default` block or one of its objects: at least one of `fields` is set (non-null),
// reported at the object's path as "at least one of 'a', 'b' or 'c' must be defined". When only
// `notCounted` is set (a field that cannot stand alone, e.g. MeshTimeout's
// `http.requestHeadersTimeout`), the message adds "('x' alone is not enough)".
schema::Check requireOneOf(std::vector<std::string> fields, std::string notCounted = "");

// §0 "scope includes gateways": the top-level targetRef may select gateway proxies — kind
// MeshGateway or MeshHTTPRoute, or Mesh/MeshSubset (also when omitted) whose `proxyTypes` is
// absent, empty or lists Gateway. MeshRateLimit and MeshFaultInjection allow their sections by it.
bool scopeIncludesGateways(const Json& spec);

}  // namespace braid::policies
