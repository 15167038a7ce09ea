#include "control-plane/policy-matching/peer_target.h"

#include "control-plane/policy-matching/dataplane_view.h"

namespace braid::policy_matching {

int PeerTarget::rank() const {
  if (kind == "MeshSubset") return 1;
  if (kind == "MeshService") return 2;
  if (kind == "MeshServiceSubset") return 3;
  return 0;
}

Json PeerTarget::toJson() const {
  Json out = Json::object();
  out["kind"] = kind;
  if (kind == "MeshService" || kind == "MeshServiceSubset") out["name"] = name;
  if (kind == "MeshSubset" || kind == "MeshServiceSubset") {
    Json t = Json::object();
    for (const auto& [k, v] : tags) t[k] = v;
    out["tags"] = std::move(t);
  }
  return out;
}

std::map<std::string, std::string> PeerTarget::selector() const {
  std::map<std::string, std::string> s = tags;
  if (kind == "MeshService" || kind == "MeshServiceSubset") s[kServiceTag] = name;
  return s;
}

bool PeerTarget::covers(const PeerTarget& target) const {
  const auto mine = selector();
  const auto theirs = target.selector();
  for (const auto& [key, value] : mine) {
    auto it = theirs.find(key);
    if (it == theirs.end()) return false;
    if (value != "*" && it->second != value) return false;
  }
  return true;
}

std::optional<PeerTarget> parsePeerTarget(const Json& targetRef) {
  if (!targetRef.is_object()) return std::nullopt;
  auto field = [&](const char* key) -> const Json* {
    auto it = targetRef.find(key);
    return it == targetRef.end() || it->is_null() ? nullptr : &*it;
  };
  const Json* kind = field("kind");
  if (!kind || !kind->is_string()) return std::nullopt;
  PeerTarget t;
  t.kind = kind->get<std::string>();
  if (t.kind != "Mesh" && t.kind != "MeshSubset" && t.kind != "MeshService" &&
      t.kind != "MeshServiceSubset") {
    return std::nullopt;
  }
  if (t.kind == "MeshService" || t.kind == "MeshServiceSubset") {
    if (field("labels") || field("sectionName")) return std::nullopt;
    const Json* name = field("name");
    if (!name || !name->is_string() || name->get<std::string>().empty()) return std::nullopt;
    t.name = name->get<std::string>();
  }
  if (t.kind == "MeshSubset" || t.kind == "MeshServiceSubset") {
    if (const Json* tags = field("tags")) {
      if (!tags->is_object()) return std::nullopt;
      for (const auto& [k, v] : tags->items()) {
        if (!v.is_string()) return std::nullopt;
        t.tags[k] = v.get<std::string>();
      }
    }
  }
  return t;
}

}  // namespace braid::policy_matching
