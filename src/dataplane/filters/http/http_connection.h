#pragma once

// The HTTP/1.1 connection manager of an HTTP listener (ADR 0006 §6): one downstream connection
// from the local app, requests parsed with the strict streaming codec and answered in order
// (keep-alive, pipelining: the next request is parsed only once the previous response is done),
// each routed through the listener's RouteTable to a cluster, an endpoint, and a pooled upstream
// HTTP/1.1 connection. Bodies stream both ways under the TCP proxy's watermarks; nothing is
// buffered whole, except a copy of a request of at most 64 KiB kept so it can be retried.
// Loop thread only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/http/http1_codec.h"
#include "dataplane/event/timer.h"
#include "dataplane/filters/http/bridge_downstream.h"
#include "dataplane/filters/http/mirror_sender.h"
#include "dataplane/filters/http/retry_state.h"
#include "dataplane/filters/http/upstream_connection.h"
#include "dataplane/filters/http/upstream_pool.h"
#include "dataplane/filters/tcp_proxy/tcp_proxy_session.h"
#include "dataplane/network/stream_socket.h"
#include "dataplane/server/worker_config.h"
#include "dataplane/stats/request_stats.h"
#include "dataplane/upstream/outlier_detector.h"
#include "dataplane/upstream/split_sequence.h"

struct evbuffer;

namespace braid::dataplane::h2 {
class H2UpstreamPool;
class H2MirrorSender;
}  // namespace braid::dataplane::h2

namespace braid::dataplane::hcm {

class Http2Bridge;

// What a worker shares between its HTTP connections.
struct WorkerHttp {
  UpstreamPool pool;
  MirrorSender mirrors;  // after the pool: its requests go before the connections they reuse
  // The worker's HTTP/2 upstream pool: HTTP/1.1 requests to http2/grpc outbounds go there as
  // streams (h2_bridge.h).
  h2::H2UpstreamPool* h2Pool = nullptr;
  h2::H2MirrorSender* h2Mirrors = nullptr;
  std::mt19937_64 random{std::random_device{}()};

  upstream::SplitSequence splits;  // weighted route splits
};

class HttpConnection final : private network::StreamSocket::Handler,
                             private UpstreamConnection::Client,
                             private BridgeDownstream {
 public:
  class Owner {
   public:
    // Called as the connection's last action; destroying it inside is expected.
    virtual void onHttpConnectionClosed(HttpConnection& connection) = 0;
    // The caller speaks HTTP/2 with prior knowledge, which this connection manager does not
    // serve: carry the connection on through `route` (of `config`) with the HTTP/2 connection
    // manager (filters/http2/; the worker falls back to an L4 proxy), `received` (the bytes
    // already read) first. Called as the connection's last action, instead of
    // onHttpConnectionClosed; destroying it inside is expected.
    virtual void onHandOverToTcpProxy(HttpConnection& connection, network::UniqueFd socket,
                                      std::string received, const ListenerRoute& route,
                                      std::shared_ptr<WorkerConfig> config) = 0;

   protected:
    ~Owner() = default;
  };

  // `listener` has an `http` configuration and belongs to `config`, which the connection keeps.
  HttpConnection(event_base* base, network::UniqueFd downstream, const ListenerRuntime& listener,
                 std::shared_ptr<WorkerConfig> config, WorkerHttp& worker, Owner& owner,
                 const tcp_proxy::ProxyLimits& limits);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void start();
  size_t bufferedBytes() const;
  // The proxy is draining (SIGTERM): an idle connection closes now, a busy one after its current
  // response, which says `Connection: close` (Envoy's HTTP/1.1 drain).
  void drain();

 private:
  // Downstream.
  void onReadable(network::StreamSocket& socket) override;
  void onWritable(network::StreamSocket& socket) override;
  // Upstream.
  void onUpstreamConnected(UpstreamConnection& connection) override;
  void onUpstreamConnectFailed(UpstreamConnection& connection) override;
  void onUpstreamReadable(UpstreamConnection& connection) override;
  void onUpstreamWritable(UpstreamConnection& connection) override;

  void processInput();
  // false: the input did not start with the HTTP/2 preface (true: answered, or more is needed).
  bool handlePreface(bool& needMore);
  void onRequestHead();
  void forwardRequestBody(std::string_view framed);
  void onRequestComplete();
  void startTry();
  // Sends the request (or, on a retry, its copy) on a connected connection.
  void sendOnConnection(UpstreamConnection& connection);
  void retryOrFail(TryFailure failure, int status = 0);
  // Parses what the upstream sent (parseResponse), then writes it downstream in one go.
  void processResponse();
  void parseResponse();
  void sendResponseHead();
  void onResponseComplete();
  // A local answer to the current request (or, outside one, to the connection).
  void answer(int status, std::string_view body, bool close,
              const braid::http::Headers& extra = {});
  void answerRedirect(const std::string& normalized);
  void endRequest();
  void beginClose();
  void onRouteTimeout();
  void onStreamTimeout(std::string_view why);
  void armStreamTimers();
  void onStreamIdleTimer();
  // Bytes of the current request or its response moved (MeshTimeout streamIdleTimeout).
  void noteStreamActivity() { lastActivityUs_ = nowUs(); }
  int64_t nowUs() const;
  void dropUpstream();
  void endPending();
  void flushDownstream();
  void flushUpstream();
  size_t upstreamBacklog() const;
  void updateDownstreamReading();
  void countDownstream(int status);
  void countUpstream(int status);
  void finishIfDead();
  // Tells the cluster's outlier detector how the current try's endpoint did.
  void report(upstream::UpstreamResult result);
  // WebSocket (http_tunnel.cc): after the upstream's 101, bytes pass both ways untouched.
  void enterTunnel();
  void tunnelFromDownstream();
  void tunnelFromUpstream();
  void tunnelCheckDone();
  // HTTP/1.1 request to an http2/grpc outbound (http_h2_bridge.cc): false when it cannot be.
  bool startBridge(bool hasBody);
  void bridgeWrite(std::string_view bytes) override;
  size_t bridgeBuffered() const override;
  void bridgeConsumed(size_t n) override;
  void bridgeDone(bool clean) override;
  // Follow-up of the bridge's events, outside its calls (they come from the HTTP/2 pool too).
  void onBridgeTimer();
  // RequestMirror (once the request is complete).
  void prepareMirrors(const http1::MessageHead& upstreamRequest);
  void sendMirrors();

  const tcp_proxy::ProxyLimits& limits_;
  event_base* base_;
  const ListenerRuntime& listener_;
  std::shared_ptr<WorkerConfig> config_;
  WorkerHttp& worker_;
  Owner& owner_;
  // The caller's IP, for hashPolicies of type Connection (read before downstream_ takes the fd).
  std::string sourceIp_;
  network::StreamSocket downstream_;
  http1::Parser parser_{http1::Parser::Kind::kRequest};
  evbuffer* in_ = nullptr;       // downstream bytes not parsed yet
  evbuffer* pending_ = nullptr;  // request bytes waiting for an upstream connection
  evbuffer* upIn_ = nullptr;     // upstream bytes not parsed yet
  event::Timer routeTimer_;
  event::Timer tryTimer_;
  event::Timer backoffTimer_;
  event::Timer lingerTimer_;
  // MeshTimeout http.streamIdleTimeout (re-armed as the request's bytes move either way) and
  // maxStreamDuration: 408 before the response starts, the connection cut after.
  event::Timer streamIdleTimer_;
  event::Timer maxStreamTimer_;
  int64_t lastActivityUs_ = 0;
  std::unique_ptr<Http2Bridge> bridge_;  // the current request goes as an HTTP/2 stream
  event::Timer bridgeTimer_;
  bool bridgeFinished_ = false;
  bool bridgeClean_ = false;  // an upgraded connection with no bytes either way is closed
  bool dead_ = false;
  bool closing_ = false;   // no more requests: flush, half-close, wait for the caller's close
  bool draining_ = false;  // drain(): the current response is the last
  bool downstreamBlocked_ = false;
  bool upstreamBlocked_ = false;

  // The current request.
  bool inRequest_ = false;
  bool requestDone_ = false;      // the whole request was read
  bool localAnswered_ = false;    // answered by the proxy: the rest of the request is dropped
  bool responseStarted_ = false;  // a response head went downstream
  bool closeAfterResponse_ = false;
  bool downstreamChunked_ = false;
  bool interim_ = false;  // the upstream response being parsed is a 1xx
  bool upstreamEof_ = false;
  bool upstreamError_ = false;
  bool eofNoted_ = false;  // the response parser was told of upstreamEof_
  bool firstTry_ = true;
  bool upgrading_ = false;     // the request asks for a WebSocket upgrade (never pooled or retried)
  bool tunnel_ = false;        // upgraded: the connection is an opaque byte tunnel until it closes
  bool startPending_ = false;  // routed; the first try starts after the input at hand is parsed
  http1::MessageHead request_;
  const Route* route_ = nullptr;
  upstream::LoadBalancer* balancer_ = nullptr;
  std::shared_ptr<ClusterCounters> cluster_;
  RequestStats requestStats_;  // the current request's route counters and latencies
  bool countedRetry_ = false;
  std::string upstreamHead_;
  bool replayable_ = false;
  // RequestMirror: the clusters this request is copied to, and the copy (head with the shadow
  // Host, then the body as it arrives, up to 64 KiB; a larger request is not mirrored).
  std::vector<std::string> mirrorClusters_;
  std::string mirrorCopy_;
  std::string replay_;  // head and body so far, while retries remain possible
  uint32_t retries_ = 0;
  bool tryReused_ = false;       // the current try runs on a pooled connection
  bool pendingCounted_ = false;  // the try waits for a new connection (upstreamRqPendingActive)
  bool staleRetried_ = false;    // sent again once after a pooled connection turned out closed
  std::vector<int> tried_;
  upstream::EndpointRequest tryLoad_;  // the current try, in its endpoint's request count
  std::optional<uint64_t> hash_;       // the request's key for a RingHash / Maglev cluster
  std::unique_ptr<UpstreamConnection> upstream_;
  std::optional<http1::Parser> response_;
  // Set when the connection goes on as an L4 proxy (HTTP/2 prior knowledge).
  const ListenerRoute* handOverRoute_ = nullptr;
  network::UniqueFd handOverFd_;
  std::string handOverBytes_;
};

}  // namespace braid::dataplane::hcm
