// MeshTrace rules: Zipkin and Datadog URLs, the single-backend limit, sampling bounds and tag
// sources.
#include <gtest/gtest.h>

#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid {
namespace {

using testing::SpecCase;

class MeshTrace : public ::testing::TestWithParam<SpecCase> {};

TEST_P(MeshTrace, ReportsExactlyTheseErrors) {
  EXPECT_EQ(testing::specErrors("MeshTrace", GetParam().spec), GetParam().errors);
}

#define ZIPKIN(url) "{default: {backends: [{type: Zipkin, zipkin: {url: " url "}}]}}"
#define DATADOG(url) "{default: {backends: [{type: Datadog, datadog: {url: " url "}}]}}"
#define BAD_ZIPKIN                                                                  \
  "spec.default.backends[0].zipkin.url: must be a valid http or https URL such as " \
  "http://zipkin:9411/api/v2/spans"

const SpecCase kCases[] = {
    {"ZipkinIpv6", ZIPKIN("'http://[::1]:9411/api/v2/spans'"), ""},
    {"ZipkinUppercaseScheme", ZIPKIN("'HTTP://zipkin:9411'"), ""},
    {"ZipkinWithoutScheme", ZIPKIN("zipkin"), BAD_ZIPKIN},
    {"ZipkinPortZero", ZIPKIN("'http://zipkin:0/'"), BAD_ZIPKIN},
    {"ZipkinEmptyHost", ZIPKIN("'http:///api'"), BAD_ZIPKIN},
    {"ZipkinSpaceInPath", ZIPKIN("'http://zipkin/api v2'"), BAD_ZIPKIN},
    {"DatadogBare", DATADOG("'http://datadog:8126'"), ""},
    {"DatadogIpv6", DATADOG("'http://[fd00::2]:8126'"), ""},
    {"DatadogTrailingSlashIsAPath", DATADOG("'http://datadog:8126/'"),
     "spec.default.backends[0].datadog.url: must not have a path"},
    {"DatadogEmptyQuery", DATADOG("'http://datadog:8126?'"),
     "spec.default.backends[0].datadog.url: must not have a query"},
    {"DatadogWithoutPort", DATADOG("'http://datadog'"),
     "spec.default.backends[0].datadog.url: must include a port, such as "
     "http://datadog-agent:8126"},
    {"DatadogNotAUrl", DATADOG("'datadog:8126'"),
     "spec.default.backends[0].datadog.url: must be a valid URL such as "
     "http://datadog-agent:8126"},
    {"TracingOff", "{default: {backends: []}}", ""},
    {"TwoBackends",
     "{default: {backends: [{type: OpenTelemetry, openTelemetry: {endpoint: a}}, {type: "
     "OpenTelemetry, openTelemetry: {endpoint: b}}]}}",
     "spec.default.backends: must have at most 1 backend: a proxy reports to one tracer"},
    {"SamplingBounds",
     "{default: {backends: [], sampling: {overall: '0', client: '100.0', "
     "random: 100}}}",
     ""},
    {"SamplingAbove100", "{default: {backends: [], sampling: {random: 100.5}}}",
     "spec.default.sampling.random: must be <= 100"},
    {"EmptyLiteralCounts", "{default: {backends: [], tags: [{name: a, literal: ''}]}}", ""},
    {"HeaderWithDefault",
     "{default: {backends: [], tags: [{name: a, header: {name: X-Region, default: none}}]}}", ""},
    {"MissingDefault", "{}", "spec.default: must be defined"},
};

#undef BAD_ZIPKIN
#undef DATADOG
#undef ZIPKIN

INSTANTIATE_TEST_SUITE_P(Cases, MeshTrace, ::testing::ValuesIn(kCases), testing::caseName);

}  // namespace
}  // namespace braid
