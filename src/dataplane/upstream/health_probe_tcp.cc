// Envoy's TCP health checker: send the payload (if any), then expect every receive block in order,
// each after the previous one, not necessarily adjacent. No blocks: connected is healthy.

#include "dataplane/upstream/health_probe_protocol.h"

namespace braid::dataplane::upstream {
namespace {

// What a TCP check reads at most while looking for its receive blocks.
constexpr size_t kMaxReceive = 64 * 1024;

bool receiveMatches(const std::string& data, const std::vector<std::string>& blocks) {
  size_t from = 0;
  for (const auto& block : blocks) {
    size_t at = data.find(block, from);
    if (at == std::string::npos) return false;
    from = at + block.size();
  }
  return true;
}

class TcpProbe final : public HealthProbeProtocol {
 public:
  explicit TcpProbe(const HealthProbeTarget& target) : config_(target.config) {}

  Verdict start(std::string& out) override {
    out += config_.send;
    if (config_.receive.empty()) return HealthProbeOutcome::kSuccess;
    return std::nullopt;
  }

  Verdict receive(std::string_view data, std::string&) override {
    in_.append(data);
    if (receiveMatches(in_, config_.receive)) return HealthProbeOutcome::kSuccess;
    if (in_.size() > kMaxReceive) return HealthProbeOutcome::kNetworkFailure;
    return std::nullopt;
  }

 private:
  const HealthCheckConfig& config_;
  std::string in_;
};

}  // namespace

std::unique_ptr<HealthProbeProtocol> makeTcpProbe(const HealthProbeTarget& target) {
  return std::make_unique<TcpProbe>(target);
}

}  // namespace braid::dataplane::upstream
