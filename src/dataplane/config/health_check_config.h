#pragma once

// MeshHealthCheck as braid-dp runs it: compiled from the CP's Cluster.health_check
// (config/health_check_compiler.cc), which carries every default, and run by
// upstream::HealthChecker. No protobuf here: the snapshot is protobuf-free.

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace braid::dataplane {

struct HealthCheckConfig {
  enum class Kind {
    kTcp,   // connect, then send `send` and expect the `receive` blocks (none: connect only)
    kHttp,  // GET `path` (HTTP/1.1, or HTTP/2 with `http2`), expecting one of `expectedStatuses`
    kGrpc,  // grpc.health.v1.Health/Check over HTTP/2, expecting SERVING
  };
  Kind kind = Kind::kTcp;
  std::chrono::milliseconds interval{60000};
  std::chrono::milliseconds timeout{15000};
  uint32_t unhealthyThreshold = 5;
  uint32_t healthyThreshold = 1;
  std::chrono::milliseconds initialJitter{0};
  std::chrono::milliseconds intervalJitter{0};
  uint32_t intervalJitterPercent = 0;
  // Envoy's panic mode: below this percentage of healthy endpoints every endpoint is used
  // (or none, with failTrafficOnPanic). 0: never.
  uint32_t healthyPanicThreshold = 50;
  bool failTrafficOnPanic = false;
  // The interval while the cluster has never carried a connection (Envoy's no_traffic_interval).
  std::chrono::milliseconds noTrafficInterval{60000};
  // kTcp: raw bytes (the CP decoded the policy's base64).
  std::string send;
  std::vector<std::string> receive;
  // kHttp.
  std::string path = "/";
  std::vector<uint32_t> expectedStatuses{200};
  std::vector<std::pair<std::string, std::string>> setHeaders;  // replace same-named ones
  std::vector<std::pair<std::string, std::string>> addHeaders;  // appended
  // kGrpc: HealthCheckRequest.service ("" asks about the whole server) and the :authority
  // ("": the cluster's service).
  std::string grpcServiceName;
  std::string grpcAuthority;
  // kHttp over HTTP/2 (the service's protocol is http2: h2c, or h2 inside mTLS).
  bool http2 = false;
};

}  // namespace braid::dataplane
