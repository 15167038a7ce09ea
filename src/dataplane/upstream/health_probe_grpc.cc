// Envoy's gRPC health checker: one grpc.health.v1.Health/Check call over HTTP/2 (h2c with prior
// knowledge in a plaintext mesh, h2 inside the mTLS stream otherwise; health_probe_h2.h).
// Healthy when the answer is :status 200, grpc-status 0 and SERVING. Any other
// answer is an active failure (Envoy: a non-200 status, a grpc-status other than OK or a
// non-SERVING status eject at once); a reset stream, a connection that breaks or an unreadable
// message is a network failure.

#include "dataplane/upstream/health_probe_grpc.h"

#include "dataplane/upstream/health_probe_h2.h"

namespace braid::dataplane::upstream {
namespace {

constexpr std::string_view kCheckPath = "/grpc.health.v1.Health/Check";

void appendVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// Reads a varint at `at`; false when truncated or longer than 10 bytes.
bool readVarint(std::string_view in, size_t& at, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (at >= in.size()) return false;
    auto byte = static_cast<uint8_t>(in[at++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

class GrpcProbe final : public H2HealthProbe {
 public:
  explicit GrpcProbe(const HealthProbeTarget& target)
      : H2HealthProbe(target, request(target),
                      encodeGrpcHealthRequest(target.config.grpcServiceName)) {}

 private:
  static braid::http::Headers request(const HealthProbeTarget& target) {
    const HealthCheckConfig& c = target.config;
    return {
        {":method", "POST"},
        {":authority", c.grpcAuthority.empty() ? target.host : c.grpcAuthority},
        {":path", std::string(kCheckPath)},
        {"content-type", "application/grpc"},
        {"te", "trailers"},
        {"user-agent", "braid-health-check"},
    };
  }

  Verdict onHead(const braid::http::Headers& head, bool) override {
    const std::string* status = find(head, ":status");
    if (status == nullptr || *status != "200") return HealthProbeOutcome::kActiveFailure;
    return std::nullopt;
  }

  // grpc-status is in the trailers, or in the head of a trailers-only answer.
  HealthProbeOutcome onComplete(const braid::http::Headers& head, std::string_view body,
                                const braid::http::Headers& trailers) override {
    const std::string* grpcStatus = find(trailers.empty() ? head : trailers, "grpc-status");
    if (grpcStatus == nullptr || *grpcStatus != "0") return HealthProbeOutcome::kActiveFailure;
    auto status = decodeGrpcHealthResponse(body);
    if (!status) return HealthProbeOutcome::kNetworkFailure;
    return *status == kGrpcHealthServing ? HealthProbeOutcome::kSuccess
                                         : HealthProbeOutcome::kActiveFailure;
  }
};

}  // namespace

std::string encodeGrpcHealthRequest(std::string_view service) {
  std::string message;
  if (!service.empty()) {
    message.push_back(0x0a);  // field 1, length-delimited
    appendVarint(message, service.size());
    message.append(service);
  }
  std::string frame(5, '\0');  // flag 0: not compressed
  auto size = static_cast<uint32_t>(message.size());
  for (int i = 0; i < 4; ++i) frame[1 + i] = static_cast<char>((size >> (24 - 8 * i)) & 0xff);
  return frame + message;
}

std::optional<uint32_t> decodeGrpcHealthResponse(std::string_view body) {
  if (body.size() < 5 || body[0] != 0) return std::nullopt;
  uint32_t size = 0;
  for (int i = 1; i <= 4; ++i) size = (size << 8) | static_cast<uint8_t>(body[i]);
  if (body.size() - 5 != size) return std::nullopt;
  std::string_view message = body.substr(5);
  uint32_t status = kGrpcHealthUnknown;
  size_t at = 0;
  while (at < message.size()) {
    uint64_t key = 0;
    if (!readVarint(message, at, key) || key >> 3 == 0) return std::nullopt;
    uint64_t value = 0;
    switch (key & 7) {
      case 0:  // varint
        if (!readVarint(message, at, value)) return std::nullopt;
        if (key >> 3 == 1) status = static_cast<uint32_t>(value);
        break;
      case 1:  // fixed64
        if (message.size() - at < 8) return std::nullopt;
        at += 8;
        break;
      case 2:  // length-delimited
        if (!readVarint(message, at, value) || value > message.size() - at) return std::nullopt;
        at += value;
        break;
      case 5:  // fixed32
        if (message.size() - at < 4) return std::nullopt;
        at += 4;
        break;
      default:
        return std::nullopt;
    }
  }
  return status;
}

std::unique_ptr<HealthProbeProtocol> makeGrpcProbe(const HealthProbeTarget& target) {
  return std::make_unique<GrpcProbe>(target);
}

}  // namespace braid::dataplane::upstream
