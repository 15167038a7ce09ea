#include "dataplane/config/health_check_compiler.h"

#include <string_view>

namespace braid::dataplane {
namespace pb = braid::proxy::v1;
using namespace std::string_view_literals;
namespace {

// Header text goes into the request as is: no CR, LF or NUL, and a name without ':' or spaces.
bool safeHeader(const std::string& name, const std::string& value) {
  if (name.empty() || name.find_first_of(":\r\n\0 \t"sv) != std::string::npos) return false;
  return value.find_first_of("\r\n\0"sv) == std::string::npos;
}

void compileHeaders(const google::protobuf::RepeatedPtrField<pb::HeaderValue>& in, const char* what,
                    std::vector<std::pair<std::string, std::string>>& out,
                    std::vector<std::string>& problems) {
  for (const auto& h : in) {
    if (!safeHeader(h.name(), h.value())) {
      problems.push_back(std::string("http.request_headers_to_add.") + what + ": header '" +
                         h.name() + "' is not a valid header");
      continue;
    }
    out.emplace_back(h.name(), h.value());
  }
}

}  // namespace

std::vector<std::string> compileHealthCheck(const pb::HealthCheck& in, HealthCheckConfig& out) {
  using std::chrono::milliseconds;
  std::vector<std::string> problems;
  if (in.interval_ms() == 0) problems.push_back("interval_ms must be > 0");
  if (in.timeout_ms() == 0) problems.push_back("timeout_ms must be > 0");
  if (in.unhealthy_threshold() == 0) problems.push_back("unhealthy_threshold must be > 0");
  if (in.healthy_threshold() == 0) problems.push_back("healthy_threshold must be > 0");
  if (in.interval_jitter_percent() > 100) problems.push_back("interval_jitter_percent > 100");
  if (in.healthy_panic_threshold() > 100) problems.push_back("healthy_panic_threshold > 100");
  out.interval = milliseconds(in.interval_ms());
  out.timeout = milliseconds(in.timeout_ms());
  out.unhealthyThreshold = in.unhealthy_threshold();
  out.healthyThreshold = in.healthy_threshold();
  out.initialJitter = milliseconds(in.initial_jitter_ms());
  out.intervalJitter = milliseconds(in.interval_jitter_ms());
  out.intervalJitterPercent = in.interval_jitter_percent();
  out.healthyPanicThreshold = in.healthy_panic_threshold();
  out.failTrafficOnPanic = in.fail_traffic_on_panic();
  // 0: the CP left it unset; Envoy's default.
  out.noTrafficInterval = in.no_traffic_interval_ms() > 0
                              ? milliseconds(in.no_traffic_interval_ms())
                              : milliseconds(60000);
  switch (in.checker_case()) {
    case pb::HealthCheck::kTcp:
      out.kind = HealthCheckConfig::Kind::kTcp;
      out.send = in.tcp().send();
      out.receive.assign(in.tcp().receive().begin(), in.tcp().receive().end());
      std::erase_if(out.receive, [](const std::string& block) { return block.empty(); });
      break;
    case pb::HealthCheck::kHttp: {
      out.kind = HealthCheckConfig::Kind::kHttp;
      const auto& http = in.http();
      out.path = http.path().empty() ? "/" : http.path();
      if (out.path.front() != '/' || out.path.find_first_of(" \r\n\0"sv) != std::string::npos) {
        problems.push_back("http.path '" + out.path + "' must start with '/' and have no spaces");
      }
      out.expectedStatuses.assign(http.expected_statuses().begin(), http.expected_statuses().end());
      if (out.expectedStatuses.empty()) out.expectedStatuses = {200};
      for (uint32_t status : out.expectedStatuses) {
        if (status < 100 || status > 599) {
          problems.push_back("http.expected_statuses: " + std::to_string(status) +
                             " is not a status");
        }
      }
      compileHeaders(http.request_headers_to_add().set(), "set", out.setHeaders, problems);
      compileHeaders(http.request_headers_to_add().add(), "add", out.addHeaders, problems);
      out.http2 = http.http2();
      break;
    }
    case pb::HealthCheck::kGrpc:
      out.kind = HealthCheckConfig::Kind::kGrpc;
      out.grpcServiceName = in.grpc().service_name();
      out.grpcAuthority = in.grpc().authority();
      if (!safeHeader("authority", out.grpcAuthority)) {
        problems.push_back("grpc.authority '" + out.grpcAuthority + "' is not a valid authority");
      }
      break;
    case pb::HealthCheck::CHECKER_NOT_SET:
      problems.push_back("no checker (tcp, http or grpc)");
      break;
  }
  return problems;
}

}  // namespace braid::dataplane
