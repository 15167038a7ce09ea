#include "control-plane/xds/health_check_policy.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>

#include "common/duration.h"

namespace braid::xds {
namespace pb = braid::proxy::v1;

namespace {

bool enabled(const Json& conf, const char* checker) {
  if (!conf.contains(checker) || !conf.at(checker).is_object()) return false;
  const Json& c = conf.at(checker);
  return !(c.contains("disabled") && c.at("disabled").is_boolean() && c.at("disabled").get<bool>());
}

// Kuma's selectHealthCheckType: "" when no checker applies.
std::string selectChecker(const Json& conf, const std::string& protocol) {
  bool http = protocol == "http" || protocol == "http2";
  bool grpc = protocol == "grpc";
  if (http && enabled(conf, "http")) return "http";
  if (grpc && enabled(conf, "grpc")) return "grpc";
  if (protocol == "tcp" && enabled(conf, "tcp")) return "tcp";
  // Fallback to tcp only when the protocol's own checker is present and disabled (Kuma).
  const char* own = http ? "http" : grpc ? "grpc" : nullptr;
  if (own && conf.contains(own) && !enabled(conf, own) && enabled(conf, "tcp")) return "tcp";
  return "";
}

uint32_t durationMs(const Json& conf, const char* key, uint32_t fallback) {
  if (!conf.contains(key) || !conf.at(key).is_string()) return fallback;
  auto d = parseDuration(conf.at(key).get<std::string>());
  if (!d) return fallback;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
  return static_cast<uint32_t>(std::clamp<int64_t>(ms, 1, UINT32_MAX));
}

uint32_t unsignedAt(const Json& conf, const char* key, uint32_t fallback) {
  if (!conf.contains(key) || !conf.at(key).is_number_integer()) return fallback;
  return static_cast<uint32_t>(std::clamp<int64_t>(conf.at(key).get<int64_t>(), 0, UINT32_MAX));
}

// A percent is an integer or a decimal string ("50", "12.5"); Envoy takes a double, the proxy
// whole percents: rounded down.
uint32_t percentAt(const Json& conf, const char* key, uint32_t fallback) {
  if (!conf.contains(key)) return fallback;
  const Json& v = conf.at(key);
  double value = 0;
  if (v.is_number()) {
    value = v.get<double>();
  } else if (v.is_string()) {
    try {
      value = std::stod(v.get<std::string>());
    } catch (...) {
      return fallback;
    }
  } else {
    return fallback;
  }
  return static_cast<uint32_t>(std::clamp(value, 0.0, 100.0));
}

// Standard base64 with padding (validated when the policy was stored); nullopt when it is not.
std::optional<std::string> decodeBase64(const std::string& text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

void compileTcp(const Json& tcp, pb::HealthCheck::Tcp& out) {
  if (tcp.contains("send") && tcp.at("send").is_string()) {
    if (auto bytes = decodeBase64(tcp.at("send").get<std::string>())) out.set_send(*bytes);
  }
  if (tcp.contains("receive") && tcp.at("receive").is_array()) {
    for (const auto& block : tcp.at("receive")) {
      if (!block.is_string()) continue;
      if (auto bytes = decodeBase64(block.get<std::string>())) out.add_receive(*bytes);
    }
  }
}

void compileHeaders(const Json& list, google::protobuf::RepeatedPtrField<pb::HeaderValue>& out) {
  if (!list.is_array()) return;
  for (const auto& kv : list) {
    if (!kv.is_object() || !kv.contains("name") || !kv.at("name").is_string()) continue;
    pb::HeaderValue* h = out.Add();
    h->set_name(kv.at("name").get<std::string>());
    if (kv.contains("value") && kv.at("value").is_string()) {
      h->set_value(kv.at("value").get<std::string>());
    }
  }
}

void compileHttp(const Json& http, const std::string& protocol, pb::HealthCheck::Http& out) {
  out.set_http2(protocol == "http2");
  out.set_path(http.contains("path") && http.at("path").is_string()
                   ? http.at("path").get<std::string>()
                   : "/");
  if (http.contains("expectedStatuses") && http.at("expectedStatuses").is_array()) {
    for (const auto& status : http.at("expectedStatuses")) {
      if (status.is_number_integer()) out.add_expected_statuses(status.get<uint32_t>());
    }
  }
  if (out.expected_statuses_size() == 0) out.add_expected_statuses(kDefaultHcExpectedStatus);
  if (http.contains("requestHeadersToAdd") && http.at("requestHeadersToAdd").is_object()) {
    const Json& mods = http.at("requestHeadersToAdd");
    pb::HeaderMods* headers = out.mutable_request_headers_to_add();
    if (mods.contains("set")) compileHeaders(mods.at("set"), *headers->mutable_set());
    if (mods.contains("add")) compileHeaders(mods.at("add"), *headers->mutable_add());
  }
}

}  // namespace

void compileHealthCheck(const policy_matching::MatchedPolicies& matched, const std::string& service,
                        const std::string& protocol, pb::Cluster& cluster) {
  auto policies = matched.find("MeshHealthCheck");
  if (policies == matched.end()) return;
  const Json* found = policies->second.toService(service);
  if (!found || !found->is_object()) return;
  const Json& conf = *found;
  std::string checker = selectChecker(conf, protocol);
  if (checker.empty()) return;

  pb::HealthCheck* hc = cluster.mutable_health_check();
  hc->set_interval_ms(durationMs(conf, "interval", kDefaultHcIntervalMs));
  hc->set_timeout_ms(durationMs(conf, "timeout", kDefaultHcTimeoutMs));
  hc->set_unhealthy_threshold(
      std::max(1u, unsignedAt(conf, "unhealthyThreshold", kDefaultHcUnhealthyThreshold)));
  hc->set_healthy_threshold(
      std::max(1u, unsignedAt(conf, "healthyThreshold", kDefaultHcHealthyThreshold)));
  hc->set_initial_jitter_ms(durationMs(conf, "initialJitter", 0));
  hc->set_interval_jitter_ms(durationMs(conf, "intervalJitter", 0));
  hc->set_interval_jitter_percent(std::min(100u, unsignedAt(conf, "intervalJitterPercent", 0)));
  hc->set_healthy_panic_threshold(
      percentAt(conf, "healthyPanicThreshold", kDefaultHcPanicThreshold));
  hc->set_fail_traffic_on_panic(conf.contains("failTrafficOnPanic") &&
                                conf.at("failTrafficOnPanic").is_boolean() &&
                                conf.at("failTrafficOnPanic").get<bool>());
  hc->set_no_traffic_interval_ms(
      durationMs(conf, "noTrafficInterval", kDefaultHcNoTrafficIntervalMs));
  hc->set_reuse_connection(!(conf.contains("reuseConnection") &&
                             conf.at("reuseConnection").is_boolean() &&
                             !conf.at("reuseConnection").get<bool>()));
  if (checker == "tcp") {
    compileTcp(conf.at("tcp"), *hc->mutable_tcp());
  } else if (checker == "http") {
    compileHttp(conf.at("http"), protocol, *hc->mutable_http());
  } else {
    const Json& grpc = conf.at("grpc");
    pb::HealthCheck::Grpc* out = hc->mutable_grpc();
    if (grpc.contains("serviceName") && grpc.at("serviceName").is_string()) {
      out->set_service_name(grpc.at("serviceName").get<std::string>());
    }
    // Kuma: the cluster's name when unset.
    out->set_authority(grpc.contains("authority") && grpc.at("authority").is_string()
                           ? grpc.at("authority").get<std::string>()
                           : cluster.name());
  }
}

}  // namespace braid::xds
