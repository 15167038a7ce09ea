#include "control-plane/xds/mesh_security.h"

#include "control-plane/xds/dataplane_fields.h"

namespace braid::xds {
namespace pb = braid::proxy::v1;

namespace {

std::string spiffeOf(const std::string& mesh, const std::string& service) {
  return "spiffe://" + mesh + "/" + service;
}

const char* policyNames(const std::vector<std::string>& names, std::string& out) {
  out.clear();
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out.c_str();
}

// rules[].default lists: each Match has a spiffeID {type Exact|Prefix, value}.
void addMatches(const Json& conf, const char* list, pb::Permission::Action action,
                const std::string& policies, pb::InboundSecurity& out) {
  if (!conf.is_object() || !conf.contains(list) || !conf.at(list).is_array()) return;
  for (const Json& match : conf.at(list)) {
    if (!match.is_object() || !match.contains("spiffeID")) continue;
    const Json& id = match.at("spiffeID");
    pb::Permission* p = out.add_permissions();
    const std::string value = id.value("value", "");
    if (id.value("type", "") == "Prefix") {
      p->set_prefix(value);
    } else {
      p->set_exact(value);
    }
    p->set_action(action);
    p->set_policy(policies);
  }
}

pb::Permission::Action actionOf(const Json& conf) {
  const std::string action = conf.is_object() ? conf.value("action", "") : "";
  if (action == "Allow") return pb::Permission::ALLOW;
  if (action == "AllowWithShadowDeny") return pb::Permission::ALLOW_WITH_SHADOW_DENY;
  return pb::Permission::DENY;
}

// The service a `from` target proves, "" for the Mesh (every caller). Validation refuses
// targets an identity cannot prove (tags other than braid.io/service).
std::string serviceOf(const policy_matching::PeerTarget& target) {
  if (!target.name.empty()) return target.name;
  auto tag = target.tags.find(kServiceTag);
  return tag == target.tags.end() ? "" : tag->second;
}

}  // namespace

MeshSecurity meshSecurityOf(const Json& meshJson) {
  MeshSecurity security;
  if (!meshJson.is_object() || !meshJson.contains("mtls")) return security;
  const Json& mtls = meshJson.at("mtls");
  if (!mtls.is_object() || !mtls.contains("enabledBackend")) return security;
  security.backend = mtls.at("enabledBackend").get<std::string>();
  if (security.backend.empty()) return security;
  security.mtlsEnabled = true;
  for (const Json& backend : arrayAt(mtls, "backends")) {
    if (stringAt(backend, "name") != security.backend) continue;
    if (stringAt(backend, "mode") == "PERMISSIVE") security.mode = pb::PERMISSIVE;
  }
  return security;
}

void compilePermissions(const policy_matching::MatchedPolicies& matched, size_t inboundIndex,
                        const std::string& mesh, pb::InboundSecurity& out) {
  auto mtp = matched.find("MeshTrafficPermission");
  if (mtp == matched.end()) return;
  std::string names;
  policyNames(mtp->second.matched, names);
  // Inbound rules are one group (MeshTrafficPermission rules have no `matches`), already merged
  // with the lists appended across policies.
  for (const auto& rule : mtp->second.rules) {
    if (rule.inboundIndex != inboundIndex) continue;
    addMatches(rule.conf, "deny", pb::Permission::DENY, names, out);
  }
  for (const auto& rule : mtp->second.rules) {
    if (rule.inboundIndex != inboundIndex) continue;
    addMatches(rule.conf, "allow", pb::Permission::ALLOW, names, out);
    addMatches(rule.conf, "allowWithShadowDeny", pb::Permission::ALLOW_WITH_SHADOW_DENY, names,
               out);
  }
  // from[]: targets come least specific first, each merged with the entries covering it; the
  // first match wins, so the most specific goes first and the Mesh entry last.
  const auto& froms = mtp->second.from;
  for (auto from = froms.rbegin(); from != froms.rend(); ++from) {
    if (from->inboundIndex != inboundIndex) continue;
    pb::Permission* p = out.add_permissions();
    std::string service = serviceOf(from->target);
    if (service.empty()) {
      p->set_any(true);
    } else {
      p->set_exact(spiffeOf(mesh, service));
    }
    p->set_action(actionOf(from->conf));
    p->set_policy(names);
  }
}

std::string meshSni(const std::string& mesh, const std::map<std::string, std::string>& tags) {
  auto service = tags.find(kServiceTag);
  std::map<std::string, std::string> extra(tags);
  extra.erase(kServiceTag);
  extra["mesh"] = mesh;
  std::string out = service == tags.end() ? "" : service->second;
  out += "{";
  bool first = true;
  for (const auto& [k, v] : extra) {
    out += (first ? "" : ",") + k + "=" + v;
    first = false;
  }
  return out + "}";
}

}  // namespace braid::xds
