#pragma once

// What a health-check probe says and expects once its transport is up (health_probe.h carries
// the bytes, plaintext or mTLS): Envoy's TCP, HTTP and gRPC health checkers. Loop thread only.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/upstream/health_probe.h"

namespace braid::dataplane::upstream {

class HealthProbeProtocol {
 public:
  // nullopt: no verdict yet. Bytes to send are appended to `out`.
  using Verdict = std::optional<HealthProbeOutcome>;

  virtual ~HealthProbeProtocol() = default;
  // The transport is up.
  virtual Verdict start(std::string& out) = 0;
  // Bytes from the endpoint.
  virtual Verdict receive(std::string_view data, std::string& out) = 0;
  // The endpoint closed before a verdict.
  virtual Verdict closed() { return HealthProbeOutcome::kNetworkFailure; }
};

// The header fields of an HTTP check: Host (the service), User-Agent, then the policy's
// requestHeadersToAdd (`set` replaces same-named fields, `add` appends).
std::vector<std::pair<std::string, std::string>> healthCheckHeaders(
    const HealthProbeTarget& target);

// TCP: `send`, then the `receive` blocks in order (none: connected is healthy).
std::unique_ptr<HealthProbeProtocol> makeTcpProbe(const HealthProbeTarget& target);
// HTTP/1.1 GET `path` with Host `target.host`: one of `expectedStatuses`.
std::unique_ptr<HealthProbeProtocol> makeHttp1Probe(const HealthProbeTarget& target);
// The same GET over HTTP/2 (the `http2` services: h2c, or h2 inside mTLS); Host becomes
// :authority.
std::unique_ptr<HealthProbeProtocol> makeHttp2Probe(const HealthProbeTarget& target);
// gRPC (health_probe_grpc.h).
std::unique_ptr<HealthProbeProtocol> makeGrpcProbe(const HealthProbeTarget& target);

inline std::unique_ptr<HealthProbeProtocol> makeHealthProbeProtocol(
    const HealthProbeTarget& target) {
  switch (target.config.kind) {
    case HealthCheckConfig::Kind::kHttp:
      return target.config.http2 ? makeHttp2Probe(target) : makeHttp1Probe(target);
    case HealthCheckConfig::Kind::kGrpc:
      return makeGrpcProbe(target);
    case HealthCheckConfig::Kind::kTcp:
      break;
  }
  return makeTcpProbe(target);
}

}  // namespace braid::dataplane::upstream
