#pragma once

// One request of the HTTP/2 connection manager: a stream from the app, routed like the HTTP/1.1
// connection manager routes (the listener's RouteTable on the normalised path, redirects,
// rewrites, header modifiers, x-request-id, weighted split, MeshCircuitBreaker maxRequests),
// then sent as a stream on a pooled HTTP/2 connection to the chosen endpoint's sidecar, with the
// route's timeout over all tries, MeshRetry (per-try timeout, back-off, the retry budget),
// outlier detection fed per try, and the cluster and listener counters.
//
// Bodies stream both ways under flow control: response bytes are consumed() from the upstream
// stream only once the downstream stream's buffer is under the watermark, and request bytes
// from the downstream likewise, so a slow side holds back the other through HTTP/2 windows and
// nothing is buffered whole (server-streaming gRPC streams). Trailers pass both ways. A copy of
// at most 64 KiB of request body is kept so that a try can be sent again; a later try that
// could no longer send the whole body is answered 503 instead. Loop thread only.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/headers.h"
#include "dataplane/event/timer.h"
#include "dataplane/filters/http/http_connection.h"
#include "dataplane/filters/http/retry_state.h"
#include "dataplane/filters/http2/h1_upstream_stream.h"
#include "dataplane/filters/http2/h2_upstream_connection.h"
#include "dataplane/server/worker_config.h"
#include "dataplane/stats/request_stats.h"
#include "dataplane/upstream/outlier_detector.h"

namespace braid::dataplane::h2 {

class H2UpstreamPool;
class H2MirrorSender;

// What a request answers the app through: the downstream connection's stream `streamId`. Calls
// only queue frames (written later by the connection).
class ResponseSink {
 public:
  virtual bool respond(int32_t streamId, int status, const braid::http::Headers& headers,
                       bool endStream) = 0;
  virtual bool sendData(int32_t streamId, std::string_view bytes, bool endStream) = 0;
  virtual bool sendTrailers(int32_t streamId, const braid::http::Headers& trailers) = 0;
  virtual void resetStream(int32_t streamId, uint32_t errorCode) = 0;
  // The response ended before the app's request did: once the response's last frame is out,
  // the stream is reset with NO_ERROR (the rest of the request is not wanted). A sink with no
  // such stream (the HTTP/1.1 bridge) ignores it.
  virtual void endAfterResponse(int32_t /*streamId*/) {}
  // n request-body bytes were passed on: the app may send that much more.
  virtual void consumedRequest(int32_t streamId, size_t n) = 0;
  // Response bytes queued on the stream and not yet framed.
  virtual size_t bufferedResponse(int32_t streamId) const = 0;

 protected:
  ~ResponseSink() = default;
};

// What the requests of one worker share.
struct H2RequestContext {
  event_base* base = nullptr;
  const ListenerRuntime* listener = nullptr;
  std::shared_ptr<WorkerConfig> config;
  hcm::WorkerHttp* worker = nullptr;  // splits and random numbers, shared with HTTP/1.1
  H2UpstreamPool* pool = nullptr;
  const tcp_proxy::ProxyLimits* limits = nullptr;
  std::string sourceIp;               // the app's address (hashPolicies of type Connection)
  H2MirrorSender* mirrors = nullptr;  // RequestMirror copies (http2/grpc outbounds)
};

class H2StreamRequest final : private H2StreamClient {
 public:
  H2StreamRequest(const H2RequestContext& context, int32_t streamId, ResponseSink& sink);
  ~H2StreamRequest();
  H2StreamRequest(const H2StreamRequest&) = delete;
  H2StreamRequest& operator=(const H2StreamRequest&) = delete;

  // From the downstream stream.
  void onHeaders(braid::http::Headers&& headers, bool endStream);
  void onData(std::string_view data, bool endStream);
  void onTrailers(braid::http::Headers&& trailers);
  // The app reset the stream: the upstream stream is reset too.
  void onDownstreamReset();
  // The response bytes queued downstream were all framed: consume more from upstream.
  void onResponseDrained();

 private:
  // H2StreamClient (the current try).
  void onConnectionReady(H2UpstreamConnection& connection) override;
  void onConnectionFailed() override;
  void onConnectionBusy() override;
  void onConnectSucceeded() override;
  void onResponseHeaders(braid::http::Headers&& headers, bool endStream) override;
  void onResponseData(std::string_view data, bool endStream) override;
  void onResponseTrailers(braid::http::Headers&& trailers) override;
  void onStreamClosed(uint32_t errorCode) override;
  void onRequestDrained() override;

  void route(bool endStream);
  void startTry();
  // Opens the try's stream on `connection`, or (nullptr) sends the try as HTTP/1.1.
  void openStream(H2UpstreamConnection* connection);
  // The app behind the peer sidecar speaks HTTP/1.1 (an `http` outbound).
  bool http1Upstream() const { return context_.listener->config->protocol == "http"; }
  // The current try's stream, whichever protocol carries it.
  bool upstreamOpen() const {
    return h1_ != nullptr || (connection_ != nullptr && upstreamId_ >= 0);
  }
  void upstreamSend(std::string_view data, bool endStream);
  void upstreamTrailers(const braid::http::Headers& trailers);
  void upstreamConsumed(size_t n);
  size_t upstreamBuffered() const;
  // Detaches the HTTP/1.1 try; kept until the next one (it may be inside its own callback).
  void retireH1();
  // Gives request bytes to the upstream stream and consumes them downstream while its buffer
  // stays under the watermark.
  void forwardBody();
  // `refused`: the stream was closed with REFUSED_STREAM (MeshRetry's refused-stream).
  void retryOrFail(hcm::TryFailure failure, int status = 0, bool refused = false,
                   int grpcStatus = 0);
  void onRouteTimeout();
  // Leaves the current try's stream (reset if open) or its wait for a connection.
  void dropTry();
  // The response is over (passed whole, answered locally, or cut short): timers stop, the
  // request's time is recorded.
  void complete();
  // Leaves the cluster's upstreamRqActive (and the retry's upstreamRqRetryActive); once.
  void leaveCluster();
  // Leaves upstreamRqRetryActive: the retry is over (its try answered, or the request ended).
  void endRetry();
  void answer(int status, std::string_view message, bool timeout = false,
              const braid::http::Headers& extra = {});
  void report(upstream::UpstreamResult result);
  // `grpcStatus`: of a trailers-only answer (MeshRetry grpc), 0 otherwise.
  bool canRetry(hcm::TryFailure failure, int status, bool refused, int grpcStatus = 0) const;
  // MeshTimeout http.streamIdleTimeout / maxStreamDuration (as the HTTP/1.1 manager does).
  void armStreamTimers();
  void onStreamIdleTimer();
  void onStreamTimeout(std::string_view why);
  void noteActivity() { lastActivityUs_ = nowUs(); }
  // RequestMirror (h2_mirror.h): the copy is taken as the request arrives, sent once it ends.
  void prepareMirrors();
  void copyForMirrors(std::string_view data);
  void sendMirrors();
  int64_t nowUs() const;
  void countDownstream(int status);
  void countUpstream(int status);

  H2RequestContext context_;
  int32_t streamId_;
  RequestStats stats_;  // route counters and latency histograms, as HTTP/1.1 records them
  ResponseSink& sink_;
  event::Timer routeTimer_;
  event::Timer tryTimer_;
  event::Timer backoffTimer_;
  event::Timer streamIdleTimer_;
  event::Timer maxStreamTimer_;
  int64_t lastActivityUs_ = 0;
  std::optional<uint64_t> hash_;  // the request's key for a RingHash / Maglev cluster
  std::vector<std::string> mirrorClusters_;
  braid::http::Headers mirrorHeaders_;
  std::string mirrorBody_;

  braid::http::Headers request_;  // as the app sent it
  std::string method_;
  bool grpc_ = false;
  const Route* route_ = nullptr;
  upstream::LoadBalancer* balancer_ = nullptr;
  std::shared_ptr<ClusterCounters> cluster_;
  braid::http::Headers upstreamHeaders_;

  // The request body: `pending_` has not gone to any stream yet (and is not consumed
  // downstream); `replay_` is all of it while retries remain possible.
  std::string pending_;
  std::string replay_;
  bool replayable_ = false;
  bool bodySent_ = false;  // some body went upstream (and was consumed downstream)
  std::optional<braid::http::Headers> requestTrailers_;
  bool requestDone_ = false;      // the app ended its stream
  size_t unconsumedRequest_ = 0;  // given to the upstream stream, not yet consumed downstream

  // The current try.
  H2UpstreamConnection* connection_ = nullptr;
  bool waiting_ = false;  // for connection_ to connect
  int32_t upstreamId_ = -1;
  std::unique_ptr<H1UpstreamStream> h1_;  // or the try over HTTP/1.1
  std::unique_ptr<H1UpstreamStream> retiredH1_;
  bool firstTry_ = true;
  bool refusedRetried_ = false;
  std::vector<int> tried_;
  upstream::EndpointRequest tryLoad_;  // the current try, in its endpoint's request count
  uint32_t retries_ = 0;
  bool countedRetry_ = false;     // in the cluster's upstreamRqRetryActive
  bool leftCluster_ = false;      // no longer in its upstreamRqActive
  uint32_t busyConnections_ = 0;  // in a row, for the current try

  // The response.
  bool responseStarted_ = false;  // headers went downstream
  bool finished_ = false;         // answered (locally or the whole response passed)
  size_t unconsumedResponse_ = 0;
};

}  // namespace braid::dataplane::h2
