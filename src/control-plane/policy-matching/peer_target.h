#pragma once

// The targetRef inside a `to[]` or `from[]` entry: the peers (destination or source services) an
// entry configures traffic with. Each supported kind is a selector over a peer's tags:
//
//   Mesh                        {}                       rank 0
//   MeshSubset{tags}            tags                     rank 1
//   MeshService{name}           {braid.io/service: name} rank 2
//   MeshServiceSubset{name,tags} tags + service          rank 3
//
// An entry applies to a target when its selector is no narrower than the target's: every key it
// selects on is in the target's selector with the same value (or the entry's value is `*`). So a
// Mesh entry applies to every target and a MeshService{a} entry to MeshService{a} and to
// MeshServiceSubset{a, …}. The rank orders entries before merging: less specific first.

#include <map>
#include <optional>
#include <string>

#include "common/json.h"

namespace braid::policy_matching {

struct PeerTarget {
  std::string kind;
  std::string name;                         // MeshService, MeshServiceSubset
  std::map<std::string, std::string> tags;  // MeshSubset, MeshServiceSubset

  int rank() const;
  // Canonical JSON: {kind, name?, tags?} with tags sorted; equal targets print equally.
  Json toJson() const;
  std::string key() const { return toJson().dump(); }
  // True when an entry targeting *this applies to traffic with `target`.
  bool covers(const PeerTarget& target) const;

 private:
  std::map<std::string, std::string> selector() const;
};

// The canonical target, or nothing for kinds and shapes Braid does not support in entries
// (MeshExternalService, MeshHTTPRoute, MeshService by labels or sectionName, non-string tags…);
// validation refuses those, so entries carrying them are skipped rather than guessed at.
std::optional<PeerTarget> parsePeerTarget(const Json& targetRef);

}  // namespace braid::policy_matching
