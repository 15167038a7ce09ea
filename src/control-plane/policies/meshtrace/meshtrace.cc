// MeshTrace (POLICY_FIELDS.md §13): where a proxy sends spans, how often it samples and which
// tags it adds. A single `default` block; no to/from sections.
#include "control-plane/policies/common/policy_sections.h"
#include "control-plane/policies/common/telemetry_backends.h"
#include "control-plane/policies/common/typed_fields.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using policies::parseUrl;
using schema::opt;
using schema::req;
using schema::S;

S zipkinUrl() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    auto url = parseUrl(v.get<std::string>());
    if (!url || (url->scheme != "http" && url->scheme != "https")) {
      errors.add(path, "must be a valid http or https URL such as http://zipkin:9411/api/v2/spans");
    }
  });
}

// The Datadog agent is reached at a bare http://host:port; anything else would be dropped.
S datadogUrl() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    auto url = parseUrl(v.get<std::string>());
    if (!url) {
      errors.add(path, "must be a valid URL such as http://datadog-agent:8126");
      return;
    }
    if (url->scheme != "http") errors.add(path, "scheme must be http");
    if (!url->authority.port)
      errors.add(path, "must include a port, such as http://datadog-agent:8126");
    if (!url->userInfo.empty()) errors.add(path, "must not carry user information");
    if (!url->path.empty()) errors.add(path, "must not have a path");
    if (url->query) errors.add(path, "must not have a query");
    if (url->fragment) errors.add(path, "must not have a fragment");
  });
}

S backend() {
  S zipkin = S::object({
      req("url", zipkinUrl()),
      opt("traceId128bit", S::boolean()),
      opt("apiVersion", S::enumOf({"httpJson", "httpProto"})),
      opt("sharedSpanContext", S::boolean()),
  });
  S datadog = S::object({req("url", datadogUrl()), opt("splitService", S::boolean())});
  S openTelemetry = S::object({
                                  opt("endpoint", policies::hostPort(false)),
                                  opt("backendRef", policies::otelBackendRef()),
                              })
                        .check(policies::checkOtelTarget);
  return S::object({
                       req("type", S::enumOf({"Zipkin", "Datadog", "OpenTelemetry"})),
                       opt("zipkin", zipkin),
                       opt("datadog", datadog),
                       opt("openTelemetry", openTelemetry),
                   })
      .check(policies::typedUnion(
          {{"Zipkin", "zipkin"}, {"Datadog", "datadog"}, {"OpenTelemetry", "openTelemetry"}},
          true));
}

S tag() {
  S header = S::object({req("name", S::string().notEmpty()), opt("default", S::string())});
  return S::object({
                       req("name", S::string().notEmpty()),
                       opt("literal", S::string()),
                       opt("header", header),
                   })
      .check(rules::atLeastOneOf({"literal", "header"},
                                 "exactly one of 'literal' or 'header' must be defined"))
      .check(rules::atMostOneOf({"literal", "header"}));
}

// An empty list turns tracing off; a proxy sends its spans to one tracer.
void atMostOneBackend(const Json& v, const std::string& path, FieldErrors& errors) {
  if (v.size() > 1) errors.add(path, "must have at most 1 backend: a proxy reports to one tracer");
}

S spec() {
  const std::vector<std::string> topKinds = {rules::kMesh, rules::kMeshSubset, rules::kMeshService,
                                             rules::kMeshServiceSubset, rules::kDataplane};
  S sampling = S::object({
      opt("overall", S::percent()),
      opt("client", S::percent()),
      opt("random", S::percent()),
  });
  return S::object({
      opt("targetRef", policies::topTargetRef(topKinds, false)),
      req("default", S::object({
                         req("backends", S::array(backend()).check(atMostOneBackend)),
                         opt("sampling", sampling),
                         opt("tags", S::array(tag())),
                     })),
  });
}

}  // namespace

const ResourceType& meshTraceType() {
  static const ResourceType kType{
      .name = "MeshTrace",
      .plural = "meshtraces",
      .singular = "meshtrace",
      .scope = Scope::kMesh,
      .layout = Layout::kPolicy,
      .readOnly = false,
      .body = spec(),
  };
  return kType;
}

}  // namespace braid
