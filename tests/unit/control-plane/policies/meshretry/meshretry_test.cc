// MeshRetry rules: retryOn conditions (names and status codes), what makes a block non-empty,
// and host-selection predicates.
#include <gtest/gtest.h>

#include "unit/control-plane/policies/common/spec_errors.h"

namespace braid {
namespace {

using testing::SpecCase;

class MeshRetry : public ::testing::TestWithParam<SpecCase> {};

TEST_P(MeshRetry, ReportsExactlyTheseErrors) {
  EXPECT_EQ(testing::specErrors("MeshRetry", GetParam().spec), GetParam().errors);
}

// `http` block of a retry towards every destination.
std::string http(const std::string& block) {
  return "{to: [{targetRef: {kind: Mesh}, default: {http: " + block + "}}]}";
}

const std::string kUnknown =
    "must be one of 5xx, GatewayError, Reset, Retriable4xx, ConnectFailure, EnvoyRatelimited, "
    "RefusedStream, Http3PostConnectFailure, HttpMethodConnect, HttpMethodDelete, "
    "HttpMethodGet, HttpMethodHead, HttpMethodOptions, HttpMethodPatch, HttpMethodPost, "
    "HttpMethodPut, HttpMethodTrace, or a known HTTP status code such as \"503\"";

const std::string kSpecs[] = {
    http("{retryOn: ['503', '100', '226', '308', '418', '451', '511', 5xx]}"),
    http("{retryOn: ['306']}"),
    http("{retryOn: ['+503', ' 503', '', '5xx ']}"),
    http("{retryOn: [503, true]}"),
    http("{hostSelection: [{predicate: OmitPreviousPriorities}, {predicate: "
         "OmitPreviousPriorities}, {predicate: OmitPreviousPriorities}]}"),
    http("{hostSelection: [{predicate: OmitHostsWithTags, tags: {}}]}"),
    http("{hostSelection: [{predicate: OmitPreviousPriorities, updateFrequency: -2}]}"),
    http("{hostSelectionMaxAttempts: 3, numRetries: 0}"),
    http("{backOff: {baseInterval: 1ms}}"),
    http("{rateLimitedBackOff: {resetHeaders: []}}"),
};

// Expected messages built from kUnknown, kept alive for the table below.
const std::string kExpected[] = {
    "spec.to[0].default.http.retryOn[0]: unknown item '306': " + kUnknown,
    "spec.to[0].default.http.retryOn[0]: unknown item '+503': " + kUnknown +
        "\nspec.to[0].default.http.retryOn[1]: unknown item ' 503': " + kUnknown +
        "\nspec.to[0].default.http.retryOn[2]: unknown item '': " + kUnknown +
        "\nspec.to[0].default.http.retryOn[3]: unknown item '5xx ': " + kUnknown,
};

const SpecCase kCases[] = {
    {"StatusCodesAndNames", kSpecs[0].c_str(), ""},
    {"UnusedStatusCode", kSpecs[1].c_str(), kExpected[0].c_str()},
    {"CodesMustBeExact", kSpecs[2].c_str(), kExpected[1].c_str()},
    {"NonStrings", kSpecs[3].c_str(),
     "spec.to[0].default.http.retryOn[0]: must be a string: quote status codes, e.g. \"503\"\n"
     "spec.to[0].default.http.retryOn[1]: must be a string"},
    {"RepeatedPriorityPredicate", kSpecs[4].c_str(),
     "spec.to[0].default.http.hostSelection[1].predicate: OmitPreviousPriorities may be used "
     "only once\n"
     "spec.to[0].default.http.hostSelection[2].predicate: OmitPreviousPriorities may be used "
     "only once"},
    {"EmptyOmitTags", kSpecs[5].c_str(),
     "spec.to[0].default.http.hostSelection[0].tags: must not be empty"},
    {"NegativeUpdateFrequency", kSpecs[6].c_str(),
     "spec.to[0].default.http.hostSelection[0].updateFrequency: must be greater than 0"},
    {"ZeroRetriesCountsAsConfigured", kSpecs[7].c_str(), ""},
    {"BackOffWithBaseOnly", kSpecs[8].c_str(), ""},
    {"EmptyResetHeaders", kSpecs[9].c_str(),
     "spec.to[0].default.http.rateLimitedBackOff.resetHeaders: must not be empty"},
    {"TcpOnly",
     "{to: [{targetRef: {kind: MeshService, name: a}, default: {tcp: "
     "{maxConnectAttempt: 1}}}]}",
     ""},
    {"NoToIsAccepted", "{targetRef: {kind: Mesh}}", ""},
    {"EmptyToIsAccepted", "{to: []}", ""},
    {"GrpcRetryOnIsAnEnum",
     "{to: [{targetRef: {kind: Mesh}, default: {grpc: {retryOn: ['503']}}}]}",
     "spec.to[0].default.grpc.retryOn[0]: must be one of Canceled, DeadlineExceeded, Internal, "
     "ResourceExhausted, Unavailable"},
};

INSTANTIATE_TEST_SUITE_P(Cases, MeshRetry, ::testing::ValuesIn(kCases), testing::caseName);

}  // namespace
}  // namespace braid
