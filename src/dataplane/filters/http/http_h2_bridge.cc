// The HTTP/1.1 connection manager's side of an Http2Bridge (h2_bridge.h): an HTTP/1.1 request
// to an http2/grpc outbound goes as a stream through the HTTP/2 manager's request logic, and
// its response is written back here. The bridge's calls may come from the HTTP/2 pool's events,
// not this connection's, so whatever they need done afterwards (ending the request, reading on,
// closing) is left to bridgeTimer_, which runs as this connection's own event.

#include <event2/buffer.h>

#include <exception>

#include "dataplane/filters/http/h2_bridge.h"
#include "dataplane/filters/http/http_connection.h"

namespace braid::dataplane::hcm {

bool HttpConnection::startBridge(bool hasBody) {
  if (worker_.h2Pool == nullptr) return false;
  h2::H2RequestContext context;
  context.base = base_;
  context.listener = &listener_;
  context.config = config_;
  context.worker = &worker_;
  context.pool = worker_.h2Pool;
  context.mirrors = worker_.h2Mirrors;
  context.limits = &limits_;
  context.sourceIp = sourceIp_;
  if (request_.expectContinue) {
    // The proxy asks for the body itself, as for HTTP/1.1 upstreams.
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    evbuffer_add(downstream_.output(), kContinue.data(), kContinue.size());
    flushDownstream();
  }
  try {
    BridgeDownstream& downstream = *this;
    bridge_ = std::make_unique<Http2Bridge>(context, downstream, request_,
                                            !request_.keepAlive || draining_);
  } catch (const std::exception&) {
    return false;
  }
  bridge_->start(!hasBody);
  return true;
}

void HttpConnection::bridgeWrite(std::string_view bytes) {
  if (dead_) return;
  responseStarted_ = true;
  evbuffer_add(downstream_.output(), bytes.data(), bytes.size());
  flushDownstream();
  if (dead_) bridgeTimer_.schedule(std::chrono::milliseconds(0));
}

size_t HttpConnection::bridgeBuffered() const { return downstream_.outputLength(); }

void HttpConnection::bridgeConsumed(size_t) {
  if (downstreamBlocked_ && bridge_ && bridge_->unconsumed() <= limits_.lowWatermark) {
    bridgeTimer_.schedule(std::chrono::milliseconds(0));  // read on
  }
}

void HttpConnection::bridgeDone(bool clean) {
  bridgeFinished_ = true;
  bridgeClean_ = clean;
  bridgeTimer_.schedule(std::chrono::milliseconds(0));
}

void HttpConnection::onBridgeTimer() {
  if (dead_) return;
  if (!bridgeFinished_) {
    if (downstreamBlocked_ && bridge_ && bridge_->unconsumed() <= limits_.lowWatermark) {
      downstreamBlocked_ = false;
      processInput();
    }
    return;
  }
  bridgeFinished_ = false;
  if (!bridgeClean_) {
    if (!responseStarted_) {
      answer(502, "upstream reset before response", true);
    } else {
      dead_ = true;  // cut short: the caller sees the connection close
    }
    return;
  }
  const bool close =
      !requestDone_ || !request_.keepAlive || draining_ || bridge_->closesConnection();
  endRequest();
  if (close) {
    // A response that ended before its request did: the rest of the request cannot be told
    // from the next one's start.
    beginClose();
  } else {
    flushDownstream();
    processInput();
  }
  updateDownstreamReading();
}

}  // namespace braid::dataplane::hcm
