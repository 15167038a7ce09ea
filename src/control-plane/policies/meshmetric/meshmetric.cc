// MeshMetric (POLICY_FIELDS.md §12): which metrics a proxy exposes and where they go. The policy
// has a single `default` block and no to/from sections.
#include "control-plane/policies/common/policy_sections.h"
#include "control-plane/policies/common/policy_values.h"
#include "control-plane/policies/common/telemetry_backends.h"
#include "control-plane/policies/common/typed_fields.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using schema::opt;
using schema::req;
using schema::S;

// A metric name filter; Regex patterns must compile now rather than fail in the proxy later.
S metricFilter() {
  return S::object({
                       req("type", S::enumOf({"Prefix", "Regex", "Exact", "Contains"})),
                       req("match", S::string()),
                   })
      .check([](const Json& v, const std::string& path, FieldErrors& errors) {
        if (v.at("type") == "Regex" && !policies::isValidRegex(v.at("match").get<std::string>())) {
          errors.add(joinPath(path, "match"), "must be a valid regular expression");
        }
      });
}

S sidecar() {
  S profiles = S::object({
      opt("appendProfiles",
          S::array(S::object({req("name", S::enumOf({"All", "Basic", "None"}))}))),
      opt("exclude", S::array(metricFilter())),
      opt("include", S::array(metricFilter())),
  });
  return S::object({opt("includeUnused", S::boolean()), opt("profiles", profiles)});
}

S application() {
  return S::object({
      opt("name", S::string()),
      opt("path", S::string()),
      opt("address", S::string()),
      req("port", S::port()),
  });
}

S backend() {
  S prometheus = S::object({
      opt("clientId", S::string()),
      opt("port", S::port()),
      opt("path", S::string()),
      opt("tls",
          S::object({opt("mode", S::enumOf({"Disabled", "ProvidedTLS", "ActiveMTLSBackend"}))})),
  });
  S openTelemetry = S::object({
                                  opt("endpoint", policies::hostPort(true)),
                                  opt("backendRef", policies::otelBackendRef()),
                                  opt("refreshInterval", policies::positiveDuration()),
                              })
                        .check(policies::checkOtelTarget);
  return S::object({
                       req("type", S::enumOf({"Prometheus", "OpenTelemetry"})),
                       opt("prometheus", prometheus),
                       opt("openTelemetry", openTelemetry),
                   })
      .check(policies::typedUnion(
          {{"Prometheus", "prometheus"}, {"OpenTelemetry", "openTelemetry"}}, true));
}

S spec() {
  const std::vector<std::string> topKinds = {rules::kMesh, rules::kMeshSubset, rules::kMeshService,
                                             rules::kMeshServiceSubset, rules::kDataplane};
  return S::object({
      opt("targetRef", policies::topTargetRef(topKinds, false)),
      req("default", S::object({
                         opt("sidecar", sidecar()),
                         opt("applications", S::array(application())),
                         opt("backends", S::array(backend())),
                     })),
  });
}

}  // namespace

const ResourceType& meshMetricType() {
  static const ResourceType kType{
      .name = "MeshMetric",
      .plural = "meshmetrics",
      .singular = "meshmetric",
      .scope = Scope::kMesh,
      .layout = Layout::kPolicy,
      .readOnly = false,
      .body = spec(),
  };
  return kType;
}

}  // namespace braid
