#pragma once

// The gRPC health-checking protocol (grpc.health.v1.Health/Check) as a probe speaks it, by hand:
// the two messages are one field each, so no generated code. Exposed for unit tests; the probe
// itself is makeGrpcProbe() (health_probe_protocol.h).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace braid::dataplane::upstream {

// HealthCheckResponse.ServingStatus values.
constexpr uint32_t kGrpcHealthUnknown = 0;
constexpr uint32_t kGrpcHealthServing = 1;
constexpr uint32_t kGrpcHealthNotServing = 2;

// One length-prefixed gRPC message (flag 0, 4-byte big-endian length) carrying
// HealthCheckRequest{service = `service`} (field 1, a string; omitted when empty, as proto3 does).
std::string encodeGrpcHealthRequest(std::string_view service);

// The status (field 1, a varint; absent: UNKNOWN) of the HealthCheckResponse in `body`, a
// response's DATA: exactly one uncompressed length-prefixed message. nullopt when `body` is not
// that (truncated, compressed, trailing bytes, a malformed protobuf).
std::optional<uint32_t> decodeGrpcHealthResponse(std::string_view body);

}  // namespace braid::dataplane::upstream
