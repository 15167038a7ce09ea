// Envoy's HTTP health checker over HTTP/1.1: GET `path` (Host: the service; the policy's header
// changes applied), healthy when the status is one of `expectedStatuses`. Only the status line is
// read; the connection is closed after it.

#include <algorithm>
#include <cctype>

#include "dataplane/upstream/health_probe_protocol.h"

namespace braid::dataplane::upstream {
namespace {

// A response's status line must arrive within this many bytes.
constexpr size_t kMaxStatusLine = 8192;

std::string httpRequest(const HealthProbeTarget& target) {
  std::string out = "GET " + target.config.path + " HTTP/1.1\r\n";
  for (const auto& [name, value] : healthCheckHeaders(target)) {
    out += name + ": " + value + "\r\n";
  }
  return out + "Connection: close\r\n\r\n";
}

// The status of "HTTP/1.x NNN ..."; nullopt when the line is not a status line.
std::optional<uint32_t> parseStatus(std::string_view line) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return std::nullopt;
  uint32_t status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return std::nullopt;
    status = status * 10 + static_cast<uint32_t>(line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ' && line[12] != '\r') return std::nullopt;
  return status;
}

class Http1Probe final : public HealthProbeProtocol {
 public:
  explicit Http1Probe(const HealthProbeTarget& target) : target_(target) {}

  Verdict start(std::string& out) override {
    out += httpRequest(target_);
    return std::nullopt;
  }

  Verdict receive(std::string_view data, std::string&) override {
    in_.append(data);
    size_t eol = in_.find("\r\n");
    if (eol == std::string::npos) {
      if (in_.size() > kMaxStatusLine) return HealthProbeOutcome::kNetworkFailure;
      return std::nullopt;
    }
    auto status = parseStatus(std::string_view(in_).substr(0, eol));
    if (!status) return HealthProbeOutcome::kNetworkFailure;
    const auto& expected = target_.config.expectedStatuses;
    return std::find(expected.begin(), expected.end(), *status) != expected.end()
               ? HealthProbeOutcome::kSuccess
               : HealthProbeOutcome::kActiveFailure;
  }

 private:
  const HealthProbeTarget& target_;
  std::string in_;
};

}  // namespace

std::vector<std::pair<std::string, std::string>> healthCheckHeaders(
    const HealthProbeTarget& target) {
  const HealthCheckConfig& c = target.config;
  std::vector<std::pair<std::string, std::string>> headers = {{"Host", target.host},
                                                              {"User-Agent", "braid-health-check"}};
  auto same = [](const std::string& a, const std::string& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](char x, char y) { return std::tolower(x) == std::tolower(y); });
  };
  for (const auto& [name, value] : c.setHeaders) {
    std::erase_if(headers, [&](const auto& h) { return same(h.first, name); });
    headers.emplace_back(name, value);
  }
  for (const auto& header : c.addHeaders) headers.push_back(header);
  return headers;
}

std::unique_ptr<HealthProbeProtocol> makeHttp1Probe(const HealthProbeTarget& target) {
  return std::make_unique<Http1Probe>(target);
}

}  // namespace braid::dataplane::upstream
