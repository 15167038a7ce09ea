#include "dataplane/filters/http2/h2_stream_request.h"

#include <event2/event.h>

#include <charconv>
#include <exception>

#include "dataplane/filters/http/header_rules.h"
#include "dataplane/filters/http/redirect_location.h"
#include "dataplane/filters/http/request_hash.h"
#include "dataplane/filters/http2/h2_local_reply.h"
#include "dataplane/filters/http2/h2_mirror.h"
#include "dataplane/filters/http2/h2_upstream_pool.h"
#include "dataplane/http/route_matcher.h"
#include "dataplane/http2/h2_options.h"

namespace braid::dataplane::h2 {
namespace {

using hcm::TryFailure;

// A request body up to this size is kept so that a try can be sent again (as HTTP/1.1 does).
constexpr size_t kMaxReplayBytes = 64 * 1024;
// Connections a try may find without room for its stream (the server's concurrent-stream limit
// reached while it connected) before it counts as failed.
constexpr uint32_t kMaxBusyConnections = 4;
// Bytes queued on one stream (either direction) before the other side's stream stops being
// consumed, so its HTTP/2 window closes and the sender waits.
constexpr size_t kStreamWatermark = 64 * 1024;

void increment(std::atomic<uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }
void decrement(std::atomic<uint64_t>& counter) { counter.fetch_sub(1, std::memory_order_relaxed); }

// RFC 9110 §9.2.2.
bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}

int parseStatus(std::string_view value) {
  int status = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), status);
  if (error != std::errc() || end != value.data() + value.size()) return 0;
  return status;
}

void incrementClass(int status, std::atomic<uint64_t>& c1, std::atomic<uint64_t>& c2,
                    std::atomic<uint64_t>& c3, std::atomic<uint64_t>& c4,
                    std::atomic<uint64_t>& c5) {
  switch (status / 100) {
    case 1:
      increment(c1);
      break;
    case 2:
      increment(c2);
      break;
    case 3:
      increment(c3);
      break;
    case 4:
      increment(c4);
      break;
    default:
      increment(c5);
      break;
  }
}

}  // namespace

H2StreamRequest::H2StreamRequest(const H2RequestContext& context, int32_t streamId,
                                 ResponseSink& sink)
    : context_(context),
      streamId_(streamId),
      sink_(sink),
      routeTimer_(context.base, [this] { onRouteTimeout(); }),
      tryTimer_(context.base, [this] { retryOrFail(TryFailure::kTimeout); }),
      backoffTimer_(context.base, [this] { startTry(); }),
      streamIdleTimer_(context.base, [this] { onStreamIdleTimer(); }),
      maxStreamTimer_(context.base, [this] { onStreamTimeout("max stream duration reached"); }) {}

H2StreamRequest::~H2StreamRequest() {
  dropTry();
  stats_.end();
  leaveCluster();
}

void H2StreamRequest::leaveCluster() {
  if (!cluster_ || leftCluster_) return;
  leftCluster_ = true;
  decrement(cluster_->upstreamRqActive);
  endRetry();
}

void H2StreamRequest::endRetry() {
  if (!countedRetry_) return;
  countedRetry_ = false;
  decrement(cluster_->upstreamRqRetryActive);
}

// ---- the downstream stream ----

void H2StreamRequest::onHeaders(braid::http::Headers&& headers, bool endStream) {
  request_ = std::move(headers);
  requestDone_ = endStream;
  stats_.begin(*context_.listener->counters);
  method_ = std::string(hcm::headerValue(request_, ":method"));
  grpc_ = isGrpcRequest(request_);
  route(endStream);
}

void H2StreamRequest::route(bool endStream) {
  const std::string_view path = hcm::headerValue(request_, ":path");
  if (method_ == "CONNECT" || path.empty()) {
    // Extended CONNECT (RFC 8441) and tunnels need an opaque stream (ADR 0006 §3): not yet.
    answer(501, "CONNECT is not supported");
    return;
  }
  std::string_view host = hcm::headerValue(request_, ":authority");
  if (host.empty()) host = hcm::headerValue(request_, "host");
  http::RequestView view{method_, path, host, request_};
  std::string normalized;
  route_ = http::matchRoute(context_.listener->config->http->routes, view, normalized);
  stats_.routed(context_.listener->countersOf(route_));
  if (route_ == nullptr) {
    answer(404, "no route");
    return;
  }
  if (route_->isRedirect) {
    std::string location = hcm::redirectLocation(route_->redirect, route_->match, host, normalized);
    answer(route_->redirect.status, "", false, {{"location", location}});
    return;
  }
  const RouteAction& action = route_->action;
  const std::string& clusterName =
      http::pickCluster(action, context_.worker->splits.next(&action, action.totalWeight));
  auto balancer = context_.config->balancers.find(clusterName);
  if (clusterName.empty() || balancer == context_.config->balancers.end()) {
    answer(503, "no healthy upstream");
    return;
  }
  // MeshCircuitBreaker maxRequests: answered at once, as the HTTP/1.1 manager does.
  const upstream::ClusterRuntime& target = balancer->second->cluster();
  const uint32_t maxRequests = target.config->circuitBreaker.maxRequests;
  if (maxRequests > 0 &&
      target.counters->upstreamRqActive.load(std::memory_order_relaxed) >= maxRequests) {
    increment(target.counters->upstreamRqOverflow);
    answer(503, "upstream overflow");
    return;
  }
  balancer_ = balancer->second.get();
  cluster_ = target.counters;
  increment(cluster_->upstreamRqActive);
  if (balancer_->hashing()) {
    hash_ = hcm::requestHash(target.config->hashPolicies, {request_, path, context_.sourceIp});
  }

  // Pseudo-headers first; the rest as the app sent them (nghttp2 validated them, and the
  // session drops HTTP/1 connection fields on the way out; `te: trailers` stays for gRPC).
  std::string authority = action.rewrite.host.empty() ? std::string(host) : action.rewrite.host;
  if (authority.empty()) authority = target.config->service;
  std::string_view scheme = hcm::headerValue(request_, ":scheme");
  upstreamHeaders_.clear();
  upstreamHeaders_.emplace_back(":method", method_);
  upstreamHeaders_.emplace_back(":scheme", scheme.empty() ? "http" : std::string(scheme));
  upstreamHeaders_.emplace_back(":authority", authority);
  upstreamHeaders_.emplace_back(
      ":path",
      hcm::rewriteTarget(normalized, route_->match, action.rewrite.path, action.rewrite.value));
  for (const auto& field : request_) {
    if (field.first.empty() || field.first[0] == ':' || field.first == "host") continue;
    upstreamHeaders_.push_back(field);
  }
  hcm::applyHeaderMods(upstreamHeaders_, route_->requestHeaders);
  if (hcm::headerValue(upstreamHeaders_, "x-request-id").empty()) {
    upstreamHeaders_.emplace_back(
        "x-request-id", hcm::makeRequestId(context_.worker->random(), context_.worker->random()));
  }
  replayable_ = (action.retry.enabled && action.retry.numRetries > 0) || idempotent(method_);
  if (action.timeout.count() > 0) routeTimer_.schedule(action.timeout);
  armStreamTimers();
  prepareMirrors();
  if (requestDone_) sendMirrors();
  (void)endStream;
  startTry();
}

void H2StreamRequest::onData(std::string_view data, bool endStream) {
  if (endStream) requestDone_ = true;
  noteActivity();
  if (finished_ || cluster_ == nullptr) {
    // Answered already (or never routed): the rest of the body is dropped.
    if (!data.empty()) sink_.consumedRequest(streamId_, data.size());
    return;
  }
  copyForMirrors(data);
  if (endStream) sendMirrors();
  if (replayable_) {
    if (replay_.size() + data.size() > kMaxReplayBytes) {
      replayable_ = false;  // too large to keep: streamed only, never sent again
      std::string().swap(replay_);
      if (bodySent_ && !upstreamOpen()) {
        // Between tries (a retry's back-off, a refused stream's new one, or its wait for a
        // connection) with part of the body gone to the try that failed: the next try could
        // only send the rest, which its server would take for the whole body.
        answer(503, "request body too large to retry");
        if (!data.empty()) sink_.consumedRequest(streamId_, data.size());
        return;
      }
    } else {
      replay_.append(data);
    }
  }
  if (upstreamOpen()) {
    upstreamSend(data, endStream);
    unconsumedRequest_ += data.size();
    if (!data.empty()) bodySent_ = true;
    onRequestDrained();
    return;
  }
  pending_.append(data);
}

void H2StreamRequest::onTrailers(braid::http::Headers&& trailers) {
  requestDone_ = true;
  if (finished_ || cluster_ == nullptr) return;
  requestTrailers_ = std::move(trailers);
  if (upstreamOpen()) upstreamTrailers(*requestTrailers_);
  sendMirrors();
}

void H2StreamRequest::prepareMirrors() {
  if (context_.mirrors == nullptr && !http1Upstream()) return;
  for (const Mirror& mirror : route_->action.mirrors) {
    if (mirror.perMillion < 1000000 && context_.worker->random() % 1000000 >= mirror.perMillion) {
      continue;
    }
    mirrorClusters_.push_back(mirror.cluster);
  }
  if (mirrorClusters_.empty()) return;
  mirrorHeaders_ = upstreamHeaders_;
  for (auto& [name, value] : mirrorHeaders_) {
    if (name == ":authority") value = hcm::shadowHost(value);
  }
}

void H2StreamRequest::copyForMirrors(std::string_view data) {
  if (mirrorClusters_.empty()) return;
  if (mirrorBody_.size() + data.size() > kMaxReplayBytes) {
    mirrorClusters_.clear();  // too large to copy: not mirrored
    std::string().swap(mirrorBody_);
    return;
  }
  mirrorBody_.append(data);
}

void H2StreamRequest::sendMirrors() {
  if (mirrorClusters_.empty()) return;
  const auto timeout = route_->action.timeout.count() > 0 ? route_->action.timeout
                                                          : std::chrono::milliseconds(15000);
  if (http1Upstream()) {
    // The mirror speaks HTTP/1.1 (an `http` outbound): the copy goes as an HTTP/1.1 request on
    // the worker's keep-alive pool, as the HTTP/1.1 connection manager's copies do.
    http1::MessageHead head = http1HeadOf(mirrorHeaders_);
    if (!mirrorBody_.empty() || method_ == "POST" || method_ == "PUT" || method_ == "PATCH") {
      head.headers.emplace_back("content-length", std::to_string(mirrorBody_.size()));
    }
    std::string bytes;
    http1::appendRequestHead(head, bytes);
    bytes.append(mirrorBody_);
    for (const std::string& cluster : mirrorClusters_) {
      context_.worker->mirrors.send(context_.base, context_.config, cluster, bytes, method_,
                                    timeout, context_.worker->pool);
    }
  } else {
    for (const std::string& cluster : mirrorClusters_) {
      context_.mirrors->send(context_.config, cluster, mirrorHeaders_, mirrorBody_, timeout);
    }
  }
  mirrorClusters_.clear();
  std::string().swap(mirrorBody_);
}

void H2StreamRequest::onDownstreamReset() {
  backoffTimer_.cancel();
  dropTry();
  complete();
}

void H2StreamRequest::onResponseDrained() {
  if (!upstreamOpen() || unconsumedResponse_ == 0) return;
  if (sink_.bufferedResponse(streamId_) > kStreamWatermark) return;
  upstreamConsumed(unconsumedResponse_);
  unconsumedResponse_ = 0;
}

// ---- tries ----

void H2StreamRequest::startTry() {
  if (finished_) return;
  const int index = balancer_->pick(tried_, hash_);
  if (index < 0) {
    if (tried_.empty()) increment(cluster_->noHealthyEndpoint);
    answer(503, "no healthy upstream");
    return;
  }
  tried_.push_back(index);
  tryLoad_.hold(balancer_->cluster().endpoints[static_cast<size_t>(index)].counters);
  const RetryPolicy& retry = route_->action.retry;
  if (retry.enabled && retry.perTryTimeout.count() > 0) tryTimer_.schedule(retry.perTryTimeout);
  if (http1Upstream()) {
    openStream(nullptr);
    return;
  }
  H2UpstreamConnection* connection =
      context_.pool->acquire(balancer_->cluster(), static_cast<size_t>(index), context_.config);
  if (connection == nullptr) {
    retryOrFail(TryFailure::kConnectFailure);
    return;
  }
  connection_ = connection;
  if (connection->ready()) {
    openStream(connection);
  } else {
    waiting_ = true;
    connection->wait(*this);
  }
}

void H2StreamRequest::openStream(H2UpstreamConnection* connection) {
  waiting_ = false;
  if (!firstTry_ && bodySent_ && !replayable_) {
    // Part of the body went to an earlier try and no copy of it is left: this try would send
    // a truncated body as if it were complete (onData answers this as soon as the copy is
    // dropped; this is the last guard).
    answer(503, "request body too large to retry");
    return;
  }
  // The first try sends what waited; a later one everything again (all of it is in replay_, or
  // nothing went out before and all of it is in pending_).
  const bool fromReplay = !firstTry_ && replayable_;
  const std::string& body = fromReplay ? replay_ : pending_;
  const bool endNow = requestDone_ && body.empty() && !requestTrailers_;
  if (connection == nullptr) {
    retireH1();
    H2StreamClient& client = *this;
    try {
      h1_ = std::make_unique<H1UpstreamStream>(context_.base, context_.worker->pool,
                                               *context_.limits, client);
    } catch (const std::exception&) {
      retryOrFail(TryFailure::kConnectFailure);
      return;
    }
    if (!h1_->start(balancer_->cluster(), static_cast<size_t>(tried_.back()),
                    context_.config->runtime->tls.get(), upstreamHeaders_, endNow)) {
      retireH1();
      retryOrFail(TryFailure::kConnectFailure);
      return;
    }
  } else {
    const int32_t id = connection->startStream(*this, upstreamHeaders_, endNow);
    if (id < 0) {
      connection_ = nullptr;
      retryOrFail(TryFailure::kReset);
      return;
    }
    upstreamId_ = id;
  }
  firstTry_ = false;
  busyConnections_ = 0;
  stats_.trySent(*cluster_);
  if (!endNow) {
    if (!body.empty() || (requestDone_ && !requestTrailers_)) {
      upstreamSend(body, requestDone_ && !requestTrailers_);
    }
    if (requestDone_ && requestTrailers_) upstreamTrailers(*requestTrailers_);
  }
  if (!pending_.empty()) {
    bodySent_ = true;
    unconsumedRequest_ += pending_.size();
    std::string().swap(pending_);
  }
  onRequestDrained();
}

void H2StreamRequest::onRequestDrained() {
  if (!upstreamOpen() || unconsumedRequest_ == 0) return;
  if (upstreamBuffered() > kStreamWatermark) return;
  sink_.consumedRequest(streamId_, unconsumedRequest_);
  unconsumedRequest_ = 0;
}

void H2StreamRequest::onConnectionReady(H2UpstreamConnection& connection) {
  report(upstream::UpstreamResult::kConnectSuccess);
  openStream(&connection);
}

void H2StreamRequest::onConnectionBusy() {
  connection_ = nullptr;
  waiting_ = false;
  if (++busyConnections_ > kMaxBusyConnections) {
    // The endpoint's connections keep coming up with no room (a server whose SETTINGS allow no
    // stream at all): a failed try (retried per the policy, with its back-off), not yet
    // another new connection.
    busyConnections_ = 0;
    retryOrFail(TryFailure::kConnectFailure);
    return;
  }
  // Not this endpoint's fault and not a retry: the try starts again on another connection.
  tryTimer_.cancel();
  tried_.pop_back();
  backoffTimer_.schedule(std::chrono::milliseconds(0));
}

void H2StreamRequest::onConnectSucceeded() { report(upstream::UpstreamResult::kConnectSuccess); }

void H2StreamRequest::onConnectionFailed() {
  connection_ = nullptr;
  waiting_ = false;
  retireH1();
  retryOrFail(TryFailure::kConnectFailure);
}

void H2StreamRequest::upstreamSend(std::string_view data, bool endStream) {
  if (h1_) {
    h1_->sendData(data, endStream);
  } else {
    connection_->sendData(upstreamId_, data, endStream);
  }
}

void H2StreamRequest::upstreamTrailers(const braid::http::Headers& trailers) {
  if (h1_) {
    h1_->sendTrailers(trailers);
  } else {
    connection_->sendTrailers(upstreamId_, trailers);
  }
}

void H2StreamRequest::upstreamConsumed(size_t n) {
  if (h1_) {
    h1_->consumed(n);
  } else {
    connection_->consumed(upstreamId_, n);
  }
}

size_t H2StreamRequest::upstreamBuffered() const {
  return h1_ ? h1_->bufferedOutbound() : connection_->bufferedOutbound(upstreamId_);
}

void H2StreamRequest::retireH1() {
  if (!h1_) return;
  h1_->detach();
  retiredH1_ = std::move(h1_);
}

void H2StreamRequest::onResponseHeaders(braid::http::Headers&& headers, bool endStream) {
  if (finished_) return;
  const int status = parseStatus(hcm::headerValue(headers, ":status"));
  countUpstream(status);
  // Passive health: every final answer counts (outlier_detector.h).
  report(status == 502 || status == 503 || status == 504 ? upstream::UpstreamResult::kGatewayError
         : status >= 500                                 ? upstream::UpstreamResult::kServerError
                                                         : upstream::UpstreamResult::kSuccess);
  if (canRetry(TryFailure::kStatus, status, false)) {
    retryOrFail(TryFailure::kStatus, status);
    return;
  }
  // MeshRetry grpc: a trailers-only answer carries the call's status in its headers (Envoy
  // retries on these only; a status in trailers after data comes too late).
  if (grpc_ && endStream && status == 200) {
    const int grpcStatus = parseStatus(hcm::headerValue(headers, "grpc-status"));
    if (grpcStatus > 0 && canRetry(TryFailure::kStatus, status, false, grpcStatus)) {
      retryOrFail(TryFailure::kStatus, status, false, grpcStatus);
      return;
    }
  }
  tryTimer_.cancel();
  // The retry is over once its try is answered: a long stream does not hold the cluster's
  // retry budget for its whole life (Envoy counts a retry only while it is in progress).
  endRetry();
  braid::http::Headers out;
  out.reserve(headers.size());
  for (auto& field : headers) {
    if (!field.first.empty() && field.first[0] == ':') continue;
    out.push_back(std::move(field));
  }
  hcm::applyHeaderMods(out, route_->responseHeaders);
  responseStarted_ = true;
  countDownstream(status);
  sink_.respond(streamId_, status, out, endStream);
  if (endStream) complete();
}

void H2StreamRequest::onResponseData(std::string_view data, bool endStream) {
  if (finished_ || !responseStarted_) {
    if (upstreamOpen() && !data.empty()) upstreamConsumed(data.size());
    return;
  }
  noteActivity();
  sink_.sendData(streamId_, data, endStream);
  unconsumedResponse_ += data.size();
  onResponseDrained();
  if (endStream) complete();
}

void H2StreamRequest::onResponseTrailers(braid::http::Headers&& trailers) {
  if (finished_ || !responseStarted_) return;
  sink_.sendTrailers(streamId_, trailers);
  complete();
}

void H2StreamRequest::onStreamClosed(uint32_t errorCode) {
  retireH1();
  connection_ = nullptr;
  upstreamId_ = -1;
  unconsumedResponse_ = 0;
  if (unconsumedRequest_ > 0) {
    sink_.consumedRequest(streamId_, unconsumedRequest_);
    unconsumedRequest_ = 0;
  }
  if (finished_) return;
  if (responseStarted_) {
    // Cut short after the head went downstream: the app's stream is reset, as Envoy does.
    complete();
    sink_.resetStream(streamId_, http2::h2_error::kInternalError);
    return;
  }
  const bool refused = errorCode == http2::h2_error::kRefusedStream;
  if (refused && !refusedRetried_ && (replayable_ || !bodySent_)) {
    // Not processed by the server (its GOAWAY or stream limit crossed the request): sent again
    // once on another stream, as Envoy's pool does. Not a MeshRetry: no budget, no back-off.
    refusedRetried_ = true;
    tryTimer_.cancel();
    tried_.pop_back();  // the endpoint did nothing wrong
    backoffTimer_.schedule(std::chrono::milliseconds(0));
    return;
  }
  retryOrFail(TryFailure::kReset, 0, refused);
}

bool H2StreamRequest::canRetry(TryFailure failure, int status, bool refused, int grpcStatus) const {
  const RetryPolicy& policy = route_->action.retry;
  if (!(replayable_ || !bodySent_) || retries_ >= policy.numRetries) return false;
  const bool wanted = grpcStatus > 0 ? hcm::grpcRetriable(policy, grpcStatus)
                                     : hcm::retriable(policy, method_, failure, status) ||
                                           (refused && policy.enabled &&
                                            (policy.retryOn & RetryPolicy::kRefusedStream));
  return wanted &&
         hcm::budgetAllows(*cluster_, balancer_->cluster().config->circuitBreaker.maxRetries);
}

void H2StreamRequest::retryOrFail(TryFailure failure, int status, bool refused, int grpcStatus) {
  if (finished_) return;
  dropTry();
  // The endpoint's fault as far as passive health goes (statuses were reported already).
  if (failure != TryFailure::kStatus) report(upstream::UpstreamResult::kLocalOriginFailure);
  if (canRetry(failure, status, refused, grpcStatus)) {
    ++retries_;
    increment(cluster_->upstreamRqRetry);
    stats_.retried();
    if (!countedRetry_) {
      countedRetry_ = true;
      increment(cluster_->upstreamRqRetryActive);
    }
    backoffTimer_.schedule(hcm::backoff(route_->action.retry, retries_, context_.worker->random()));
    return;
  }
  switch (failure) {
    case TryFailure::kConnectFailure:
      answer(503, "upstream connect error");
      return;
    case TryFailure::kReset:
      answer(503, "upstream reset before response");
      return;
    case TryFailure::kTimeout:
      increment(cluster_->upstreamRqTimeout);
      stats_.timedOut();
      answer(504, "upstream request timeout", true);
      return;
    case TryFailure::kStatus:
      answer(status, "upstream error");
      return;
  }
}

void H2StreamRequest::onRouteTimeout() {
  if (finished_) return;
  increment(cluster_->upstreamRqTimeout);
  stats_.timedOut();
  if (connection_ != nullptr || h1_) report(upstream::UpstreamResult::kLocalOriginFailure);
  if (responseStarted_) {
    // Too late for a 504. A gRPC stream still ends with a status its client understands; any
    // other response is cut short.
    dropTry();
    complete();
    if (!grpc_ || !sink_.sendTrailers(
                      streamId_, {{"grpc-status", std::to_string(grpc_status::kDeadlineExceeded)},
                                  {"grpc-message", "upstream request timeout"}})) {
      sink_.resetStream(streamId_, http2::h2_error::kCancel);
    }
    return;
  }
  answer(504, "upstream request timeout", true);
}

void H2StreamRequest::dropTry() {
  tryLoad_.reset();
  tryTimer_.cancel();
  stats_.tryEnded();
  retireH1();
  if (connection_ != nullptr) {
    if (waiting_) {
      connection_->cancelWait(*this);
    } else if (upstreamId_ >= 0) {
      connection_->abandon(upstreamId_);
    }
  }
  connection_ = nullptr;
  waiting_ = false;
  upstreamId_ = -1;
  unconsumedResponse_ = 0;
  if (unconsumedRequest_ > 0) {
    sink_.consumedRequest(streamId_, unconsumedRequest_);
    unconsumedRequest_ = 0;
  }
}

void H2StreamRequest::answer(int status, std::string_view message, bool timeout,
                             const braid::http::Headers& extra) {
  if (finished_) return;
  backoffTimer_.cancel();
  dropTry();
  if (!pending_.empty()) {
    sink_.consumedRequest(streamId_, pending_.size());
    std::string().swap(pending_);
  }
  std::string().swap(replay_);
  if (responseStarted_) {
    complete();
    sink_.resetStream(streamId_, http2::h2_error::kInternalError);
    return;
  }
  // Counted with the HTTP status the answer stands for (a gRPC caller sees 200 and grpc-status).
  countDownstream(status);
  responseStarted_ = true;
  H2LocalReply reply = makeLocalReply(grpc_, status, message, timeout, extra);
  sink_.respond(streamId_, reply.status, reply.headers, reply.body.empty());
  if (!reply.body.empty()) sink_.sendData(streamId_, reply.body, true);
  complete();
}

void H2StreamRequest::armStreamTimers() {
  const RouteAction& action = route_->action;
  if (action.maxStreamDuration.count() > 0) maxStreamTimer_.schedule(action.maxStreamDuration);
  if (action.streamIdleTimeout.count() > 0) {
    noteActivity();
    streamIdleTimer_.schedule(action.streamIdleTimeout);
  }
}

int64_t H2StreamRequest::nowUs() const {
  timeval now{};
  event_base_gettimeofday_cached(context_.base, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000 + now.tv_usec;
}

// Armed once; moving bytes only note the time, and an early expiry re-arms for what is left.
void H2StreamRequest::onStreamIdleTimer() {
  if (finished_ || route_ == nullptr) return;
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

void H2StreamRequest::onStreamTimeout(std::string_view why) {
  if (finished_) return;
  if (connection_ != nullptr || h1_) report(upstream::UpstreamResult::kLocalOriginFailure);
  if (responseStarted_) {
    dropTry();
    complete();
    sink_.resetStream(streamId_, http2::h2_error::kCancel);
    return;
  }
  // Envoy answers 408; a gRPC caller sees DEADLINE_EXCEEDED.
  answer(408, why, true);
}

void H2StreamRequest::complete() {
  // A response that ended before the request did (a server answering early, a bidi gRPC call
  // ending): the upstream stream would wait for the rest of the request forever, holding a
  // place on the shared connection. It is reset; what the app still sends is dropped, and the
  // app is told to stop sending (RST_STREAM NO_ERROR once the response is out, RFC 9113 §8.1)
  // so that its stream does not stay open.
  if (!requestDone_) {
    dropTry();
    sink_.endAfterResponse(streamId_);
  }
  // The request no longer counts as active in its cluster, whether or not the app's stream
  // is still open.
  leaveCluster();
  tryLoad_.reset();
  finished_ = true;
  routeTimer_.cancel();
  tryTimer_.cancel();
  backoffTimer_.cancel();
  streamIdleTimer_.cancel();
  maxStreamTimer_.cancel();
  stats_.end();
}

void H2StreamRequest::report(upstream::UpstreamResult result) {
  if (balancer_ == nullptr || tried_.empty()) return;
  upstream::recordResult(balancer_->cluster(), static_cast<size_t>(tried_.back()), result);
}

void H2StreamRequest::countDownstream(int status) {
  stats_.responded(status);
  ListenerCounters& c = *context_.listener->counters;
  incrementClass(status, c.downstreamRq1xx, c.downstreamRq2xx, c.downstreamRq3xx, c.downstreamRq4xx,
                 c.downstreamRq5xx);
}

void H2StreamRequest::countUpstream(int status) {
  ClusterCounters& c = *cluster_;
  incrementClass(status, c.upstreamRq1xx, c.upstreamRq2xx, c.upstreamRq3xx, c.upstreamRq4xx,
                 c.upstreamRq5xx);
}

}  // namespace braid::dataplane::h2
