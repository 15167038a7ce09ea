// MeshFaultInjection (POLICY_FIELDS.md §10): aborts, delays and bandwidth limits injected into a
// share of HTTP requests. `from` configures sidecar inbounds and `to` gateways, so the targetRef's
// scope decides which of them a policy may use; `rules` is allowed with any scope.
#include <re2/re2.h>

#include "control-plane/policies/common/policy_sections.h"
#include "control-plane/policies/common/typed_fields.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using rules::RefPosition;
using schema::opt;
using schema::req;
using schema::S;

S bandwidthLimit() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    static const RE2 kLimit("[0-9]+ ?(kbps|Mbps|Gbps)");
    if (!RE2::FullMatch(v.get<std::string>(), kLimit)) {
      errors.add(path, "must be a whole number followed by kbps, Mbps or Gbps, such as 512kbps");
    }
  });
}

S conf() {
  S abort = S::object({
      req("httpStatus", S::i32().min(100).max(599)),
      req("percentage", S::percent()),
  });
  S delay = S::object({
      req("value", policies::nonNegativeDuration()),
      req("percentage", S::percent()),
  });
  S responseBandwidth = S::object({
      req("limit", bandwidthLimit()),
      req("percentage", S::percent()),
  });
  S fault = S::object({
      opt("abort", abort),
      opt("delay", delay),
      opt("responseBandwidth", responseBandwidth),
  });
  return S::object({opt("http", S::array(fault))});
}

// An unsupported top kind is already reported; the scope rules would only add noise.
void checkScope(const Json& spec, const std::string& path, FieldErrors& errors) {
  if (!rules::isSupportedKind(policies::topKind(spec))) return;
  if (policies::scopeIncludesGateways(spec)) {
    if (policies::hasItems(spec, "from")) {
      errors.add(joinPath(path, "from"),
                 "must not be defined when targetRef may select gateways: use 'rules', or set "
                 "targetRef.proxyTypes to [Sidecar]");
    }
  } else if (policies::hasItems(spec, "to")) {
    errors.add(joinPath(path, "to"),
               "must not be defined when targetRef selects only sidecars: 'to' injects faults "
               "into traffic through gateways");
  }
}

S spec() {
  const std::vector<std::string> topKinds = {rules::kMesh,        rules::kMeshSubset,
                                             rules::kMeshService, rules::kMeshServiceSubset,
                                             rules::kDataplane,   "MeshGateway"};
  const std::vector<std::string> fromKinds = {rules::kMesh, rules::kMeshSubset, rules::kMeshService,
                                              rules::kMeshServiceSubset};
  S to = policies::targetedItem(rules::targetRef({rules::kMesh}, RefPosition::kTo), conf());
  S from = policies::targetedItem(rules::targetRef(fromKinds, RefPosition::kFrom), conf());
  return S::object({
                       opt("targetRef", policies::topTargetRef(topKinds, /*inbound=*/true)),
                       opt("from", S::array(from)),
                       opt("to", S::array(to)),
                       opt("rules", S::array(policies::ruleItem(conf(), /*withMatches=*/true))),
                   })
      .check(policies::rulesExclude({"from"}))
      .check(checkScope)
      .check(policies::sectionNameNeedsInbound());
}

}  // namespace

const ResourceType& meshFaultInjectionType() {
  static const ResourceType kType{
      .name = "MeshFaultInjection",
      .plural = "meshfaultinjections",
      .singular = "meshfaultinjection",
      .scope = Scope::kMesh,
      .layout = Layout::kPolicy,
      .readOnly = false,
      .body = spec(),
  };
  return kType;
}

}  // namespace braid
