#pragma once

// One request over a new HTTP/2 connection for a health-check probe (h2c with prior knowledge,
// or h2 inside the probe's mTLS stream), through braid_http2's H2ClientSession: what the gRPC and
// the HTTP/2 probes share. Subclasses judge the response. Loop thread only.

#include <string>
#include <string_view>

#include "common/http/headers.h"
#include "dataplane/http2/h2_client_session.h"
#include "dataplane/upstream/health_probe_protocol.h"

namespace braid::dataplane::upstream {

class H2HealthProbe : public HealthProbeProtocol, private http2::H2ClientSession::Handler {
 public:
  Verdict start(std::string& out) final;
  Verdict receive(std::string_view data, std::string& out) final;

 protected:
  // `headers`: the request head (:method, :path, :authority and the rest; :scheme is added);
  // `body`: sent after it ("" : the request ends with its head).
  H2HealthProbe(const HealthProbeTarget& target, braid::http::Headers headers, std::string body);

  // The response head; a verdict ends the probe (nullopt: read on). `endStream`: no body or
  // trailers follow.
  virtual Verdict onHead(const braid::http::Headers& head, bool endStream) = 0;
  // The response ended: its head, the body (bounded) and trailers (empty when none).
  virtual HealthProbeOutcome onComplete(const braid::http::Headers& head, std::string_view body,
                                        const braid::http::Headers& trailers) = 0;

  static const std::string* find(const braid::http::Headers& fields, std::string_view name);

 private:
  void decide(HealthProbeOutcome outcome) {
    if (!verdict_) verdict_ = outcome;
  }
  void onResponseHeaders(int32_t id, braid::http::Headers&& headers, bool endStream) override;
  void onResponseData(int32_t id, std::string_view data, bool endStream) override;
  void onResponseTrailers(int32_t id, braid::http::Headers&& trailers) override;
  void onStreamReset(int32_t id, uint32_t errorCode) override;
  void onStreamClosed(int32_t id, uint32_t errorCode) override;
  void onGoAway(int32_t lastStreamId, uint32_t errorCode) override;

  const bool tls_;
  braid::http::Headers request_;
  std::string body_;
  http2::H2ClientSession session_;
  int32_t stream_ = -1;
  braid::http::Headers head_;
  std::string response_;
  Verdict verdict_;
};

}  // namespace braid::dataplane::upstream
