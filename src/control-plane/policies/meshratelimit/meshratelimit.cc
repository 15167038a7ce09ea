// MeshRateLimit (POLICY_FIELDS.md §9): local token-bucket limits on the requests (http) and
// connections (tcp) a proxy accepts. Which sections a policy may use depends on whether its
// targetRef can select gateways: `from`/`rules` configure sidecar inbounds, `to` gateways.
#include "control-plane/policies/common/policy_sections.h"
#include "control-plane/policies/common/typed_fields.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using rules::RefPosition;
using schema::member;
using schema::opt;
using schema::req;
using schema::S;

// Envoy's token bucket refills at most every 50ms.
constexpr int64_t kMinIntervalMs = 50;

S rate() {
  return S::object({
      req("num", S::u32().min(1)),
      req("interval", policies::durationAbove(kMinIntervalMs)),
  });
}

S conf() {
  S onRateLimit = S::object({
      opt("status", S::integer().min(100).max(599)),
      opt("headers",
          S::object({opt("set", rules::headerKVList()), opt("add", rules::headerKVList())})),
  });
  S http = S::object({
                         opt("disabled", S::boolean()),
                         opt("requestRate", rate()),
                         opt("onRateLimit", onRateLimit),
                     })
               .check(policies::requireOneOf({"disabled", "requestRate", "onRateLimit"}));
  S tcp = S::object({opt("disabled", S::boolean()), opt("connectionRate", rate())})
              .check(policies::requireOneOf({"disabled", "connectionRate"}));
  S local = S::object({opt("http", http), opt("tcp", tcp)})
                .check(policies::requireOneOf({"http", "tcp"}));
  return S::object({req("local", local)});
}

// A connection is accepted (and counted) before its TLS handshake names the caller, so a rule
// that selects callers by SPIFFE ID cannot limit connections.
void checkTcpNeedsNoIdentity(const Json& rule, const std::string& path, FieldErrors& errors) {
  const Json* matches = member(rule, "matches");
  if (!matches || !matches->is_array()) return;
  bool bySpiffe = false;
  for (const auto& m : *matches) {
    const Json* id = member(m, "spiffeID");
    bySpiffe = bySpiffe || (id && !id->is_null());
  }
  const Json* conf = member(rule, "default");
  const Json* local = conf ? member(*conf, "local") : nullptr;
  const Json* tcp = local ? member(*local, "tcp") : nullptr;
  if (bySpiffe && tcp && !tcp->is_null()) {
    errors.add(joinPath(path, "default.local.tcp"),
               "must not be set in a rule that matches on spiffeID: connections are limited "
               "before the caller is known");
  }
}

// `from`/`rules` configure sidecar inbounds and `to` configures gateways, so the targetRef's
// scope decides which of them make sense. An unsupported top kind is already reported.
void checkScope(const Json& spec, const std::string& path, FieldErrors& errors) {
  if (!rules::isSupportedKind(policies::topKind(spec))) return;
  if (policies::scopeIncludesGateways(spec)) {
    for (const char* section : {"from", "rules"}) {
      if (policies::hasItems(spec, section)) {
        errors.add(joinPath(path, section),
                   "must not be defined when targetRef may select gateways: set "
                   "targetRef.proxyTypes to [Sidecar]");
      }
    }
  } else if (policies::hasItems(spec, "to")) {
    errors.add(joinPath(path, "to"),
               "must not be defined when targetRef selects only sidecars: 'to' limits traffic "
               "through gateways");
  }
}

S spec() {
  const std::vector<std::string> topKinds = {
      rules::kMesh,      rules::kMeshSubset, rules::kMeshService, rules::kMeshServiceSubset,
      rules::kDataplane, "MeshGateway",      "MeshHTTPRoute"};
  S to = policies::targetedItem(rules::targetRef({rules::kMesh}, RefPosition::kTo), conf());
  S from = policies::targetedItem(rules::targetRef({rules::kMesh}, RefPosition::kFrom), conf());
  S rule = policies::ruleItem(conf(), /*withMatches=*/true).check(checkTcpNeedsNoIdentity);
  return S::object({
                       opt("targetRef", policies::topTargetRef(topKinds, /*inbound=*/true)),
                       opt("from", S::array(from)),
                       opt("to", S::array(to)),
                       opt("rules", S::array(rule)),
                   })
      .check(policies::rulesExclude({"to", "from"}))
      .check(checkScope)
      .check(policies::sectionNameNeedsInbound());
}

}  // namespace

const ResourceType& meshRateLimitType() {
  static const ResourceType kType{
      .name = "MeshRateLimit",
      .plural = "meshratelimits",
      .singular = "meshratelimit",
      .scope = Scope::kMesh,
      .layout = Layout::kPolicy,
      .readOnly = false,
      .body = spec(),
  };
  return kType;
}

}  // namespace braid
