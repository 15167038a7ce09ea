// MeshAccessLog rules: Json format entries that must splice into valid JSON, OpenTelemetry
// attribute names, collector addresses, and the sections a policy needs.
#include <gtest/gtest.h>

#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid {
namespace {

using testing::SpecCase;

class MeshAccessLog : public ::testing::TestWithParam<SpecCase> {};

TEST_P(MeshAccessLog, ReportsExactlyTheseErrors) {
  EXPECT_EQ(testing::specErrors("MeshAccessLog", GetParam().spec), GetParam().errors);
}

#define BACKEND(b) "{to: [{targetRef: {kind: Mesh}, default: {backends: [" b "]}}]}"
#define JSON_FIELD(key, value)                                                      \
  BACKEND("{type: File, file: {path: a.log, format: {type: Json, json: [{key: " key \
          ", value: " value "}]}}}")
#define ATTRIBUTE(key)                                                                 \
  BACKEND("{type: OpenTelemetry, openTelemetry: {endpoint: c, attributes: [{key: " key \
          ", value: v}]}}")
#define TCP(address) BACKEND("{type: Tcp, tcp: {address: " address "}}")

const SpecCase kCases[] = {
    {"JsonFieldWithPlaceholder", JSON_FIELD("start", "'%START_TIME%'"), ""},
    {"JsonFieldWithEscapedQuote", JSON_FIELD("'a\\\"b'", "x"), ""},
    {"JsonFieldWithUnicode", JSON_FIELD("naïve", "'✓'"), ""},
    {"JsonFieldWithTab", JSON_FIELD("a", "\"x\\ty\""),
     "spec.to[0].default.backends[0].file.format.json[0]: key and value must form a valid JSON "
     "member: escape quotes, backslashes and control characters"},
    {"JsonFieldWithBadEscape", JSON_FIELD("a", "'\\q'"),
     "spec.to[0].default.backends[0].file.format.json[0]: key and value must form a valid JSON "
     "member: escape quotes, backslashes and control characters"},
    {"AttributeWithDotAndUnderscore", ATTRIBUTE("a1.b_c"), ""},
    {"AttributeNamedOtel", ATTRIBUTE("otel"), ""},
    {"AttributeReservedPrefix", ATTRIBUTE("otel.library"),
     "spec.to[0].default.backends[0].openTelemetry.attributes[0].key: must not start with "
     "'otel.': that namespace is reserved"},
    {"AttributeTrailingDot", ATTRIBUTE("'a.'"),
     "spec.to[0].default.backends[0].openTelemetry.attributes[0].key: must start with a lowercase "
     "letter and hold only lowercase letters, digits and single '.' or '_' separators"},
    {"AttributeDotThenUnderscore", ATTRIBUTE("a._b"),
     "spec.to[0].default.backends[0].openTelemetry.attributes[0].key: must start with a lowercase "
     "letter and hold only lowercase letters, digits and single '.' or '_' separators"},
    {"AttributeLeadingDigit", ATTRIBUTE("'1a'"),
     "spec.to[0].default.backends[0].openTelemetry.attributes[0].key: must start with a lowercase "
     "letter and hold only lowercase letters, digits and single '.' or '_' separators"},
    {"TcpIpv6WithPort", TCP("'[::1]:514'"), ""},
    {"TcpBareIpv6HasNoPort", TCP("'::1'"),
     "spec.to[0].default.backends[0].tcp.address: must include a port: host:port"},
    {"TcpPortZero", TCP("'10.0.0.1:0'"),
     "spec.to[0].default.backends[0].tcp.address: port must be a number from 1 to 65535"},
    {"TcpUrl", TCP("'tcp://logstash:5000'"),
     "spec.to[0].default.backends[0].tcp.address: must be an address such as host:port, without "
     "a scheme, user, path, query or fragment"},
    {"OtelEndpointEmptyPort", BACKEND("{type: OpenTelemetry, openTelemetry: {endpoint: 'c:'}}"),
     "spec.to[0].default.backends[0].openTelemetry.endpoint: port must be a number from 1 to "
     "65535"},
    {"OtelBodyAnyJson", BACKEND("{type: OpenTelemetry, openTelemetry: {endpoint: c, body: 42}}"),
     ""},
    {"EmptyBackendsTurnLoggingOff", BACKEND(""), ""},
    {"OnlyEmptySections", "{from: [], rules: []}",
     "spec: at least one of 'to', 'from' or 'rules' must be defined"},
    {"RulesOnly", "{rules: [{default: {backends: []}}]}", ""},
    {"FromAndToTogether",
     "{to: [{targetRef: {kind: Mesh}, default: {backends: []}}], from: [{targetRef: {kind: "
     "Mesh}, default: {backends: []}}]}",
     ""},
};

#undef TCP
#undef ATTRIBUTE
#undef JSON_FIELD
#undef BACKEND

INSTANTIATE_TEST_SUITE_P(Cases, MeshAccessLog, ::testing::ValuesIn(kCases), testing::caseName);

}  // namespace
}  // namespace braid
