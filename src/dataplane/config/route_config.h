#pragma once

// HTTP routes as the workers see them (part of the Snapshot): compiled from the ProxyConfig's
// RouteTable by config/route_compiler.cc, regexes compiled once there, matched per request by
// http/route_matcher.h. Plain structs, no protobuf.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace re2 {
class RE2;
}

namespace braid::dataplane {

// An RE2 regex compiled on the main thread, shared read-only by the workers (RE2 is thread-safe
// for matching). Compared by pattern, so an unchanged route compares equal across snapshots.
struct Regex {
  std::string pattern;
  std::shared_ptr<const re2::RE2> re;  // never null in a compiled snapshot
  bool operator==(const Regex& other) const { return pattern == other.pattern; }
};

struct HeaderMatcher {
  enum class Kind { kExact, kPrefix, kRegex, kPresent, kAbsent };
  std::string name;  // lower case
  Kind kind = Kind::kExact;
  std::string value;  // kExact, kPrefix
  Regex regex;        // kRegex: the whole value
  bool operator==(const HeaderMatcher&) const = default;
};

struct QueryParamMatcher {
  std::string name;
  bool isRegex = false;
  std::string value;  // !isRegex: the raw (still percent-encoded) value equals this
  Regex regex;        // isRegex: the whole raw value
  bool operator==(const QueryParamMatcher&) const = default;
};

// Every condition must hold.
struct RouteMatch {
  enum class Path { kAny, kExact, kPrefix, kRegex };
  Path path = Path::kAny;
  std::string pathValue;  // kExact, kPrefix (segment-wise; "/" matches every path)
  Regex pathRegex;        // kRegex: the whole normalised path
  std::string method;     // "" = any
  std::vector<HeaderMatcher> headers;
  std::vector<QueryParamMatcher> queryParams;
  bool operator==(const RouteMatch&) const = default;
};

struct HeaderValue {
  std::string name;  // lower case
  std::string value;
  bool operator==(const HeaderValue&) const = default;
};

// RequestHeaderModifier / ResponseHeaderModifier: remove, then set (replace), then add.
struct HeaderMods {
  std::vector<HeaderValue> set;
  std::vector<HeaderValue> add;
  std::vector<std::string> remove;  // lower case
  bool empty() const { return set.empty() && add.empty() && remove.empty(); }
  bool operator==(const HeaderMods&) const = default;
};

struct WeightedCluster {
  std::string cluster;  // always a key of Snapshot::clusters
  uint32_t weight = 0;
  bool operator==(const WeightedCluster&) const = default;
};

// How a matched path is replaced (URLRewrite, RequestRedirect).
enum class PathReplace { kNone, kPrefix, kFullPath };

struct Rewrite {
  PathReplace path = PathReplace::kNone;
  std::string value;  // kPrefix: replaces the part the route's prefix matched; kFullPath: all
  std::string host;   // "" keeps the Host / :authority
  bool operator==(const Rewrite&) const = default;
};

struct Mirror {
  std::string cluster;
  uint32_t perMillion = 1000000;  // share of requests copied there
  bool operator==(const Mirror&) const = default;
};

// MeshRetry http. Conditions are Envoy's retry_on names, as bits.
struct RetryPolicy {
  enum On : uint32_t {
    k5xx = 1u << 0,
    kGatewayError = 1u << 1,  // 502, 503, 504
    kReset = 1u << 2,
    kConnectFailure = 1u << 3,
    kRetriableStatusCodes = 1u << 4,  // the codes in retriableStatusCodes
    kRetriable4xx = 1u << 5,          // 409
    kRefusedStream = 1u << 6,
    kEnvoyRatelimited = 1u << 7,
    kHttp3PostConnectFailure = 1u << 8,  // accepted; braid-dp has no HTTP/3
    // MeshRetry grpc: the grpc-status of a trailers-only answer (gRPC routes).
    kGrpcCancelled = 1u << 9,
    kGrpcDeadlineExceeded = 1u << 10,
    kGrpcInternal = 1u << 11,
    kGrpcResourceExhausted = 1u << 12,
    kGrpcUnavailable = 1u << 13,
  };
  bool enabled = false;  // false: no retries
  uint32_t numRetries = 0;
  std::chrono::milliseconds perTryTimeout{0};  // 0: the route's timeout bounds each try
  uint32_t retryOn = 0;                        // On bits
  std::vector<uint16_t> retriableStatusCodes;
  std::chrono::milliseconds backoffBase{25};
  std::chrono::milliseconds backoffMax{250};
  std::vector<std::string> retriableMethods;  // empty: any method
  bool operator==(const RetryPolicy&) const = default;
};

struct RouteAction {
  std::vector<WeightedCluster> clusters;  // at least one
  uint64_t totalWeight = 0;               // sum of weights; 0: no cluster can be picked (503)
  Rewrite rewrite;
  std::vector<Mirror> mirrors;
  std::chrono::milliseconds timeout{0};  // the whole request, retries included; 0 = none
  // MeshTimeout http.streamIdleTimeout: no byte either way for this long ends the request.
  std::chrono::milliseconds streamIdleTimeout{0};  // 0 = none
  // MeshTimeout http.maxStreamDuration: the request's whole life, response included.
  std::chrono::milliseconds maxStreamDuration{0};  // 0 = none
  RetryPolicy retry;
  bool operator==(const RouteAction&) const = default;
};

struct Redirect {
  std::string scheme;  // "" keeps the request's
  std::string host;    // "" keeps the request's
  uint16_t port = 0;   // 0 keeps the request's
  PathReplace path = PathReplace::kNone;
  std::string value;
  uint16_t status = 302;
  bool operator==(const Redirect&) const = default;
};

struct Route {
  std::string name;  // for stats and logs
  RouteMatch match;
  bool isRedirect = false;  // true: answer with `redirect`; false: forward with `action`
  RouteAction action;
  Redirect redirect;
  HeaderMods requestHeaders;
  HeaderMods responseHeaders;
  bool operator==(const Route&) const = default;
};

// The first route whose match holds is taken; none: 404 (Envoy's answer).
struct RouteTable {
  std::vector<Route> routes;
  bool operator==(const RouteTable&) const = default;
};

struct HttpConnectionManagerConfig {
  std::string statPrefix;
  RouteTable routes;
  bool operator==(const HttpConnectionManagerConfig&) const = default;
};

}  // namespace braid::dataplane
