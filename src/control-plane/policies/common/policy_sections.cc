#include "control-plane/policies/common/policy_sections.h"

namespace braid::policies {

using schema::member;
using schema::opt;
using schema::req;
using schema::S;

S topTargetRef(std::vector<std::string> allowedKinds, bool inbound) {
  return rules::targetRef(std::move(allowedKinds),
                          inbound ? rules::RefPosition::kTopInbound : rules::RefPosition::kTop);
}

std::string topKind(const Json& spec) {
  const Json* ref = member(spec, "targetRef");
  const Json* kind = ref ? member(*ref, "kind") : nullptr;
  return kind && kind->is_string() ? kind->get<std::string>() : rules::kMesh;
}

S targetedItem(const S& targetRef, const S& conf) {
  return S::object({req("targetRef", targetRef), req("default", conf)});
}

S ruleItem(const S& conf, bool withMatches) {
  if (!withMatches) return S::object({req("default", conf)});
  return S::object({opt("matches", S::array(rules::match())), req("default", conf)});
}

bool hasItems(const Json& spec, const char* key) {
  const Json* v = member(spec, key);
  return v && v->is_array() && !v->empty();
}

schema::Check requireSection(std::vector<std::string> sections) {
  return [sections = std::move(sections)](const Json& spec, const std::string& path,
                                          FieldErrors& errors) {
    std::string list;
    for (size_t i = 0; i < sections.size(); ++i) {
      if (hasItems(spec, sections[i].c_str())) return;
      list += (i == 0 ? "'" : (i + 1 == sections.size() ? "' or '" : "', '")) + sections[i];
    }
    errors.add(path, "at least one of " + list + "' must be defined");
  };
}

schema::Check rulesExclude(std::vector<std::string> others) {
  return
      [others = std::move(others)](const Json& spec, const std::string& path, FieldErrors& errors) {
        if (!hasItems(spec, "rules")) return;
        for (const auto& other : others) {
          if (hasItems(spec, other.c_str())) {
            errors.add(joinPath(path, other), "must be empty when 'rules' is defined");
          }
        }
      };
}

schema::Check sectionNameNeedsInbound() {
  return [](const Json& spec, const std::string& path, FieldErrors& errors) {
    const Json* ref = member(spec, "targetRef");
    if (!ref || topKind(spec) != rules::kDataplane) return;
    const Json* section = member(*ref, "sectionName");
    if (!section || section->is_null()) return;
    if (hasItems(spec, "from") || hasItems(spec, "rules")) return;
    errors.add(joinPath(joinPath(path, "targetRef"), "sectionName"),
               "can only be used when the policy configures inbound traffic ('from' or 'rules')");
  };
}

}  // namespace braid::policies
