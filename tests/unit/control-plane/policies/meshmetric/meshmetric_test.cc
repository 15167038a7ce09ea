// MeshMetric rules: regex filters, OpenTelemetry endpoints that need a port, refresh intervals,
// and backend unions.
#include <gtest/gtest.h>

#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid {
namespace {

using testing::SpecCase;

class MeshMetric : public ::testing::TestWithParam<SpecCase> {};

TEST_P(MeshMetric, ReportsExactlyTheseErrors) {
  EXPECT_EQ(testing::specErrors("MeshMetric", GetParam().spec), GetParam().errors);
}

#define FILTER(type, match) \
  "{default: {sidecar: {profiles: {include: [{type: " type ", match: " match "}]}}}}"
#define OTEL(o) "{default: {backends: [{type: OpenTelemetry, openTelemetry: " o "}]}}"

const SpecCase kCases[] = {
    {"EmptyDefault", "{default: {}}", ""},
    {"RegexCompiles", FILTER("Regex", "'envoy_.*(rq|cx)_total'"), ""},
    {"BrokenRegex", FILTER("Regex", "'envoy_['"),
     "spec.default.sidecar.profiles.include[0].match: must be a valid regular expression"},
    {"PrefixIsNotARegex", FILTER("Prefix", "'envoy_['"), ""},
    {"EndpointWithPort", OTEL("{endpoint: 'collector:4317'}"), ""},
    {"EndpointIpv6WithPort", OTEL("{endpoint: '[fd00::1]:4317'}"), ""},
    {"EndpointWithoutPort", OTEL("{endpoint: collector}"),
     "spec.default.backends[0].openTelemetry.endpoint: must include a port: host:port"},
    {"EndpointWithPath", OTEL("{endpoint: 'collector:4317/v1/metrics'}"),
     "spec.default.backends[0].openTelemetry.endpoint: must be an address such as host:port, "
     "without a scheme, user, path, query or fragment"},
    {"NegativeRefreshInterval", OTEL("{endpoint: 'c:1', refreshInterval: -1s}"),
     "spec.default.backends[0].openTelemetry.refreshInterval: must be greater than 0"},
    {"BackendRefIsRefused",
     OTEL("{backendRef: {kind: MeshOpenTelemetryBackend, labels: {app: otel}}}"),
     "spec.default.backends[0].openTelemetry.backendRef: MeshOpenTelemetryBackend references are "
     "not supported by Braid yet: give an endpoint"},
    {"BackendRefNeedsLabels", OTEL("{backendRef: {kind: MeshOpenTelemetryBackend}}"),
     "spec.default.backends[0].openTelemetry.backendRef.labels: must be defined\n"
     "spec.default.backends[0].openTelemetry.backendRef: MeshOpenTelemetryBackend references are "
     "not supported by Braid yet: give an endpoint"},
    {"PrometheusDefaults", "{default: {backends: [{type: Prometheus}]}}",
     "spec.default.backends[0].prometheus: must be defined when type is Prometheus"},
    {"ApplicationPortBounds", "{default: {applications: [{port: 1}, {port: 65535}]}}", ""},
    {"ApplicationPortZero", "{default: {applications: [{port: 0}]}}",
     "spec.default.applications[0].port: must be >= 1"},
    {"NoToSection", "{default: {}, from: []}", "spec.from: unknown field"},
};

#undef OTEL
#undef FILTER

INSTANTIATE_TEST_SUITE_P(Cases, MeshMetric, ::testing::ValuesIn(kCases), testing::caseName);

}  // namespace
}  // namespace braid
