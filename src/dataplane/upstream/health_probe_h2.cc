#include "dataplane/upstream/health_probe_h2.h"

namespace braid::dataplane::upstream {
namespace {

// Health answers are small; a body beyond this is not one (network failure).
constexpr size_t kMaxResponseBody = 64 * 1024;

}  // namespace

H2HealthProbe::H2HealthProbe(const HealthProbeTarget& target, braid::http::Headers headers,
                             std::string body)
    : tls_(target.tls.enabled),
      request_(std::move(headers)),
      body_(std::move(body)),
      session_(*this) {}

const std::string* H2HealthProbe::find(const braid::http::Headers& fields, std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (key == name) return &value;
  }
  return nullptr;
}

HealthProbeProtocol::Verdict H2HealthProbe::start(std::string& out) {
  request_.insert(request_.begin() + 1, {":scheme", tls_ ? "https" : "http"});
  stream_ = session_.submitRequest(request_, /*endStream=*/body_.empty());
  if (stream_ < 0) return HealthProbeOutcome::kNetworkFailure;
  if (!body_.empty() && !session_.sendData(stream_, body_, /*endStream=*/true)) {
    return HealthProbeOutcome::kNetworkFailure;
  }
  session_.pendingOutput(out);
  return verdict_;
}

HealthProbeProtocol::Verdict H2HealthProbe::receive(std::string_view data, std::string& out) {
  if (!session_.receive(data)) decide(HealthProbeOutcome::kNetworkFailure);
  session_.pendingOutput(out);
  return verdict_;
}

void H2HealthProbe::onResponseHeaders(int32_t id, braid::http::Headers&& headers, bool endStream) {
  if (id != stream_ || verdict_) return;
  head_ = std::move(headers);
  if (Verdict verdict = onHead(head_, endStream)) return decide(*verdict);
  if (endStream) decide(onComplete(head_, response_, {}));
}

void H2HealthProbe::onResponseData(int32_t id, std::string_view data, bool endStream) {
  if (id != stream_ || verdict_) return;
  session_.consumed(id, data.size());
  response_.append(data);
  if (response_.size() > kMaxResponseBody) return decide(HealthProbeOutcome::kNetworkFailure);
  if (endStream) decide(onComplete(head_, response_, {}));
}

void H2HealthProbe::onResponseTrailers(int32_t id, braid::http::Headers&& trailers) {
  if (id == stream_ && !verdict_) decide(onComplete(head_, response_, trailers));
}

void H2HealthProbe::onStreamReset(int32_t id, uint32_t) {
  if (id == stream_) decide(HealthProbeOutcome::kNetworkFailure);
}

void H2HealthProbe::onStreamClosed(int32_t id, uint32_t) {
  if (id == stream_) decide(HealthProbeOutcome::kNetworkFailure);  // without a complete answer
}

void H2HealthProbe::onGoAway(int32_t lastStreamId, uint32_t) {
  if (lastStreamId < stream_) decide(HealthProbeOutcome::kNetworkFailure);
}

}  // namespace braid::dataplane::upstream
