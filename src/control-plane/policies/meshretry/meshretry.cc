// MeshRetry (POLICY_FIELDS.md §5): how outbound requests are retried, per protocol: TCP connect
// attempts, HTTP retries (conditions, back-off, host selection) and gRPC retries.
#include <algorithm>
#include <charconv>

#include "control-plane/policies/common/policy_sections.h"
#include "control-plane/policies/common/typed_fields.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using policies::nonNegativeDuration;
using policies::positiveDuration;
using policies::requireOneOf;
using rules::RefPosition;
using schema::member;
using schema::opt;
using schema::req;
using schema::S;

const std::vector<std::string>& httpRetryOnNames() {
  static const std::vector<std::string> kNames = {"5xx",
                                                  "GatewayError",
                                                  "Reset",
                                                  "Retriable4xx",
                                                  "ConnectFailure",
                                                  "EnvoyRatelimited",
                                                  "RefusedStream",
                                                  "Http3PostConnectFailure",
                                                  "HttpMethodConnect",
                                                  "HttpMethodDelete",
                                                  "HttpMethodGet",
                                                  "HttpMethodHead",
                                                  "HttpMethodOptions",
                                                  "HttpMethodPatch",
                                                  "HttpMethodPost",
                                                  "HttpMethodPut",
                                                  "HttpMethodTrace"};
  return kNames;
}

// The status codes that have a registered reason phrase (as Go's http.StatusText knows them).
bool isKnownStatusCode(int code) {
  static const std::vector<std::pair<int, int>> kRanges = {
      {100, 103}, {200, 208}, {226, 226}, {300, 305}, {307, 308}, {400, 418},
      {421, 426}, {428, 429}, {431, 431}, {451, 451}, {500, 508}, {510, 511}};
  return std::any_of(kRanges.begin(), kRanges.end(),
                     [code](const auto& r) { return code >= r.first && code <= r.second; });
}

// A retryOn condition: one of the names, or an HTTP status code written as a string ("503").
S httpRetryOn() {
  return S::any().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    if (v.is_number_integer()) {
      errors.add(path, "must be a string: quote status codes, e.g. \"503\"");
      return;
    }
    if (!v.is_string()) {
      errors.add(path, "must be a string");
      return;
    }
    const auto& s = v.get_ref<const std::string&>();
    const auto& names = httpRetryOnNames();
    if (std::find(names.begin(), names.end(), s) != names.end()) return;
    int code = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), code);
    if (!s.empty() && ec == std::errc() && ptr == s.data() + s.size() && isKnownStatusCode(code)) {
      return;
    }
    errors.add(path, "unknown item '" + s + "': " + schema::msg::oneOf(names) +
                         ", or a known HTTP status code such as \"503\"");
  });
}

S backOff() {
  return S::object(
             {opt("baseInterval", positiveDuration()), opt("maxInterval", positiveDuration())})
      .check(requireOneOf({"baseInterval", "maxInterval"}));
}

S rateLimitedBackOff() {
  S resetHeader = S::object(
      {req("name", rules::headerName()), req("format", S::enumOf({"Seconds", "UnixTimestamp"}))});
  return S::object({req("resetHeaders", S::array(resetHeader).notEmpty()),
                    opt("maxInterval", positiveDuration())});
}

// One host-selection predicate; `tags` and `updateFrequency` belong to one predicate each.
S hostPredicate() {
  return S::object({
                       req("predicate", S::enumOf({"OmitPreviousHosts", "OmitHostsWithTags",
                                                   "OmitPreviousPriorities"})),
                       opt("tags", rules::tags().notEmpty()),
                       opt("updateFrequency", S::i32()),
                   })
      .check([](const Json& v, const std::string& path, FieldErrors& errors) {
        const std::string predicate = v.at("predicate").get<std::string>();
        const Json* tags = member(v, "tags");
        const Json* frequency = member(v, "updateFrequency");
        bool hasTags = tags && !tags->is_null(), hasFrequency = frequency && !frequency->is_null();
        if (predicate == "OmitHostsWithTags" && !hasTags) {
          errors.add(joinPath(path, "tags"), "must be defined when predicate is OmitHostsWithTags");
        }
        if (predicate != "OmitHostsWithTags" && hasTags) {
          errors.add(joinPath(path, "tags"), "must not be set with predicate " + predicate);
        }
        if (predicate != "OmitPreviousPriorities" && hasFrequency) {
          errors.add(joinPath(path, "updateFrequency"),
                     "must not be set with predicate " + predicate);
        }
        if (predicate == "OmitPreviousPriorities" && hasFrequency &&
            frequency->is_number_integer() && frequency->get<int64_t>() <= 0) {
          errors.add(joinPath(path, "updateFrequency"), "must be greater than 0");
        }
      });
}

S hostSelection() {
  return S::array(hostPredicate())
      .check([](const Json& v, const std::string& path, FieldErrors& errors) {
        bool seen = false;
        for (size_t i = 0; i < v.size(); ++i) {
          const Json* p = member(v[i], "predicate");
          if (!p || *p != "OmitPreviousPriorities") continue;
          if (seen) {
            errors.add(joinPath(indexPath(path, i), "predicate"),
                       "OmitPreviousPriorities may be used only once");
          }
          seen = true;
        }
      });
}

S http() {
  return S::object({
                       opt("numRetries", S::u32()),
                       opt("perTryTimeout", nonNegativeDuration()),
                       opt("backOff", backOff()),
                       opt("rateLimitedBackOff", rateLimitedBackOff()),
                       opt("retryOn", S::array(httpRetryOn())),
                       opt("retriableResponseHeaders", S::array(rules::headerMatch())),
                       opt("retriableRequestHeaders", S::array(rules::headerMatch())),
                       opt("hostSelection", hostSelection()),
                       opt("hostSelectionMaxAttempts", S::integer()),
                   })
      .check(
          requireOneOf({"numRetries", "perTryTimeout", "backOff", "rateLimitedBackOff", "retryOn",
                        "retriableResponseHeaders", "retriableRequestHeaders", "hostSelection"},
                       "hostSelectionMaxAttempts"));
}

S grpc() {
  return S::object(
             {
                 opt("numRetries", S::u32()),
                 opt("perTryTimeout", nonNegativeDuration()),
                 opt("backOff", backOff()),
                 opt("rateLimitedBackOff", rateLimitedBackOff()),
                 opt("retryOn", S::array(S::enumOf({"Canceled", "DeadlineExceeded", "Internal",
                                                    "ResourceExhausted", "Unavailable"}))),
             })
      .check(requireOneOf(
          {"numRetries", "perTryTimeout", "backOff", "rateLimitedBackOff", "retryOn"}));
}

S conf() {
  S tcp = S::object({req("maxConnectAttempt", S::u32().min(1))});
  return S::object({opt("tcp", tcp), opt("http", http()), opt("grpc", grpc())})
      .check(requireOneOf({"tcp", "http", "grpc"}));
}

S spec() {
  const std::vector<std::string> topKinds = {
      rules::kMesh,      rules::kMeshSubset, rules::kMeshService, rules::kMeshServiceSubset,
      rules::kDataplane, "MeshGateway",      "MeshHTTPRoute"};
  const std::vector<std::string> toKinds = {rules::kMesh, rules::kMeshService,
                                            "MeshExternalService", "MeshMultiZoneService",
                                            "MeshHTTPRoute"};
  return S::object({
      opt("targetRef", policies::topTargetRef(topKinds, /*inbound=*/false)),
      opt("to",
          S::array(policies::targetedItem(rules::targetRef(toKinds, RefPosition::kTo), conf()))),
  });
}

}  // namespace

const ResourceType& meshRetryType() {
  static const ResourceType kType{
      .name = "MeshRetry",
      .plural = "meshretries",
      .singular = "meshretry",
      .scope = Scope::kMesh,
      .layout = Layout::kPolicy,
      .readOnly = false,
      .body = spec(),
  };
  return kType;
}

}  // namespace braid
