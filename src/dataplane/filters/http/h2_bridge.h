#pragma once

// An HTTP/1.1 request to an http2 or grpc outbound (ADR 0006 §4): the app behind the peer
// sidecar speaks only HTTP/2, so the HTTP/1.1 connection manager hands the request to the HTTP/2
// manager's per-stream logic (h2::H2StreamRequest: routing, retries, timeouts, the HTTP/2 pool)
// as a stream, and writes the stream's response back as HTTP/1.1 (Content-Length when the
// upstream gave one, else chunked with trailers, or close-delimited for an HTTP/1.0 caller).
// Envoy does the same for a cluster with HTTP/2 protocol options. Loop thread only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/http1_codec.h"
#include "dataplane/filters/http/bridge_downstream.h"
#include "dataplane/filters/http2/h2_stream_request.h"

namespace braid::dataplane::hcm {

class Http2Bridge final : private h2::ResponseSink {
 public:
  // `request` is the caller's head; `closeAfter`: the caller's connection closes after this
  // response (so the framing may be close-delimited and says so).
  Http2Bridge(const h2::H2RequestContext& context, BridgeDownstream& downstream,
              const http1::MessageHead& request, bool closeAfter);
  ~Http2Bridge();
  Http2Bridge(const Http2Bridge&) = delete;
  Http2Bridge& operator=(const Http2Bridge&) = delete;

  void start(bool endStream);
  void body(std::string_view piece);
  void end(const braid::http::Headers& trailers);
  // The caller's connection drained its output: more of the response may be taken.
  void drained();

  // Request body bytes given to the stream and not yet passed on upstream.
  size_t unconsumed() const { return given_ - consumed_; }
  bool responseStarted() const { return responseStarted_; }
  // The caller's connection must close after this response (HTTP/1.0 close-delimited body).
  bool closesConnection() const { return closeAfter_; }

 private:
  bool respond(int32_t streamId, int status, const braid::http::Headers& headers,
               bool endStream) override;
  bool sendData(int32_t streamId, std::string_view bytes, bool endStream) override;
  bool sendTrailers(int32_t streamId, const braid::http::Headers& trailers) override;
  void resetStream(int32_t streamId, uint32_t errorCode) override;
  void consumedRequest(int32_t streamId, size_t n) override;
  size_t bufferedResponse(int32_t streamId) const override;

  void finish(bool clean);

  BridgeDownstream& downstream_;
  const http1::MessageHead& request_;
  bool closeAfter_;
  std::unique_ptr<h2::H2StreamRequest> stream_;
  bool responseStarted_ = false;
  bool chunked_ = false;
  bool noBody_ = false;  // HEAD, 204, 304
  bool done_ = false;
  // A Content-Length body: what it declared and what was written. A response that ends short
  // of it cannot leave the caller's connection usable (the caller would read the next response
  // as the rest of this one).
  std::optional<uint64_t> declared_;
  uint64_t written_ = 0;
  size_t given_ = 0;
  size_t consumed_ = 0;
};

}  // namespace braid::dataplane::hcm
