// The WebSocket tunnel of the HTTP connection manager: once the upstream answered an upgrade
// request with 101, the downstream and the upstream connection carry opaque bytes both ways
// until both sides have closed (half-closes passed on), under the same watermarks as the TCP
// proxy. As in Envoy, the tunnel stays the request's stream: MeshTimeout http.streamIdleTimeout
// closes it when no byte moves, maxStreamDuration when it is reached, and it stays active in the
// cluster's counters for its whole life.

#include <event2/buffer.h>

#include "dataplane/filters/http/header_rules.h"
#include "dataplane/filters/http/http_connection.h"

namespace braid::dataplane::hcm {

void HttpConnection::enterTunnel() {
  const http1::MessageHead& head = response_->head();
  http1::MessageHead out;
  out.status = 101;
  out.reason = head.reason;
  out.minorVersion = 1;
  out.headers = head.headers;
  std::string protocol(headerValue(head.headers, "upgrade"));
  removeHopByHop(out.headers);
  applyHeaderMods(out.headers, route_->responseHeaders);
  out.headers.emplace_back("connection", "upgrade");
  out.headers.emplace_back("upgrade", protocol);
  std::string serialized;
  http1::appendResponseHead(out, serialized);
  evbuffer_add(downstream_.output(), serialized.data(), serialized.size());
  countUpstream(101);
  countDownstream(101);
  report(upstream::UpstreamResult::kSuccess);
  tunnel_ = true;
  responseStarted_ = true;
  routeTimer_.cancel();  // the request timeout ends at the 101
  tryTimer_.cancel();
  response_.reset();
  // What followed the 101 from the upstream, and what the caller sent after its request, are
  // the tunnel's first bytes.
  evbuffer_add_buffer(downstream_.output(), upIn_);
  evbuffer_add_buffer(upstream_->socket().output(), in_);
  flushDownstream();
  flushUpstream();
  if (upstreamError_) {
    dead_ = true;
    return;
  }
  if (!downstream_.readClosed()) downstream_.setReadEnabled(true);
  noteStreamActivity();
  tunnelCheckDone();
}

void HttpConnection::tunnelFromDownstream() {
  if (evbuffer_get_length(in_) > 0) noteStreamActivity();
  evbuffer_add_buffer(upstream_->socket().output(), in_);
  flushUpstream();
  if (upstreamError_) {
    dead_ = true;
    return;
  }
  if (upstream_->socket().outputLength() > limits_.highWatermark) {
    downstream_.setReadEnabled(false);  // until the upstream drains (onUpstreamWritable)
  }
  tunnelCheckDone();
}

void HttpConnection::tunnelFromUpstream() {
  network::StreamSocket& socket = upstream_->socket();
  for (int reads = 0; reads < 4; ++reads) {
    size_t count = 0;
    auto io = socket.readInto(upIn_, limits_.readSize, count);
    cluster_->bytesReceived.fetch_add(count, std::memory_order_relaxed);
    if (io == network::StreamSocket::Io::kError) {
      dead_ = true;
      return;
    }
    if (io != network::StreamSocket::Io::kOk || count < limits_.readSize) break;
    if (evbuffer_get_length(upIn_) > limits_.highWatermark) break;
  }
  if (evbuffer_get_length(upIn_) > 0) noteStreamActivity();
  evbuffer_add_buffer(downstream_.output(), upIn_);
  flushDownstream();
  if (dead_) return;
  if (downstream_.outputLength() > limits_.highWatermark) {
    socket.setReadEnabled(false);  // until the caller drains (onWritable)
  }
  tunnelCheckDone();
}

void HttpConnection::tunnelCheckDone() {
  network::StreamSocket& up = upstream_->socket();
  // A side that finished sending is passed on as a half-close once its bytes are delivered.
  if (downstream_.readClosed() && evbuffer_get_length(in_) == 0 && up.outputLength() == 0 &&
      !up.writeClosed() && !up.shutdownWrite()) {
    dead_ = true;
    return;
  }
  if (up.readClosed() && evbuffer_get_length(upIn_) == 0 && downstream_.outputLength() == 0 &&
      !downstream_.writeClosed() && !downstream_.shutdownWrite()) {
    dead_ = true;
    return;
  }
  if (downstream_.readClosed() && up.readClosed() && downstream_.outputLength() == 0 &&
      up.outputLength() == 0) {
    dead_ = true;
  }
}

}  // namespace braid::dataplane::hcm
