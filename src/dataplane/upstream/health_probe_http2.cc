// Envoy's HTTP health checker with codec HTTP2 (Kuma's choice for `http2` services): the GET of
// health_probe_http1.cc over HTTP/2 (h2c with prior knowledge, or h2 inside the probe's mTLS
// stream; health_probe_h2.h). Healthy when :status is one of `expectedStatuses`; decided on the
// response head.

#include <algorithm>
#include <cctype>

#include "dataplane/upstream/health_probe_h2.h"

namespace braid::dataplane::upstream {
namespace {

braid::http::Headers request(const HealthProbeTarget& target) {
  braid::http::Headers headers = {{":method", "GET"}};
  std::string authority = target.host;
  braid::http::Headers fields;
  for (auto& [name, value] : healthCheckHeaders(target)) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "host") {
      authority = value;  // a policy's `set` of Host changes the authority
    } else {
      fields.emplace_back(std::move(lower), std::move(value));
    }
  }
  headers.emplace_back(":authority", authority);
  headers.emplace_back(":path", target.config.path);
  headers.insert(headers.end(), fields.begin(), fields.end());
  return headers;
}

class Http2Probe final : public H2HealthProbe {
 public:
  explicit Http2Probe(const HealthProbeTarget& target)
      : H2HealthProbe(target, request(target), ""), expected_(target.config.expectedStatuses) {}

 private:
  Verdict onHead(const braid::http::Headers& head, bool) override {
    const std::string* status = find(head, ":status");
    if (status == nullptr || status->size() != 3) return HealthProbeOutcome::kNetworkFailure;
    uint32_t code = 0;
    for (char c : *status) {
      if (c < '0' || c > '9') return HealthProbeOutcome::kNetworkFailure;
      code = code * 10 + static_cast<uint32_t>(c - '0');
    }
    return std::find(expected_.begin(), expected_.end(), code) != expected_.end()
               ? HealthProbeOutcome::kSuccess
               : HealthProbeOutcome::kActiveFailure;
  }
  HealthProbeOutcome onComplete(const braid::http::Headers&, std::string_view,
                                const braid::http::Headers&) override {
    return HealthProbeOutcome::kNetworkFailure;  // not reached: onHead always decides
  }

  const std::vector<uint32_t> expected_;
};

}  // namespace

std::unique_ptr<HealthProbeProtocol> makeHttp2Probe(const HealthProbeTarget& target) {
  return std::make_unique<Http2Probe>(target);
}

}  // namespace braid::dataplane::upstream
