#pragma once

// Which dataplanes, and which of their inbounds, a policy's top-level `spec.targetRef` selects.
//
//   Mesh (or no targetRef)      every dataplane, all its inbounds
//   MeshSubset{tags}            dataplanes with an inbound carrying all `tags`; those inbounds.
//                               A dataplane without inbounds has no tags: only an empty (or absent)
//                               `tags` selects it.
//   MeshService{name}           inbounds whose `braid.io/service` is `name`
//   MeshServiceSubset{name,tags} inbounds of service `name` that carry all `tags`
//   Dataplane{name?, labels?}   the dataplane whose name is `name` and whose labels contain
//                               `labels` (neither: every dataplane); all its inbounds
//
// In tag selectors a value `*` matches any value of a present key. `sectionName` on a Dataplane
// target narrows the inbounds to the one whose `name` is sectionName (or, when no inbound has that
// name, whose port is sectionName); a section that names no inbound selects nothing. The inbound
// narrowing matters only for inbound rules (`from`, `rules`); outbound rules (`to`) and single
// `default`s apply to the whole dataplane once it is selected.
// `proxyTypes`, when present and non-empty, must list `Sidecar` (every Braid dataplane is one).
// Kinds outside Braid's contract (MeshGateway, MeshHTTPRoute, …) and MeshService by `labels`
// select nothing here; validation refuses them before a policy is stored.

#include <cstddef>
#include <vector>

#include "common/json.h"
#include "control-plane/policy-matching/dataplane_view.h"

namespace braid::policy_matching {

// True when every key of `selector` is in `tags` with an equal value (or the selector's value is
// `*`). An empty or non-object selector matches everything.
bool selectorMatches(const Json& selector, const Json& tags);

struct Selection {
  bool matched = false;
  std::vector<size_t> inbounds;  // indexes into DataplaneView::inbounds, ascending
};

// `targetRef` is `spec.targetRef`; a null/absent one means {kind: Mesh}.
Selection selectDataplane(const Json& targetRef, const DataplaneView& dp);

}  // namespace braid::policy_matching
