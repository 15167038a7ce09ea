#include "control-plane/xds/mesh_policies.h"

#include "control-plane/resources/registry.h"

namespace braid::xds {

std::vector<policy_matching::PolicyInput> loadMeshPolicies(store::Store& store,
                                                           const std::string& mesh) {
  std::vector<policy_matching::PolicyInput> out;
  for (const auto* type : allResourceTypes()) {
    if (type->layout != Layout::kPolicy) continue;
    auto list = store.list({.type = type->name, .mesh = mesh, .offset = 0, .limit = -1});
    for (const auto& record : list.records) {
      Json content = Json::parse(record.content, nullptr, false);
      if (!content.is_object() || !content.contains("spec")) continue;
      out.push_back({type->name, record.key.name, content.at("spec")});
    }
  }
  return out;
}

bool isPolicyType(const std::string& type) {
  const ResourceType* t = findTypeByName(type);
  return t && t->layout == Layout::kPolicy;
}

}  // namespace braid::xds
