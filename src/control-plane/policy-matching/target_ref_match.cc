#include "control-plane/policy-matching/target_ref_match.h"

#include <string>

namespace braid::policy_matching {
namespace {

const Json* member(const Json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string stringMember(const Json& obj, const char* key) {
  const Json* v = member(obj, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

const Json& emptyObject() {
  static const Json kEmpty = Json::object();
  return kEmpty;
}

const Json& objectMember(const Json& obj, const char* key) {
  const Json* v = member(obj, key);
  return v && v->is_object() ? *v : emptyObject();
}

bool allowsSidecars(const Json& targetRef) {
  const Json* types = member(targetRef, "proxyTypes");
  if (!types || !types->is_array() || types->empty()) return true;
  for (const Json& t : *types) {
    // Compared as std::string: Json == const char* trips a false -Warray-bounds in g++ 12.
    if (t.is_string() && t.get_ref<const std::string&>() == "Sidecar") return true;
  }
  return false;
}

// Labels are compared exactly: unlike tag selectors they have no `*` wildcard.
bool labelsContain(const Json& labels, const Json& wanted) {
  for (const auto& [key, value] : wanted.items()) {
    auto it = labels.find(key);
    if (it == labels.end() || *it != value) return false;
  }
  return true;
}

template <typename Pred>
Selection inboundsWhere(const DataplaneView& dp, Pred pred) {
  Selection s;
  for (size_t i = 0; i < dp.inbounds.size(); ++i) {
    if (pred(dp.inbounds[i])) s.inbounds.push_back(i);
  }
  s.matched = !s.inbounds.empty();
  return s;
}

Selection allInbounds(const DataplaneView& dp) {
  Selection s = inboundsWhere(dp, [](const InboundView&) { return true; });
  s.matched = true;
  return s;
}

// The inbound a sectionName names: by `name` first, then by port.
Selection section(const DataplaneView& dp, const std::string& sectionName) {
  Selection byName =
      inboundsWhere(dp, [&](const InboundView& in) { return in.name == sectionName; });
  if (byName.matched) return byName;
  return inboundsWhere(
      dp, [&](const InboundView& in) { return std::to_string(in.port) == sectionName; });
}

Selection selectByDataplane(const Json& targetRef, const DataplaneView& dp) {
  if (const Json* name = member(targetRef, "name")) {
    if (!name->is_string() || name->get<std::string>() != dp.name) return {};
  }
  if (const Json* labels = member(targetRef, "labels")) {
    if (!labels->is_object() || !labelsContain(dp.labels, *labels)) return {};
  }
  if (const Json* sectionName = member(targetRef, "sectionName")) {
    if (!sectionName->is_string()) return {};
    return section(dp, sectionName->get<std::string>());
  }
  return allInbounds(dp);
}

}  // namespace

bool selectorMatches(const Json& selector, const Json& tags) {
  if (!selector.is_object()) return true;
  for (const auto& [key, value] : selector.items()) {
    auto it = tags.is_object() ? tags.find(key) : tags.end();
    if (it == tags.end()) return false;
    const bool wildcard = value.is_string() && value.get_ref<const std::string&>() == "*";
    if (!wildcard && *it != value) return false;
  }
  return true;
}

Selection selectDataplane(const Json& targetRef, const DataplaneView& dp) {
  if (!targetRef.is_null() && !targetRef.is_object()) return {};
  if (!allowsSidecars(targetRef)) return {};
  const std::string kind = targetRef.is_null() ? "Mesh" : stringMember(targetRef, "kind");

  if (kind == "Mesh") return allInbounds(dp);
  if (kind == "MeshSubset") {
    const Json& tags = objectMember(targetRef, "tags");
    if (dp.inbounds.empty()) {
      Selection s;
      s.matched = selectorMatches(tags, emptyObject());
      return s;
    }
    return inboundsWhere(dp, [&](const InboundView& in) { return selectorMatches(tags, in.tags); });
  }
  if (kind == "MeshService" || kind == "MeshServiceSubset") {
    if (member(targetRef, "labels")) return {};  // new-model MeshService objects: unsupported
    const std::string service = stringMember(targetRef, "name");
    if (service.empty()) return {};
    const Json& tags =
        kind == "MeshServiceSubset" ? objectMember(targetRef, "tags") : emptyObject();
    return inboundsWhere(dp, [&](const InboundView& in) {
      return in.service() == service && selectorMatches(tags, in.tags);
    });
  }
  if (kind == "Dataplane") return selectByDataplane(targetRef, dp);
  return {};
}

}  // namespace braid::policy_matching
