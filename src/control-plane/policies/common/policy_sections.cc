#include "control-plane/policies/common/policy_sections.h"

#include <algorithm>

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

namespace {

// "'a', 'b' or 'c'"
std::string quotedList(const std::vector<std::string>& names) {
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) {
    list += (i == 0 ? "'" : (i + 1 == names.size() ? "' or '" : "', '")) + names[i];
  }
  return list + "'";
}

bool isSet(const Json& obj, const std::string& key) {
  const Json* v = member(obj, key.c_str());
  return v && !v->is_null();
}

}  // namespace

schema::Check requireSection(std::vector<std::string> sections) {
  return [sections = std::move(sections)](const Json& spec, const std::string& path,
                                          FieldErrors& errors) {
    for (const auto& section : sections) {
      if (hasItems(spec, section.c_str())) return;
    }
    errors.add(path, "at least one of " + quotedList(sections) + " must be defined");
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
               "can only be used when the policy configures inbound traffic (from or rules)");
  };
}

schema::Check requireOneOf(std::vector<std::string> fields, std::string notCounted) {
  return [fields = std::move(fields), notCounted = std::move(notCounted)](
             const Json& obj, const std::string& path, FieldErrors& errors) {
    if (!obj.is_object()) return;
    for (const auto& field : fields) {
      if (isSet(obj, field)) return;
    }
    std::string message = "at least one of " + quotedList(fields) + " must be defined";
    if (!notCounted.empty() && isSet(obj, notCounted)) {
      message += " ('" + notCounted + "' alone is not enough)";
    }
    errors.add(path, message);
  };
}

bool scopeIncludesGateways(const Json& spec) {
  const std::string kind = topKind(spec);
  if (kind == "MeshGateway" || kind == "MeshHTTPRoute") return true;
  if (kind != rules::kMesh && kind != rules::kMeshSubset) return false;
  const Json* ref = member(spec, "targetRef");
  const Json* types = ref ? member(*ref, "proxyTypes") : nullptr;
  if (!types || !types->is_array() || types->empty()) return true;
  return std::find(types->begin(), types->end(), "Gateway") != types->end();
}

S toFromRulesSpec(std::vector<std::string> topKinds, std::vector<std::string> toKinds,
                  const S& conf, const S& rule) {
  S to = targetedItem(rules::targetRef(std::move(toKinds), rules::RefPosition::kTo), conf);
  S from = targetedItem(rules::targetRef({rules::kMesh}, rules::RefPosition::kFrom), conf);
  return S::object({
                       opt("targetRef", topTargetRef(std::move(topKinds), /*inbound=*/true)),
                       opt("to", S::array(to)),
                       opt("from", S::array(from)),
                       opt("rules", S::array(rule)),
                   })
      .check(requireSection({"to", "from", "rules"}))
      .check(rulesExclude({"to", "from"}))
      .check(sectionNameNeedsInbound());
}

}  // namespace braid::policies
