#include "control-plane/xds/http_routes.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include "common/duration.h"
#include "control-plane/xds/dataplane_fields.h"
#include "control-plane/xds/generator.h"

namespace braid::xds {
namespace pb = braid::proxy::v1;
namespace {

// MeshRetry's defaults where its `http` section leaves a field unset (POLICY_FIELDS §5): Envoy's
// one retry and 25 ms base back-off (max 10× base), Kuma's default retryOn.
constexpr uint32_t kDefaultNumRetries = 1;
constexpr uint32_t kDefaultBackoffBaseMs = 25;
const char* const kDefaultRetryOn[] = {"gateway-error", "connect-failure", "refused-stream"};
// MeshRetry grpc without retryOn: every gRPC condition Envoy knows (Kuma sets none, which would
// make numRetries meaningless).
const char* const kDefaultGrpcRetryOn[] = {"cancelled", "deadline-exceeded", "internal",
                                           "resource-exhausted", "unavailable"};

const Json* toConf(const policy_matching::MatchedPolicies& matched, const char* type,
                   const std::string& service) {
  auto it = matched.find(type);
  return it == matched.end() ? nullptr : it->second.toService(service);
}

const Json& fieldOr(const Json& object, const char* key, const Json& fallback) {
  return object.is_object() && object.contains(key) ? object.at(key) : fallback;
}

std::string str(const Json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object.at(key).is_string()) return "";
  return object.at(key).get<std::string>();
}

// A duration field in milliseconds; `fallback` when absent or unparsable.
uint32_t durationMs(const Json& object, const char* key, uint32_t fallback) {
  std::string text = str(object, key);
  if (text.empty()) return fallback;
  auto d = parseDuration(text);
  if (!d) return fallback;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
  // A positive duration under 1 ms must not turn into 0, which means "none".
  if (ms == 0 && d->count() > 0) ms = 1;
  return static_cast<uint32_t>(std::clamp<int64_t>(ms, 0, UINT32_MAX));
}

// An unsigned field (YAML gives signed integers); `fallback` when absent or negative.
uint32_t uintAt(const Json& object, const char* key, uint32_t fallback) {
  if (!object.is_object() || !object.contains(key) || !object.at(key).is_number_integer()) {
    return fallback;
  }
  int64_t v = object.at(key).get<int64_t>();
  return v < 0 ? fallback : static_cast<uint32_t>(std::min<int64_t>(v, UINT32_MAX));
}

const Json kEmptyArray = Json::array();
const Json kEmptyObject = Json::object();

// backendRef → the tags of the cluster it names: MeshService {name} or MeshServiceSubset
// {name, tags}. Other kinds are refused by validation before they are stored.
Tags backendTags(const Json& ref) {
  Tags tags;
  const Json& refTags = fieldOr(ref, "tags", kEmptyObject);
  if (str(ref, "kind") == "MeshServiceSubset" && refTags.is_object()) {
    for (const auto& [k, v] : refTags.items()) {
      if (v.is_string()) tags[k] = v.get<std::string>();
    }
  }
  tags[kServiceTag] = str(ref, "name");
  return tags;
}

// The cluster a backendRef names; the outbound's own cluster when it names exactly its tags.
std::string refCluster(const Json& ref, std::vector<Tags>& clusters) {
  Tags tags = backendTags(ref);
  clusters.push_back(tags);
  return outboundClusterName(tags);
}

uint32_t weightOf(const Json& ref) { return uintAt(ref, "weight", 1); }  // Kuma's default: 1

void compileBackends(const Json& refs, const OutboundRouting& outbound, pb::RouteAction& action,
                     std::vector<Tags>& clusters) {
  if (!refs.is_array() || refs.empty()) {
    // No backendRefs: the `to` target itself.
    pb::WeightedCluster* c = action.add_clusters();
    c->set_cluster(outbound.ownCluster);
    c->set_weight(1);
    return;
  }
  for (const auto& ref : refs) {
    pb::WeightedCluster* c = action.add_clusters();
    c->set_cluster(refCluster(ref, clusters));
    c->set_weight(weightOf(ref));
  }
}

void compileMatch(const Json& in, pb::RouteMatch& out) {
  const Json& path = fieldOr(in, "path", kEmptyObject);
  std::string type = str(path, "type");
  std::string value = str(path, "value");
  if (type == "Exact") out.set_exact(value);
  if (type == "PathPrefix") out.set_prefix(value);
  if (type == "RegularExpression") out.set_regex(value);
  out.set_method(str(in, "method"));
  for (const auto& h : fieldOr(in, "headers", kEmptyArray)) {
    pb::HeaderMatch* m = out.add_headers();
    m->set_name(lowerCase(str(h, "name")));
    std::string kind = str(h, "type");
    std::string v = str(h, "value");
    if (kind == "Prefix") {
      m->set_prefix(v);
    } else if (kind == "RegularExpression") {
      m->set_regex(v);
    } else if (kind == "Present") {
      m->set_present(true);
    } else if (kind == "Absent") {
      m->set_absent(true);
    } else {
      m->set_exact(v);  // Exact is the default type
    }
  }
  for (const auto& q : fieldOr(in, "queryParams", kEmptyArray)) {
    pb::QueryParamMatch* m = out.add_query_params();
    m->set_name(str(q, "name"));
    if (str(q, "type") == "RegularExpression") {
      m->set_regex(str(q, "value"));
    } else {
      m->set_exact(str(q, "value"));
    }
  }
}

void compileHeaderMods(const Json& in, pb::HeaderMods& out) {
  for (const auto& kv : fieldOr(in, "set", kEmptyArray)) {
    pb::HeaderValue* h = out.add_set();
    h->set_name(lowerCase(str(kv, "name")));
    h->set_value(str(kv, "value"));
  }
  for (const auto& kv : fieldOr(in, "add", kEmptyArray)) {
    pb::HeaderValue* h = out.add_add();
    h->set_name(lowerCase(str(kv, "name")));
    h->set_value(str(kv, "value"));
  }
  for (const auto& name : fieldOr(in, "remove", kEmptyArray)) {
    if (name.is_string()) out.add_remove(lowerCase(name.get<std::string>()));
  }
}

// RequestMirror's percentage: an int or a decimal string; absent means every request.
uint32_t mirrorPerMillion(const Json& mirror) {
  if (!mirror.contains("percentage")) return 1000000;
  const Json& p = mirror.at("percentage");
  double percent = 100;
  if (p.is_number()) percent = p.get<double>();
  if (p.is_string()) percent = std::strtod(p.get<std::string>().c_str(), nullptr);
  percent = std::clamp(percent, 0.0, 100.0);
  return static_cast<uint32_t>(std::llround(percent * 10000));
}

// Applies the rule's filters; a RequestRedirect makes the route a redirect (nothing forwarded).
void compileFilters(const Json& filters, pb::Route& route, pb::RouteAction& action,
                    std::vector<Tags>& clusters) {
  for (const auto& f : filters) {
    std::string type = str(f, "type");
    if (type == "RequestHeaderModifier") {
      compileHeaderMods(fieldOr(f, "requestHeaderModifier", kEmptyObject),
                        *route.mutable_request_headers());
    } else if (type == "ResponseHeaderModifier") {
      compileHeaderMods(fieldOr(f, "responseHeaderModifier", kEmptyObject),
                        *route.mutable_response_headers());
    } else if (type == "RequestRedirect") {
      const Json& r = fieldOr(f, "requestRedirect", kEmptyObject);
      pb::Redirect* redirect = route.mutable_redirect();
      redirect->set_scheme(str(r, "scheme"));
      redirect->set_host(str(r, "hostname"));
      redirect->set_port(uintAt(r, "port", 0));
      const Json& path = fieldOr(r, "path", kEmptyObject);
      if (str(path, "type") == "ReplaceFullPath")
        redirect->set_full_path(str(path, "replaceFullPath"));
      if (str(path, "type") == "ReplacePrefixMatch") {
        redirect->set_prefix(str(path, "replacePrefixMatch"));
      }
      redirect->set_status(uintAt(r, "statusCode", 302));  // Gateway API's default: 302
    } else if (type == "URLRewrite") {
      const Json& r = fieldOr(f, "urlRewrite", kEmptyObject);
      pb::Rewrite* rewrite = action.mutable_rewrite();
      rewrite->set_host(str(r, "hostname"));
      const Json& path = fieldOr(r, "path", kEmptyObject);
      if (str(path, "type") == "ReplaceFullPath")
        rewrite->set_full_path(str(path, "replaceFullPath"));
      if (str(path, "type") == "ReplacePrefixMatch") {
        rewrite->set_prefix(str(path, "replacePrefixMatch"));
      }
    } else if (type == "RequestMirror") {
      const Json& m = fieldOr(f, "requestMirror", kEmptyObject);
      pb::Mirror* mirror = action.add_mirrors();
      mirror->set_cluster(refCluster(fieldOr(m, "backendRef", kEmptyObject), clusters));
      mirror->set_per_million(mirrorPerMillion(m));
    }
  }
}

// MeshRetry retryOn item → Envoy's retry_on name, a status code, or a method.
void compileRetryOn(const std::string& item, pb::RetryPolicy& retry) {
  static const std::map<std::string, std::string> kNames = {
      {"5xx", "5xx"},
      {"GatewayError", "gateway-error"},
      {"Reset", "reset"},
      {"Retriable4xx", "retriable-4xx"},
      {"ConnectFailure", "connect-failure"},
      {"EnvoyRatelimited", "envoy-ratelimited"},
      {"RefusedStream", "refused-stream"},
      {"Http3PostConnectFailure", "http3-post-connect-failure"},
  };
  if (auto it = kNames.find(item); it != kNames.end()) {
    retry.add_retry_on(it->second);
  } else if (item.rfind("HttpMethod", 0) == 0) {
    std::string method = item.substr(10);
    std::transform(method.begin(), method.end(), method.begin(), ::toupper);
    retry.add_retriable_methods(method);
  } else if (!item.empty() && std::all_of(item.begin(), item.end(), ::isdigit)) {
    if (std::find(retry.retry_on().begin(), retry.retry_on().end(), "retriable-status-codes") ==
        retry.retry_on().end()) {
      retry.add_retry_on("retriable-status-codes");
    }
    retry.add_retriable_status_codes(static_cast<uint32_t>(std::stoul(item)));
  }
}

// MeshRetry grpc retryOn item → Envoy's retry_on name.
void compileGrpcRetryOn(const std::string& item, pb::RetryPolicy& retry) {
  static const std::map<std::string, std::string> kNames = {
      {"Canceled", "cancelled"},      {"DeadlineExceeded", "deadline-exceeded"},
      {"Internal", "internal"},       {"ResourceExhausted", "resource-exhausted"},
      {"Unavailable", "unavailable"},
  };
  if (auto it = kNames.find(item); it != kNames.end()) retry.add_retry_on(it->second);
}

// MeshRetry for the service: its `grpc` section for a grpc outbound, else its `http` section (as
// Kuma picks by protocol); false when none applies (no retries, as Envoy).
bool compileRetry(const policy_matching::MatchedPolicies& matched, const OutboundRouting& outbound,
                  pb::RetryPolicy& retry) {
  const Json* conf = toConf(matched, "MeshRetry", outbound.service);
  const bool grpc = outbound.protocol == "grpc";
  const char* section = grpc ? "grpc" : "http";
  if (!conf || !conf->is_object() || !conf->contains(section)) return false;
  const Json& http = conf->at(section);
  retry.set_num_retries(uintAt(http, "numRetries", kDefaultNumRetries));
  retry.set_per_try_timeout_ms(durationMs(http, "perTryTimeout", 0));
  const Json& backOff = fieldOr(http, "backOff", kEmptyObject);
  uint32_t base = durationMs(backOff, "baseInterval", kDefaultBackoffBaseMs);
  retry.set_backoff_base_ms(base);
  retry.set_backoff_max_ms(durationMs(backOff, "maxInterval", base * 10));
  const Json& retryOn = fieldOr(http, "retryOn", kEmptyArray);
  for (const auto& item : retryOn) {
    if (!item.is_string()) continue;
    if (grpc) {
      compileGrpcRetryOn(item.get<std::string>(), retry);
    } else {
      compileRetryOn(item.get<std::string>(), retry);
    }
  }
  if (retry.retry_on_size() == 0) {
    if (grpc) {
      for (const char* name : kDefaultGrpcRetryOn) retry.add_retry_on(name);
    } else {
      for (const char* name : kDefaultRetryOn) retry.add_retry_on(name);
    }
  }
  return true;
}

// MeshTimeout http, per request.
struct HttpTimeouts {
  uint32_t requestMs = kDefaultRequestTimeoutMs;
  uint32_t streamIdleMs = kDefaultStreamIdleTimeoutMs;
  uint32_t maxStreamMs = 0;
};

HttpTimeouts httpTimeouts(const policy_matching::MatchedPolicies& matched,
                          const std::string& service) {
  HttpTimeouts timeouts;
  const Json* conf = toConf(matched, "MeshTimeout", service);
  if (!conf) return timeouts;
  const Json& http = fieldOr(*conf, "http", kEmptyObject);
  timeouts.requestMs = durationMs(http, "requestTimeout", kDefaultRequestTimeoutMs);
  timeouts.streamIdleMs = durationMs(http, "streamIdleTimeout", kDefaultStreamIdleTimeoutMs);
  timeouts.maxStreamMs = durationMs(http, "maxStreamDuration", 0);
  return timeouts;
}

// Kuma's CompareMatch: negative when `a` goes first.
int pathRank(const pb::RouteMatch& m) {
  switch (m.path_case()) {
    case pb::RouteMatch::kExact:
      return 0;
    case pb::RouteMatch::kPrefix:
      return 1;
    case pb::RouteMatch::kRegex:
      return 2;
    default:
      return 3;
  }
}

size_t pathLength(const pb::RouteMatch& m) {
  if (m.has_prefix()) return m.prefix().size();
  if (m.has_regex()) return m.regex().size();
  return 0;
}

bool before(const pb::Route& ra, const pb::Route& rb) {
  const pb::RouteMatch& a = ra.match();
  const pb::RouteMatch& b = rb.match();
  if (pathRank(a) != pathRank(b)) return pathRank(a) < pathRank(b);
  if (pathLength(a) != pathLength(b)) return pathLength(a) > pathLength(b);
  if (a.method().empty() != b.method().empty()) return !a.method().empty();
  if (a.headers_size() != b.headers_size()) return a.headers_size() > b.headers_size();
  return a.query_params_size() > b.query_params_size();
}

bool matchesEverything(const pb::RouteMatch& m) {
  bool anyPath =
      m.path_case() == pb::RouteMatch::PATH_NOT_SET || (m.has_prefix() && m.prefix() == "/");
  return anyPath && m.method().empty() && m.headers_size() == 0 && m.query_params_size() == 0;
}

// Timeout and retries apply to forwarded routes only (a redirect is answered by the proxy).
void finishAction(pb::Route& route, const HttpTimeouts& timeouts, const pb::RetryPolicy* retry) {
  if (!route.has_route()) return;
  route.mutable_route()->set_timeout_ms(timeouts.requestMs);
  route.mutable_route()->set_stream_idle_timeout_ms(timeouts.streamIdleMs);
  route.mutable_route()->set_max_stream_duration_ms(timeouts.maxStreamMs);
  if (retry) *route.mutable_route()->mutable_retry() = *retry;
}

}  // namespace

bool usesHttpRouting(const policy_matching::MatchedPolicies& matched,
                     const OutboundRouting& outbound) {
  const std::string& p = outbound.protocol;
  if (p != "http" && p != "http2" && p != "grpc") return false;
  if (toConf(matched, "MeshHTTPRoute", outbound.service)) return true;
  return toConf(matched, "MeshTCPRoute", outbound.service) == nullptr;
}

pb::RouteTable compileHttpRoutes(const policy_matching::MatchedPolicies& matched,
                                 const OutboundRouting& outbound, std::vector<Tags>& clusters) {
  const HttpTimeouts timeouts = httpTimeouts(matched, outbound.service);
  pb::RetryPolicy retry;
  const pb::RetryPolicy* retryPtr = compileRetry(matched, outbound, retry) ? &retry : nullptr;

  std::vector<pb::Route> routes;
  const Json* conf = toConf(matched, "MeshHTTPRoute", outbound.service);
  const Json& rules = conf ? fieldOr(*conf, "rules", kEmptyArray) : kEmptyArray;
  for (size_t i = 0; i < rules.size(); ++i) {
    const Json& rule = rules[i];
    const Json& matches = fieldOr(rule, "matches", kEmptyArray);
    const Json& def = fieldOr(rule, "default", kEmptyObject);
    // One route per match (matches are ORed), all sharing the rule's action.
    for (size_t j = 0; j < matches.size(); ++j) {
      pb::Route route;
      route.set_name("rule-" + std::to_string(i) +
                     (matches.size() > 1 ? "." + std::to_string(j) : ""));
      compileMatch(matches[j], *route.mutable_match());
      pb::RouteAction action;
      compileBackends(fieldOr(def, "backendRefs", kEmptyArray), outbound, action, clusters);
      compileFilters(fieldOr(def, "filters", kEmptyArray), route, action, clusters);
      if (!route.has_redirect()) *route.mutable_route() = std::move(action);
      finishAction(route, timeouts, retryPtr);
      routes.push_back(std::move(route));
    }
  }
  std::stable_sort(routes.begin(), routes.end(), before);
  bool catchAll = std::any_of(routes.begin(), routes.end(),
                              [](const pb::Route& r) { return matchesEverything(r.match()); });
  if (!catchAll) {
    pb::Route route;
    route.set_name("default");
    route.mutable_match()->set_prefix("/");
    pb::WeightedCluster* c = route.mutable_route()->add_clusters();
    c->set_cluster(outbound.ownCluster);
    c->set_weight(1);
    finishAction(route, timeouts, retryPtr);
    routes.push_back(std::move(route));
  }
  pb::RouteTable table;
  for (auto& r : routes) *table.add_routes() = std::move(r);
  return table;
}

std::vector<pb::WeightedCluster> compileTcpRoute(const policy_matching::MatchedPolicies& matched,
                                                 const OutboundRouting& outbound,
                                                 std::vector<Tags>& clusters) {
  std::vector<pb::WeightedCluster> out;
  const Json* conf = toConf(matched, "MeshTCPRoute", outbound.service);
  if (!conf) return out;
  const Json& rules = fieldOr(*conf, "rules", kEmptyArray);
  if (rules.empty()) return out;
  // MeshTCPRoute has at most one rule per `to`; after merging, the last one wins.
  const Json& def = fieldOr(rules.back(), "default", kEmptyObject);
  for (const auto& ref : fieldOr(def, "backendRefs", kEmptyArray)) {
    pb::WeightedCluster c;
    c.set_cluster(refCluster(ref, clusters));
    c.set_weight(weightOf(ref));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace braid::xds
