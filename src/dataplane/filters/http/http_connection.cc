#include "dataplane/filters/http/http_connection.h"

#include <event2/buffer.h>
#include <event2/event.h>

#include <cstring>
#include <exception>

#include "common/http/http1_syntax.h"
#include "common/log.h"
#include "dataplane/filters/http/h2_bridge.h"
#include "dataplane/filters/http/header_rules.h"
#include "dataplane/filters/http/local_reply.h"
#include "dataplane/filters/http/redirect_location.h"
#include "dataplane/filters/http/request_hash.h"
#include "dataplane/http/route_matcher.h"
#include "dataplane/network/socket_ops.h"
#include "dataplane/upstream/outlier_detector.h"

namespace braid::dataplane::hcm {
namespace {

// A request up to this size (head and body) is kept so that it can be sent again on a retry;
// a larger one is streamed only, and not retried.
constexpr size_t kMaxReplayBytes = 64 * 1024;
// After the last answer: how long the caller has to read it and close before the proxy does
// (closing first with unread input would reset the connection and could lose the answer).
constexpr std::chrono::milliseconds kLinger{2000};
constexpr int kReadsPerEvent = 4;
constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n";

void increment(std::atomic<uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }
void decrement(std::atomic<uint64_t>& counter) { counter.fetch_sub(1, std::memory_order_relaxed); }

// RFC 9110 §9.2.2: sending these twice has the effect of sending them once.
bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}

std::string_view view(evbuffer* buffer) {
  size_t length = evbuffer_get_length(buffer);
  if (length == 0) return {};
  return {reinterpret_cast<const char*>(evbuffer_pullup(buffer, -1)), length};
}

}  // namespace

HttpConnection::HttpConnection(event_base* base, network::UniqueFd downstream,
                               const ListenerRuntime& listener,
                               std::shared_ptr<WorkerConfig> config, WorkerHttp& worker,
                               Owner& owner, const tcp_proxy::ProxyLimits& limits)
    : limits_(limits),
      base_(base),
      listener_(listener),
      config_(std::move(config)),
      worker_(worker),
      owner_(owner),
      sourceIp_(network::peerIp(downstream.get())),
      downstream_(base, std::move(downstream), *this),
      routeTimer_(base,
                  [this] {
                    onRouteTimeout();
                    finishIfDead();
                  }),
      tryTimer_(base,
                [this] {
                  retryOrFail(TryFailure::kTimeout);
                  if (!inRequest_) processInput();
                  finishIfDead();
                }),
      backoffTimer_(base,
                    [this] {
                      startTry();
                      if (!inRequest_) processInput();
                      finishIfDead();
                    }),
      lingerTimer_(base,
                   [this] {
                     dead_ = true;
                     finishIfDead();
                   }),
      streamIdleTimer_(base,
                       [this] {
                         onStreamIdleTimer();
                         finishIfDead();
                       }),
      maxStreamTimer_(base,
                      [this] {
                        onStreamTimeout("max stream duration reached");
                        finishIfDead();
                      }),
      bridgeTimer_(base, [this] {
        onBridgeTimer();
        finishIfDead();
      }) {
  in_ = evbuffer_new();
  pending_ = evbuffer_new();
  upIn_ = evbuffer_new();
  if (in_ == nullptr || pending_ == nullptr || upIn_ == nullptr) {
    if (in_ != nullptr) evbuffer_free(in_);
    if (pending_ != nullptr) evbuffer_free(pending_);
    if (upIn_ != nullptr) evbuffer_free(upIn_);
    throw std::bad_alloc();
  }
  increment(listener_.counters->connectionsTotal);
  increment(listener_.counters->connectionsActive);
}

HttpConnection::~HttpConnection() {
  endRequest();
  decrement(listener_.counters->connectionsActive);
  evbuffer_free(in_);
  evbuffer_free(pending_);
  evbuffer_free(upIn_);
}

void HttpConnection::start() { downstream_.setReadEnabled(true); }

void HttpConnection::drain() {
  if (draining_ || dead_) return;
  draining_ = true;
  if (!inRequest_ && !tunnel_) {
    beginClose();
    // Called outside this connection's events: what follows (the linger, a failed write) goes
    // through its timer.
    lingerTimer_.schedule(dead_ ? std::chrono::milliseconds(0) : kLinger);
  }
}

size_t HttpConnection::bufferedBytes() const {
  return downstream_.outputLength() + evbuffer_get_length(in_) + evbuffer_get_length(pending_) +
         evbuffer_get_length(upIn_) +
         (upstream_ && upstream_->connected() ? upstream_->socket().outputLength() : 0);
}

void HttpConnection::finishIfDead() {
  if (!dead_) return;
  if (handOverRoute_ != nullptr) {
    owner_.onHandOverToTcpProxy(*this, std::move(handOverFd_), std::move(handOverBytes_),
                                *handOverRoute_, config_);  // destroys this
    return;
  }
  owner_.onHttpConnectionClosed(*this);  // destroys this
}

// ---- downstream ----

void HttpConnection::onReadable(network::StreamSocket&) {
  for (int reads = 0; reads < kReadsPerEvent; ++reads) {
    size_t count = 0;
    auto io = downstream_.readInto(in_, limits_.readSize, count);
    if (io == network::StreamSocket::Io::kError) {
      dead_ = true;
      break;
    }
    listener_.counters->bytesReceived.fetch_add(count, std::memory_order_relaxed);
    if (io != network::StreamSocket::Io::kOk || count < limits_.readSize) break;
    if (evbuffer_get_length(in_) > limits_.highWatermark) break;
  }
  if (tunnel_) {
    if (!dead_) tunnelFromDownstream();
  } else if (closing_) {
    // Nothing more is served: what the caller still sends is dropped until it closes.
    evbuffer_drain(in_, evbuffer_get_length(in_));
    if (downstream_.readClosed() && downstream_.outputLength() == 0) dead_ = true;
  } else if (!dead_) {
    processInput();
  }
  finishIfDead();
}

void HttpConnection::onWritable(network::StreamSocket&) {
  flushDownstream();
  if (bridge_ && !dead_ && downstream_.outputLength() <= limits_.lowWatermark) bridge_->drained();
  if (tunnel_) {
    if (!dead_ && upstream_ && !upstream_->socket().readEnabled() &&
        !upstream_->socket().readClosed() && downstream_.outputLength() <= limits_.lowWatermark) {
      upstream_->socket().setReadEnabled(true);
    }
    if (!dead_) tunnelCheckDone();
    finishIfDead();
    return;
  }
  if (!dead_ && upstreamBlocked_ && downstream_.outputLength() <= limits_.lowWatermark) {
    upstreamBlocked_ = false;
    if (upstream_ && upstream_->connected()) upstream_->socket().setReadEnabled(true);
    processResponse();
  }
  finishIfDead();
}

void HttpConnection::flushDownstream() {
  if (dead_) return;
  size_t count = 0;
  auto io = downstream_.flush(count);
  listener_.counters->bytesSent.fetch_add(count, std::memory_order_relaxed);
  if (count > 0) noteStreamActivity();
  if (io == network::StreamSocket::Io::kError) {
    dead_ = true;
    return;
  }
  if (closing_ && downstream_.outputLength() == 0) {
    if (downstream_.readClosed()) {
      dead_ = true;
    } else if (!downstream_.writeClosed() && !downstream_.shutdownWrite()) {
      dead_ = true;
    }
  }
}

void HttpConnection::beginClose() {
  if (closing_) return;
  closing_ = true;
  lingerTimer_.schedule(kLinger);
  downstream_.setReadEnabled(!downstream_.readClosed());
  evbuffer_drain(in_, evbuffer_get_length(in_));
  flushDownstream();
}

void HttpConnection::updateDownstreamReading() {
  if (dead_) return;
  // While a response is awaited, reading stays on (switching it off and on per request costs
  // two epoll_ctl calls); a pipelined next request just waits in in_, up to the watermark.
  const bool awaiting = inRequest_ && requestDone_;
  bool want = !closing_ && !downstreamBlocked_ &&
              !(awaiting && evbuffer_get_length(in_) > limits_.highWatermark) &&
              !downstream_.readClosed();
  if (closing_) want = !downstream_.readClosed();
  if (downstream_.readEnabled() != want) downstream_.setReadEnabled(want);
}

bool HttpConnection::handlePreface(bool& needMore) {
  needMore = false;
  std::string_view input = view(in_);
  size_t compare = std::min(input.size(), kH2Preface.size());
  if (input.substr(0, compare) != kH2Preface.substr(0, compare)) return false;
  if (compare < kH2Preface.size()) {
    needMore = true;
    return true;
  }
  // HTTP/2 with prior knowledge (CONTRACT §6: accepted on an HTTP outbound) is the HTTP/2
  // connection manager's (ADR 0006): the owner hands the connection over with what was read.
  auto route = config_->routes.find(listener_.addressKey);
  if (route == config_->routes.end() || inRequest_) {
    answer(501, "HTTP/2 is not supported on this listener yet", true);
    return true;
  }
  handOverBytes_.resize(evbuffer_get_length(in_));
  evbuffer_remove(in_, handOverBytes_.data(), handOverBytes_.size());
  handOverFd_ = downstream_.releaseFd();
  handOverRoute_ = &route->second;
  dead_ = true;
  return true;
}

void HttpConnection::processInput() {
  while (!dead_ && !closing_) {
    if (inRequest_ && requestDone_) break;  // pipelined requests wait for this response
    if (inRequest_ && !localAnswered_ && upstreamBacklog() > limits_.highWatermark) {
      downstreamBlocked_ = true;
      break;
    }
    if (parser_.idle()) {
      if (evbuffer_get_length(in_) == 0) break;
      if (!inRequest_) {
        bool needMore = false;
        if (handlePreface(needMore)) {
          if (needMore) break;
          return;
        }
      }
    }
    std::string_view input = view(in_);
    const size_t length = input.size();
    auto event = parser_.next(input);
    const size_t consumed = length - input.size();
    switch (event) {
      case http1::Parser::Event::kNeedMore:
        evbuffer_drain(in_, consumed);
        goto out;
      case http1::Parser::Event::kHead:
        evbuffer_drain(in_, consumed);
        onRequestHead();
        break;
      case http1::Parser::Event::kBody: {
        std::string_view piece = parser_.body();
        if (bridge_) {
          bridge_->body(piece);
        } else if (!localAnswered_) {
          noteStreamActivity();
          if (request_.chunked) {
            std::string framed;
            http1::appendChunk(piece, framed);
            forwardRequestBody(framed);
          } else {
            forwardRequestBody(piece);
          }
        }
        evbuffer_drain(in_, consumed);
        break;
      }
      case http1::Parser::Event::kTrailers:
        evbuffer_drain(in_, consumed);
        break;
      case http1::Parser::Event::kComplete:
        evbuffer_drain(in_, consumed);
        onRequestComplete();
        break;
      case http1::Parser::Event::kUpgraded:
        evbuffer_drain(in_, evbuffer_get_length(in_));
        answer(501, "protocol upgrades are not supported yet", true);
        return;
      case http1::Parser::Event::kError:
        // ADR 0003: the error is final; nothing of this request went or goes upstream.
        evbuffer_drain(in_, evbuffer_get_length(in_));
        if (inRequest_ && responseStarted_) {
          dead_ = true;
          return;
        }
        dropUpstream();
        answer(parser_.error().status, parser_.error().reason, true);
        return;
    }
  }
out:
  if (dead_ || closing_) return;
  if (startPending_ && inRequest_) {
    startPending_ = false;
    startTry();
    if (dead_ || closing_ || !inRequest_) {
      if (!dead_ && !closing_) processInput();  // answered locally: the next request
      return;
    }
  }
  if (downstream_.readClosed()) {
    if (!inRequest_ && parser_.idle() && evbuffer_get_length(in_) == 0) {
      beginClose();
    } else if (inRequest_ && !requestDone_ && !downstreamBlocked_ &&
               evbuffer_get_length(in_) == 0) {
      // Everything the caller sent is parsed and the request is still short of its end: it was
      // cut short, and nothing sensible can be answered.
      dead_ = true;
      return;
    } else if (!inRequest_) {
      beginClose();  // a partial request head: dropped
    }
  }
  updateDownstreamReading();
}

void HttpConnection::onRequestHead() {
  http1::Headers headers = parser_.takeHeaders();  // moved, not copied: forwarded as they are
  request_ = parser_.head();
  request_.headers = std::move(headers);
  inRequest_ = true;
  requestStats_.begin(*listener_.counters);
  requestDone_ = false;
  const bool hasBody = request_.chunked || request_.contentLength.value_or(0) > 0;
  std::string upgradeProtocol;
  if (request_.upgrade) {
    if (request_.method == "CONNECT") {
      answer(501, "CONNECT is not supported", true);
      return;
    }
    upgradeProtocol = headerValue(request_.headers, "upgrade");
    if (http1::syntax::equalsIgnoreCase(upgradeProtocol, "websocket")) {
      if (hasBody) {
        // RFC 6455 handshakes have none, and a body would leave the tunnel's first bytes
        // ambiguous (parsed body or raw tunnel) if the 101 came before its end.
        answer(400, "upgrade request with a body", true);
        return;
      }
      // Passed through on a connection of its own (ADR 0006 §3), opaque after the 101.
      upgrading_ = true;
    } else if (!http1::syntax::equalsIgnoreCase(upgradeProtocol, "h2c")) {
      // As Envoy's default: only WebSocket is upgraded. An h2c upgrade is served as the plain
      // HTTP/1.1 request it also is (Upgrade is hop-by-hop and dropped below).
      answer(403, "upgrade not allowed", true);
      return;
    }
  }
  const std::string& protocol = listener_.config->protocol;
  if (!upgrading_ && (protocol == "http2" || protocol == "grpc") && startBridge(hasBody)) return;
  std::string host(headerValue(request_.headers, "host"));
  http::RequestView requestView{request_.method, request_.target, host, request_.headers};
  std::string normalized;
  route_ = http::matchRoute(listener_.config->http->routes, requestView, normalized);
  requestStats_.routed(listener_.countersOf(route_));
  if (route_ == nullptr) {
    answer(404, "no route", hasBody);
    return;
  }
  if (route_->isRedirect) {
    answerRedirect(normalized);
    return;
  }
  const RouteAction& action = route_->action;
  const std::string& clusterName =
      http::pickCluster(action, worker_.splits.next(&action, action.totalWeight));
  auto balancer = config_->balancers.find(clusterName);
  if (clusterName.empty() || balancer == config_->balancers.end()) {
    answer(503, "no healthy upstream", hasBody);
    return;
  }
  // MeshCircuitBreaker maxRequests: past it the caller is answered at once, as Envoy's overflow
  // does, instead of queueing on an upstream that is already saturated.
  const upstream::ClusterRuntime& target = balancer->second->cluster();
  const uint32_t maxRequests = target.config->circuitBreaker.maxRequests;
  if (maxRequests > 0 &&
      target.counters->upstreamRqActive.load(std::memory_order_relaxed) >= maxRequests) {
    increment(target.counters->upstreamRqOverflow);
    answer(503, "upstream overflow", hasBody);
    return;
  }
  balancer_ = balancer->second.get();
  cluster_ = balancer_->cluster().counters;
  if (balancer_->hashing()) {
    hash_ =
        requestHash(target.config->hashPolicies, {request_.headers, request_.target, sourceIp_});
  }
  increment(cluster_->upstreamRqActive);

  http1::MessageHead up;
  up.method = request_.method;
  up.target = rewriteTarget(normalized, route_->match, action.rewrite.path, action.rewrite.value);
  up.minorVersion = 1;
  up.headers = std::move(request_.headers);  // not read again for this request
  removeHopByHop(up.headers);
  std::erase_if(up.headers, [](const auto& field) { return field.first == "expect"; });
  if (!action.rewrite.host.empty()) setHeader(up.headers, "host", action.rewrite.host);
  if (headerValue(up.headers, "host").empty()) {
    setHeader(up.headers, "host", balancer_->cluster().config->service);
  }
  applyHeaderMods(up.headers, route_->requestHeaders);
  if (upgrading_) {
    up.headers.emplace_back("connection", "upgrade");
    up.headers.emplace_back("upgrade", upgradeProtocol);
  }
  if (headerValue(up.headers, "x-request-id").empty()) {
    up.headers.emplace_back("x-request-id", makeRequestId(worker_.random(), worker_.random()));
  }
  if (request_.chunked) {
    up.headers.emplace_back("transfer-encoding", "chunked");
  } else if (request_.contentLength) {
    up.headers.emplace_back("content-length", std::to_string(*request_.contentLength));
  }
  upstreamHead_.clear();
  http1::appendRequestHead(up, upstreamHead_);
  if (!action.mirrors.empty() && !upgrading_) prepareMirrors(up);
  // Kept (up to 64 KiB) for MeshRetry, and for an idempotent request whose pooled connection
  // turns out to be closed by the upstream.
  replayable_ = !upgrading_ && ((action.retry.enabled && action.retry.numRetries > 0) ||
                                idempotent(request_.method));
  if (replayable_) replay_ = upstreamHead_;
  firstTry_ = true;
  if (request_.expectContinue) {
    // The proxy asks for the body itself (the upstream never sees the Expect).
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    evbuffer_add(downstream_.output(), kContinue.data(), kContinue.size());
    flushDownstream();
  }
  if (action.timeout.count() > 0) routeTimer_.schedule(action.timeout);
  armStreamTimers();
  // The first try starts once the input at hand is parsed: a request whose body is malformed
  // in the same read never reaches the upstream (not even its head).
  startPending_ = true;
}

void HttpConnection::answerRedirect(const std::string& normalized) {
  std::string location = redirectLocation(route_->redirect, route_->match,
                                          headerValue(request_.headers, "host"), normalized);
  const bool hasBody = request_.chunked || request_.contentLength.value_or(0) > 0;
  answer(route_->redirect.status, "", hasBody, {{"location", location}});
}

void HttpConnection::forwardRequestBody(std::string_view framed) {
  if (!mirrorClusters_.empty()) {
    if (mirrorCopy_.size() + framed.size() > kMaxReplayBytes) {
      mirrorClusters_.clear();
      std::string().swap(mirrorCopy_);
    } else {
      mirrorCopy_.append(framed);
    }
  }
  if (replayable_) {
    if (replay_.size() + framed.size() > kMaxReplayBytes) {
      replayable_ = false;  // too large to keep: streamed only, never retried
      std::string().swap(replay_);
    } else {
      replay_.append(framed);
    }
  }
  if (upstream_ && upstream_->connected()) {
    evbuffer_add(upstream_->socket().output(), framed.data(), framed.size());
    flushUpstream();
  } else {
    evbuffer_add(pending_, framed.data(), framed.size());
  }
}

void HttpConnection::onRequestComplete() {
  if (localAnswered_) {
    endRequest();
    return;
  }
  if (bridge_) {
    requestDone_ = true;
    bridge_->end(parser_.trailers());
    return;
  }
  if (request_.chunked) {
    std::string last;
    http1::appendLastChunk(parser_.trailers(), last);
    forwardRequestBody(last);
  }
  requestDone_ = true;
  sendMirrors();
}

size_t HttpConnection::upstreamBacklog() const {
  if (bridge_) return bridge_->unconsumed();
  if (upstream_ && upstream_->connected()) return upstream_->socket().outputLength();
  return evbuffer_get_length(pending_);
}

void HttpConnection::flushUpstream() {
  if (!upstream_ || !upstream_->connected()) return;
  size_t count = 0;
  auto io = upstream_->socket().flush(count);
  cluster_->bytesSent.fetch_add(count, std::memory_order_relaxed);
  if (count > 0) noteStreamActivity();
  if (io == network::StreamSocket::Io::kError) upstreamError_ = true;
}

// ---- upstream ----

void HttpConnection::startTry() {
  if (dead_ || !inRequest_) return;
  int index = balancer_->pick(tried_, hash_);
  if (index < 0) {
    if (tried_.empty()) increment(cluster_->noHealthyEndpoint);
    answer(503, "no healthy upstream", !requestDone_);
    return;
  }
  tried_.push_back(index);
  const auto& cluster = balancer_->cluster();
  tryLoad_.hold(cluster.endpoints[static_cast<size_t>(index)].counters);
  std::string key = UpstreamPool::key(cluster, static_cast<size_t>(index));
  const RetryPolicy& retry = route_->action.retry;
  if (retry.enabled && retry.perTryTimeout.count() > 0) tryTimer_.schedule(retry.perTryTimeout);
  // An upgrade gets a connection of its own: it becomes a tunnel and never returns to the pool.
  if (!upgrading_) upstream_ = worker_.pool.take(key, *this, cluster.config->idleTimeout);
  tryReused_ = upstream_ != nullptr;
  if (upstream_) {
    // Called from within processInput() or a timer: no re-entry into the input here.
    sendOnConnection(*upstream_);
    return;
  }
  // MeshCircuitBreaker maxPendingRequests: requests waiting for a connection of their own. Past
  // the limit the caller is answered at once, as Envoy's pending overflow is.
  const uint32_t maxPending = cluster.config->circuitBreaker.maxPendingRequests;
  const uint64_t pending =
      cluster_->upstreamRqPendingActive.fetch_add(1, std::memory_order_relaxed);
  if (maxPending > 0 && pending >= maxPending) {
    decrement(cluster_->upstreamRqPendingActive);
    increment(cluster_->upstreamRqPendingOverflow);
    answer(503, "upstream overflow", !requestDone_);
    return;
  }
  pendingCounted_ = true;
  try {
    upstream_ = std::make_unique<UpstreamConnection>(
        base_, std::move(key), cluster, static_cast<size_t>(index), config_->runtime->tls.get());
  } catch (const std::exception&) {
    dead_ = true;
    return;
  }
  if (!upstream_->connect(*this)) {
    upstream_.reset();
    retryOrFail(TryFailure::kConnectFailure);
  }
}

void HttpConnection::sendOnConnection(UpstreamConnection& connection) {
  requestStats_.trySent(*cluster_);
  ++connection.requests;
  upstreamEof_ = false;
  eofNoted_ = false;
  upstreamError_ = false;
  interim_ = false;
  evbuffer_drain(upIn_, evbuffer_get_length(upIn_));
  response_.emplace(http1::Parser::Kind::kResponse);
  response_->expectResponseTo(request_.method);
  response_->expectUpgrade(upgrading_);
  evbuffer* out = connection.socket().output();
  if (firstTry_) {
    evbuffer_add(out, upstreamHead_.data(), upstreamHead_.size());
    evbuffer_add_buffer(out, pending_);
    firstTry_ = false;
  } else {
    evbuffer_drain(pending_, evbuffer_get_length(pending_));
    evbuffer_add(out, replay_.data(), replay_.size());
  }
  connection.socket().setReadEnabled(true);
  flushUpstream();
  if (upstreamError_) retryOrFail(TryFailure::kReset);
}

void HttpConnection::report(upstream::UpstreamResult result) {
  if (balancer_ == nullptr || tried_.empty()) return;
  upstream::recordResult(balancer_->cluster(), static_cast<size_t>(tried_.back()), result);
}

void HttpConnection::onUpstreamConnected(UpstreamConnection& connection) {
  endPending();
  report(upstream::UpstreamResult::kConnectSuccess);
  sendOnConnection(connection);
  if (!inRequest_) {
    processInput();
  } else if (downstreamBlocked_ && upstreamBacklog() <= limits_.lowWatermark) {
    downstreamBlocked_ = false;
    processInput();
  }
  finishIfDead();
}

void HttpConnection::onUpstreamConnectFailed(UpstreamConnection&) {
  endPending();
  upstream_.reset();  // the connection's last action was this call
  retryOrFail(TryFailure::kConnectFailure);
  if (!inRequest_) processInput();
  finishIfDead();
}

void HttpConnection::onUpstreamWritable(UpstreamConnection&) {
  flushUpstream();
  if (tunnel_) {
    if (upstreamError_) {
      dead_ = true;
    } else if (!downstream_.readEnabled() && !downstream_.readClosed() &&
               upstream_->socket().outputLength() <= limits_.lowWatermark) {
      downstream_.setReadEnabled(true);
    }
    if (!dead_) tunnelCheckDone();
    finishIfDead();
    return;
  }
  if (upstreamError_) {
    if (!responseStarted_) {
      retryOrFail(TryFailure::kReset);
      if (!inRequest_) processInput();
    } else {
      dead_ = true;
    }
  } else if (downstreamBlocked_ && upstreamBacklog() <= limits_.lowWatermark) {
    downstreamBlocked_ = false;
    processInput();
  }
  finishIfDead();
}

void HttpConnection::onUpstreamReadable(UpstreamConnection& connection) {
  if (tunnel_) {
    tunnelFromUpstream();
    finishIfDead();
    return;
  }
  noteStreamActivity();
  for (int reads = 0; reads < kReadsPerEvent; ++reads) {
    size_t count = 0;
    auto io = connection.socket().readInto(upIn_, limits_.readSize, count);
    cluster_->bytesReceived.fetch_add(count, std::memory_order_relaxed);
    if (io == network::StreamSocket::Io::kEof) {
      upstreamEof_ = true;
      break;
    }
    if (io == network::StreamSocket::Io::kError) {
      upstreamError_ = true;
      break;
    }
    if (io != network::StreamSocket::Io::kOk || count < limits_.readSize) break;
    if (evbuffer_get_length(upIn_) > limits_.highWatermark) break;
  }
  processResponse();
  if (!inRequest_ && !dead_) processInput();
  finishIfDead();
}

void HttpConnection::processResponse() {
  while (true) {
    parseResponse();
    if (dead_) return;
    flushDownstream();  // what the parse put out, in one write
    if (dead_ || !upstreamBlocked_ || downstream_.outputLength() > limits_.lowWatermark) return;
    // The write made room at once: go on with what was read (no writable event will come).
    upstreamBlocked_ = false;
    if (upstream_ && upstream_->connected()) upstream_->socket().setReadEnabled(true);
  }
}

void HttpConnection::parseResponse() {
  while (!dead_ && upstream_ && response_) {
    if (responseStarted_ && downstream_.outputLength() > limits_.highWatermark) {
      upstreamBlocked_ = true;
      upstream_->socket().setReadEnabled(false);
      return;
    }
    if (upstreamError_ && evbuffer_get_length(upIn_) == 0) {
      if (!responseStarted_) {
        retryOrFail(TryFailure::kReset);
      } else {
        dead_ = true;
      }
      return;
    }
    if (evbuffer_get_length(upIn_) == 0) {
      if (!upstreamEof_ && response_->idle()) return;
      if (upstreamEof_ && response_->idle() && !responseStarted_) {
        retryOrFail(TryFailure::kReset);  // closed before a byte of the response
        return;
      }
      // Everything before the close is parsed: now the parser may learn of it (it completes a
      // close-delimited body, or fails a message cut short).
      if (upstreamEof_ && !eofNoted_) {
        eofNoted_ = true;
        response_->noteEof();
      }
    }
    std::string_view input = view(upIn_);
    const size_t length = input.size();
    auto event = response_->next(input);
    const size_t consumed = length - input.size();
    switch (event) {
      case http1::Parser::Event::kNeedMore:
        evbuffer_drain(upIn_, consumed);
        if (upstreamEof_) {
          // Closed before (or in the middle of) a response.
          if (!responseStarted_) {
            retryOrFail(TryFailure::kReset);
          } else {
            dead_ = true;
          }
        }
        return;
      case http1::Parser::Event::kHead: {
        evbuffer_drain(upIn_, consumed);
        const int status = response_->head().status;
        if (status == 101) {  // the parser accepts it only in answer to our upgrade request
          enterTunnel();
          return;
        }
        if (status < 200) {
          interim_ = true;  // 1xx: dropped (the proxy answered 100-continue itself)
          break;
        }
        countUpstream(status);
        // Passive health: every final answer counts (outlier_detector.h).
        report(status == 502 || status == 503 || status == 504
                   ? upstream::UpstreamResult::kGatewayError
               : status >= 500 ? upstream::UpstreamResult::kServerError
                               : upstream::UpstreamResult::kSuccess);
        const RetryPolicy& policy = route_->action.retry;
        if (replayable_ && retries_ < policy.numRetries &&
            retriable(policy, request_.method, TryFailure::kStatus, status) &&
            budgetAllows(*cluster_, balancer_->cluster().config->circuitBreaker.maxRetries)) {
          retryOrFail(TryFailure::kStatus, status);
          return;
        }
        tryTimer_.cancel();
        if (countedRetry_) {
          // The retry is over once its try is answered: a long response does not hold the
          // cluster's retry budget (Envoy counts a retry only while it is in progress).
          countedRetry_ = false;
          decrement(cluster_->upstreamRqRetryActive);
        }
        sendResponseHead();
        break;
      }
      case http1::Parser::Event::kBody: {
        std::string_view piece = response_->body();
        if (downstreamChunked_) {
          std::string framed;
          http1::appendChunk(piece, framed);
          evbuffer_add(downstream_.output(), framed.data(), framed.size());
        } else {
          evbuffer_add(downstream_.output(), piece.data(), piece.size());
        }
        evbuffer_drain(upIn_, consumed);
        break;
      }
      case http1::Parser::Event::kTrailers:
        evbuffer_drain(upIn_, consumed);
        break;
      case http1::Parser::Event::kComplete:
        evbuffer_drain(upIn_, consumed);
        if (interim_) {
          interim_ = false;
          break;
        }
        onResponseComplete();
        return;
      case http1::Parser::Event::kUpgraded:
      case http1::Parser::Event::kError:
        evbuffer_drain(upIn_, evbuffer_get_length(upIn_));
        if (responseStarted_) {
          dead_ = true;
        } else {
          log::debug("bad upstream response", {{"error", response_->error().reason}});
          dropUpstream();
          answer(502, "upstream sent an invalid response", !requestDone_);
        }
        return;
    }
  }
}

void HttpConnection::sendResponseHead() {
  const http1::MessageHead& head = response_->head();
  http1::MessageHead out;
  out.status = head.status;
  out.reason = head.reason;
  out.minorVersion = 1;
  const bool noBody = request_.method == "HEAD" || head.status == 204 || head.status == 304;
  // A HEAD's or 304's Content-Length describes the representation, not a body that follows; a
  // 204 has none (RFC 9110 §8.6), whatever the upstream sent.
  std::string headLength =
      noBody && head.status != 204 ? std::string(headerValue(head.headers, "content-length")) : "";
  out.headers = response_->takeHeaders();  // not read again for this response
  removeHopByHop(out.headers);
  applyHeaderMods(out.headers, route_->responseHeaders);
  downstreamChunked_ = false;
  if (noBody) {
    // No body follows whatever the framing fields say: they pass through as the upstream sent
    // them.
    if (!headLength.empty()) {
      out.headers.emplace_back("content-length", std::move(headLength));
    } else if (head.chunked && request_.minorVersion >= 1) {
      out.headers.emplace_back("transfer-encoding", "chunked");
    }
  } else if (head.contentLength) {
    out.headers.emplace_back("content-length", std::to_string(*head.contentLength));
  } else {
    if (request_.minorVersion >= 1) {
      out.headers.emplace_back("transfer-encoding", "chunked");
      downstreamChunked_ = true;
    } else {
      closeAfterResponse_ = true;  // an HTTP/1.0 caller: the close ends the body
    }
  }
  // A refused upgrade closes too: what the caller sent after it was meant for the new protocol.
  if (!request_.keepAlive || !requestDone_ || upgrading_ || draining_) closeAfterResponse_ = true;
  if (closeAfterResponse_) {
    out.headers.emplace_back("connection", "close");
  } else if (request_.minorVersion == 0) {
    out.headers.emplace_back("connection", "keep-alive");
  }
  std::string serialized;
  http1::appendResponseHead(out, serialized);
  evbuffer_add(downstream_.output(), serialized.data(), serialized.size());
  responseStarted_ = true;
  countDownstream(head.status);
  // Written with the body that follows in the same read (processResponse flushes): one send.
}

void HttpConnection::onResponseComplete() {
  if (downstreamChunked_) {
    std::string last;
    http1::appendLastChunk(response_->trailers(), last);
    evbuffer_add(downstream_.output(), last.data(), last.size());
  }
  const bool reusable = !upgrading_ && requestDone_ && response_->head().keepAlive &&
                        !upstreamEof_ && !upstreamError_ && evbuffer_get_length(upIn_) == 0 &&
                        upstream_->socket().outputLength() == 0;
  const bool close = closeAfterResponse_ || !requestDone_;
  std::unique_ptr<UpstreamConnection> connection = std::move(upstream_);
  response_.reset();
  if (reusable) {
    worker_.pool.release(std::move(connection), balancer_->cluster().config->maxConnectionDuration);
  }
  connection.reset();
  endRequest();
  if (close) {
    beginClose();
  } else {
    flushDownstream();
  }
  updateDownstreamReading();
}

void HttpConnection::retryOrFail(TryFailure failure, int status) {
  if (!inRequest_ || dead_) return;
  tryTimer_.cancel();
  const bool nothingReceived = !response_ || response_->idle();
  dropUpstream();
  if (failure == TryFailure::kReset && tryReused_ && nothingReceived && !staleRetried_ &&
      replayable_ && idempotent(request_.method)) {
    // The upstream closed an idle pooled connection just as it was reused (the close crossed
    // the request): the request goes again, once, on a new connection, as browsers do. Not a
    // MeshRetry: no budget, no backoff.
    staleRetried_ = true;
    tried_.pop_back();  // the endpoint did nothing wrong
    backoffTimer_.schedule(std::chrono::milliseconds(0));
    return;
  }
  // The endpoint's fault as far as passive health goes (status answers were reported already).
  if (failure != TryFailure::kStatus) report(upstream::UpstreamResult::kLocalOriginFailure);
  const RetryPolicy& policy = route_->action.retry;
  if (replayable_ && retries_ < policy.numRetries &&
      retriable(policy, request_.method, failure, status) &&
      budgetAllows(*cluster_, balancer_->cluster().config->circuitBreaker.maxRetries)) {
    ++retries_;
    increment(cluster_->upstreamRqRetry);
    requestStats_.retried();
    if (!countedRetry_) {
      countedRetry_ = true;
      increment(cluster_->upstreamRqRetryActive);
    }
    backoffTimer_.schedule(backoff(policy, retries_, worker_.random()));
    return;
  }
  switch (failure) {
    case TryFailure::kConnectFailure:
      answer(503, "upstream connect error", !requestDone_);
      return;
    case TryFailure::kReset:
      answer(503, "upstream reset before response", !requestDone_);
      return;
    case TryFailure::kTimeout:
      increment(cluster_->upstreamRqTimeout);
      requestStats_.timedOut();
      answer(504, "upstream request timeout", !requestDone_);
      return;
    case TryFailure::kStatus:
      // Out of retries on a retriable status: the caller gets the last answer's status.
      answer(status, "upstream error", !requestDone_);
      return;
  }
}

void HttpConnection::onRouteTimeout() {
  if (!inRequest_ || dead_) return;
  if (responseStarted_) {
    dead_ = true;  // too late for a 504: the response is cut short
    return;
  }
  increment(cluster_->upstreamRqTimeout);
  requestStats_.timedOut();
  if (upstream_) report(upstream::UpstreamResult::kLocalOriginFailure);
  dropUpstream();
  answer(504, "upstream request timeout", !requestDone_);
  if (!inRequest_) processInput();
}

int64_t HttpConnection::nowUs() const {
  timeval now{};
  event_base_gettimeofday_cached(base_, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000 + now.tv_usec;
}

void HttpConnection::armStreamTimers() {
  const RouteAction& action = route_->action;
  if (action.maxStreamDuration.count() > 0) maxStreamTimer_.schedule(action.maxStreamDuration);
  if (action.streamIdleTimeout.count() > 0) {
    lastActivityUs_ = nowUs();
    streamIdleTimer_.schedule(action.streamIdleTimeout);
  }
}

// The timer is armed once; moving bytes only note the time (no timer work per read or write),
// and an expiry that comes early for the last activity re-arms for what is left.
void HttpConnection::onStreamIdleTimer() {
  if (!inRequest_ || dead_ || route_ == nullptr) return;
  const int64_t idleUs =
      std::chrono::duration_cast<std::chrono::microseconds>(route_->action.streamIdleTimeout)
          .count();
  const int64_t quietUs = nowUs() - lastActivityUs_;
  if (quietUs < idleUs) {
    streamIdleTimer_.schedule(std::chrono::milliseconds((idleUs - quietUs + 999) / 1000));
    return;
  }
  onStreamTimeout("stream timeout");
}

void HttpConnection::onStreamTimeout(std::string_view why) {
  if (!inRequest_ || dead_) return;
  if (responseStarted_) {
    dead_ = true;  // the response is cut short: the caller sees the connection close
    return;
  }
  if (upstream_) report(upstream::UpstreamResult::kLocalOriginFailure);
  dropUpstream();
  // Envoy answers both with 408 when no response has started.
  answer(408, why, !requestDone_);
  if (!inRequest_) processInput();
}

void HttpConnection::endPending() {
  if (!pendingCounted_) return;
  pendingCounted_ = false;
  decrement(cluster_->upstreamRqPendingActive);
}

void HttpConnection::dropUpstream() {
  endPending();
  tryLoad_.reset();
  requestStats_.tryEnded();
  tryTimer_.cancel();
  backoffTimer_.cancel();
  upstream_.reset();
  response_.reset();
  upstreamBlocked_ = false;
  evbuffer_drain(upIn_, evbuffer_get_length(upIn_));
}

void HttpConnection::answer(int status, std::string_view body, bool close,
                            const braid::http::Headers& extra) {
  if (responseStarted_) {
    dead_ = true;
    return;
  }
  dropUpstream();
  if (draining_ || (inRequest_ && (!request_.keepAlive || upgrading_))) close = true;
  std::string reply = localReply(status, body, close, extra);
  evbuffer_add(downstream_.output(), reply.data(), reply.size());
  countDownstream(status);
  if (close) {
    endRequest();
    beginClose();
    return;
  }
  if (inRequest_ && !requestDone_) {
    // The request's (empty) rest still comes from the parser: dropped, then the next request.
    responseStarted_ = true;
    localAnswered_ = true;
    routeTimer_.cancel();
    flushDownstream();
    return;
  }
  endRequest();
  flushDownstream();
  updateDownstreamReading();
}

void HttpConnection::endRequest() {
  requestStats_.end();
  endPending();
  tryLoad_.reset();
  routeTimer_.cancel();
  streamIdleTimer_.cancel();
  maxStreamTimer_.cancel();
  tryTimer_.cancel();
  backoffTimer_.cancel();
  startPending_ = false;
  upstream_.reset();
  response_.reset();
  if (cluster_) {
    decrement(cluster_->upstreamRqActive);
    if (countedRetry_) decrement(cluster_->upstreamRqRetryActive);
  }
  cluster_.reset();
  countedRetry_ = false;
  evbuffer_drain(pending_, evbuffer_get_length(pending_));
  evbuffer_drain(upIn_, evbuffer_get_length(upIn_));
  std::string().swap(replay_);
  replayable_ = false;
  mirrorClusters_.clear();
  std::string().swap(mirrorCopy_);
  bridge_.reset();  // resets its upstream stream if the response did not end
  bridgeFinished_ = false;
  retries_ = 0;
  tryReused_ = false;
  staleRetried_ = false;
  tried_.clear();
  hash_.reset();
  route_ = nullptr;
  balancer_ = nullptr;
  inRequest_ = false;
  requestDone_ = false;
  localAnswered_ = false;
  responseStarted_ = false;
  closeAfterResponse_ = false;
  upgrading_ = false;
  downstreamChunked_ = false;
  interim_ = false;
  upstreamEof_ = false;
  upstreamError_ = false;
  upstreamBlocked_ = false;
  downstreamBlocked_ = false;
}

void HttpConnection::countDownstream(int status) {
  requestStats_.responded(status);
  ListenerCounters& counters = *listener_.counters;
  switch (status / 100) {
    case 1:
      increment(counters.downstreamRq1xx);
      break;
    case 2:
      increment(counters.downstreamRq2xx);
      break;
    case 3:
      increment(counters.downstreamRq3xx);
      break;
    case 4:
      increment(counters.downstreamRq4xx);
      break;
    default:
      increment(counters.downstreamRq5xx);
      break;
  }
}

void HttpConnection::countUpstream(int status) {
  ClusterCounters& counters = *cluster_;
  switch (status / 100) {
    case 1:
      increment(counters.upstreamRq1xx);
      break;
    case 2:
      increment(counters.upstreamRq2xx);
      break;
    case 3:
      increment(counters.upstreamRq3xx);
      break;
    case 4:
      increment(counters.upstreamRq4xx);
      break;
    default:
      increment(counters.upstreamRq5xx);
      break;
  }
}

}  // namespace braid::dataplane::hcm
