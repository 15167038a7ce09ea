#include "dataplane/config/route_compiler.h"

#include <re2/re2.h>

#include <limits>

namespace braid::dataplane {
namespace pb = braid::proxy::v1;
namespace {

class Where {
 public:
  explicit Where(std::vector<std::string>& problems) : problems_(problems) {}
  void add(const std::string& where, const std::string& what) {
    problems_.push_back(where + ": " + what);
  }

 private:
  std::vector<std::string>& problems_;
};

// RE2 with default options: UTF-8, longest-match off, no backreferences (linear time).
bool compileRegex(const std::string& pattern, const std::string& where, Regex& out, Where& p) {
  out.pattern = pattern;
  auto re = std::make_shared<const re2::RE2>(pattern, re2::RE2::Quiet);
  if (!re->ok()) {
    p.add(where, "regex '" + pattern + "' is invalid: " + re->error());
    return false;
  }
  out.re = std::move(re);
  return true;
}

void checkCluster(const std::string& name, const std::map<std::string, ClusterConfig>& clusters,
                  const std::string& where, Where& p) {
  if (!clusters.count(name)) p.add(where, "cluster '" + name + "' is not defined");
}

void compileMatch(const pb::RouteMatch& in, const std::string& where, RouteMatch& out, Where& p) {
  switch (in.path_case()) {
    case pb::RouteMatch::kExact:
      out.path = RouteMatch::Path::kExact;
      out.pathValue = in.exact();
      break;
    case pb::RouteMatch::kPrefix:
      out.path = RouteMatch::Path::kPrefix;
      out.pathValue = in.prefix();
      break;
    case pb::RouteMatch::kRegex:
      out.path = RouteMatch::Path::kRegex;
      compileRegex(in.regex(), where + " path", out.pathRegex, p);
      break;
    default:
      out.path = RouteMatch::Path::kAny;
  }
  if ((out.path == RouteMatch::Path::kExact || out.path == RouteMatch::Path::kPrefix) &&
      (out.pathValue.empty() || out.pathValue[0] != '/')) {
    p.add(where, "path '" + out.pathValue + "' does not start with '/'");
  }
  out.method = in.method();
  for (int i = 0; i < in.headers_size(); ++i) {
    const pb::HeaderMatch& h = in.headers(i);
    std::string at = where + " header[" + std::to_string(i) + "]";
    HeaderMatcher m;
    m.name = h.name();
    if (m.name.empty()) p.add(at, "has no name");
    for (char c : m.name) {
      if (c >= 'A' && c <= 'Z') {
        p.add(at, "name '" + m.name + "' is not lower case");
        break;
      }
    }
    switch (h.match_case()) {
      case pb::HeaderMatch::kExact:
        m.kind = HeaderMatcher::Kind::kExact;
        m.value = h.exact();
        break;
      case pb::HeaderMatch::kPrefix:
        m.kind = HeaderMatcher::Kind::kPrefix;
        m.value = h.prefix();
        break;
      case pb::HeaderMatch::kRegex:
        m.kind = HeaderMatcher::Kind::kRegex;
        compileRegex(h.regex(), at, m.regex, p);
        break;
      case pb::HeaderMatch::kPresent:
        m.kind = HeaderMatcher::Kind::kPresent;
        break;
      case pb::HeaderMatch::kAbsent:
        m.kind = HeaderMatcher::Kind::kAbsent;
        break;
      default:
        p.add(at, "has no match");
    }
    out.headers.push_back(std::move(m));
  }
  for (int i = 0; i < in.query_params_size(); ++i) {
    const pb::QueryParamMatch& q = in.query_params(i);
    std::string at = where + " query_param[" + std::to_string(i) + "]";
    QueryParamMatcher m;
    m.name = q.name();
    if (m.name.empty()) p.add(at, "has no name");
    if (q.has_regex()) {
      m.isRegex = true;
      compileRegex(q.regex(), at, m.regex, p);
    } else if (q.has_exact()) {
      m.value = q.exact();
    } else {
      p.add(at, "has no match");
    }
    out.queryParams.push_back(std::move(m));
  }
}

void compileHeaderMods(const pb::HeaderMods& in, HeaderMods& out) {
  for (const auto& h : in.set()) out.set.push_back({h.name(), h.value()});
  for (const auto& h : in.add()) out.add.push_back({h.name(), h.value()});
  out.remove.assign(in.remove().begin(), in.remove().end());
}

uint32_t retryOnBit(const std::string& name) {
  static const std::map<std::string, uint32_t> kBits = {
      {"5xx", RetryPolicy::k5xx},
      {"gateway-error", RetryPolicy::kGatewayError},
      {"reset", RetryPolicy::kReset},
      {"connect-failure", RetryPolicy::kConnectFailure},
      {"retriable-status-codes", RetryPolicy::kRetriableStatusCodes},
      {"retriable-4xx", RetryPolicy::kRetriable4xx},
      {"refused-stream", RetryPolicy::kRefusedStream},
      {"envoy-ratelimited", RetryPolicy::kEnvoyRatelimited},
      {"http3-post-connect-failure", RetryPolicy::kHttp3PostConnectFailure},
      {"cancelled", RetryPolicy::kGrpcCancelled},
      {"deadline-exceeded", RetryPolicy::kGrpcDeadlineExceeded},
      {"internal", RetryPolicy::kGrpcInternal},
      {"resource-exhausted", RetryPolicy::kGrpcResourceExhausted},
      {"unavailable", RetryPolicy::kGrpcUnavailable},
  };
  auto it = kBits.find(name);
  return it == kBits.end() ? 0 : it->second;
}

void compileRetry(const pb::RetryPolicy& in, const std::string& where, RetryPolicy& out, Where& p) {
  out.enabled = true;
  out.numRetries = in.num_retries();
  out.perTryTimeout = std::chrono::milliseconds(in.per_try_timeout_ms());
  for (const auto& name : in.retry_on()) {
    uint32_t bit = retryOnBit(name);
    if (bit == 0) p.add(where, "unknown retry_on '" + name + "'");
    out.retryOn |= bit;
  }
  for (uint32_t code : in.retriable_status_codes()) {
    if (code < 100 || code > 599) {
      p.add(where, "retriable status code " + std::to_string(code) + " is out of range");
      continue;
    }
    out.retriableStatusCodes.push_back(static_cast<uint16_t>(code));
  }
  if (in.backoff_base_ms() > 0) out.backoffBase = std::chrono::milliseconds(in.backoff_base_ms());
  out.backoffMax = in.backoff_max_ms() > 0 ? std::chrono::milliseconds(in.backoff_max_ms())
                                           : out.backoffBase * 10;  // Envoy's default
  if (out.backoffMax < out.backoffBase) p.add(where, "backoff max is below its base");
  out.retriableMethods.assign(in.retriable_methods().begin(), in.retriable_methods().end());
}

uint64_t compileWeights(const google::protobuf::RepeatedPtrField<pb::WeightedCluster>& in,
                        const std::map<std::string, ClusterConfig>& clusters,
                        const std::string& where, std::vector<WeightedCluster>& out, Where& p) {
  uint64_t total = 0;
  for (const auto& c : in) {
    checkCluster(c.cluster(), clusters, where, p);
    out.push_back({c.cluster(), c.weight()});
    total += c.weight();
  }
  return total;
}

void compileRewrite(const pb::Rewrite& in, Rewrite& out) {
  if (in.has_prefix()) {
    out.path = PathReplace::kPrefix;
    out.value = in.prefix();
  } else if (in.has_full_path()) {
    out.path = PathReplace::kFullPath;
    out.value = in.full_path();
  }
  out.host = in.host();
}

void compileAction(const pb::RouteAction& in, const std::map<std::string, ClusterConfig>& clusters,
                   const std::string& where, RouteAction& out, Where& p) {
  if (in.clusters_size() == 0) p.add(where, "forwards to no cluster");
  out.totalWeight = compileWeights(in.clusters(), clusters, where, out.clusters, p);
  compileRewrite(in.rewrite(), out.rewrite);
  for (const auto& m : in.mirrors()) {
    checkCluster(m.cluster(), clusters, where + " mirror", p);
    if (m.per_million() > 1000000) p.add(where, "mirror share above 100%");
    out.mirrors.push_back({m.cluster(), m.per_million()});
  }
  out.timeout = std::chrono::milliseconds(in.timeout_ms());
  out.streamIdleTimeout = std::chrono::milliseconds(in.stream_idle_timeout_ms());
  out.maxStreamDuration = std::chrono::milliseconds(in.max_stream_duration_ms());
  if (in.has_retry()) compileRetry(in.retry(), where + " retry", out.retry, p);
}

void compileRedirect(const pb::Redirect& in, const std::string& where, Redirect& out, Where& p) {
  out.scheme = in.scheme();
  if (!out.scheme.empty() && out.scheme != "http" && out.scheme != "https") {
    p.add(where, "redirect scheme '" + out.scheme + "' is not http or https");
  }
  out.host = in.host();
  if (in.port() > 65535)
    p.add(where, "redirect port " + std::to_string(in.port()) + " is out of range");
  out.port = static_cast<uint16_t>(in.port());
  if (in.has_prefix()) {
    out.path = PathReplace::kPrefix;
    out.value = in.prefix();
  } else if (in.has_full_path()) {
    out.path = PathReplace::kFullPath;
    out.value = in.full_path();
  }
  uint32_t s = in.status();
  if (s != 301 && s != 302 && s != 303 && s != 307 && s != 308) {
    p.add(where, "redirect status " + std::to_string(s) + " is not 301, 302, 303, 307 or 308");
  }
  out.status = static_cast<uint16_t>(s);
}

}  // namespace

void compileHttpConnectionManager(const pb::HttpConnectionManager& in,
                                  const std::map<std::string, ClusterConfig>& clusters,
                                  const std::string& where, HttpConnectionManagerConfig& out,
                                  std::vector<std::string>& problems) {
  Where p(problems);
  out.statPrefix = in.stat_prefix();
  const auto& routes = in.routes().routes();
  out.routes.routes.reserve(routes.size());
  for (int i = 0; i < routes.size(); ++i) {
    const pb::Route& r = routes.Get(i);
    std::string at = where + " route[" + std::to_string(i) + "] " + r.name();
    Route route;
    route.name = r.name();
    compileMatch(r.match(), at, route.match, p);
    switch (r.action_case()) {
      case pb::Route::kRoute:
        compileAction(r.route(), clusters, at, route.action, p);
        break;
      case pb::Route::kRedirect:
        route.isRedirect = true;
        compileRedirect(r.redirect(), at, route.redirect, p);
        break;
      default:
        p.add(at, "has neither route nor redirect");
    }
    if ((route.action.rewrite.path == PathReplace::kPrefix ||
         route.redirect.path == PathReplace::kPrefix) &&
        route.match.path != RouteMatch::Path::kPrefix) {
      p.add(at, "a prefix replacement needs a prefix match");
    }
    compileHeaderMods(r.request_headers(), route.requestHeaders);
    compileHeaderMods(r.response_headers(), route.responseHeaders);
    out.routes.routes.push_back(std::move(route));
  }
}

uint64_t compileWeightedClusters(const google::protobuf::RepeatedPtrField<pb::WeightedCluster>& in,
                                 const std::map<std::string, ClusterConfig>& clusters,
                                 const std::string& where, std::vector<WeightedCluster>& out,
                                 std::vector<std::string>& problems) {
  Where p(problems);
  return compileWeights(in, clusters, where, out, p);
}

}  // namespace braid::dataplane
