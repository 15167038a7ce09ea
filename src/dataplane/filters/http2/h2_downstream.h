#pragma once

// The HTTP/2 connection manager for one connection from the local app speaking h2c with prior
// knowledge to an outbound of an `http2`/`grpc` service (ADR 0006): an H2ServerSession over the
// downstream socket; each stream is an H2StreamRequest, routed and sent on the worker's pooled
// HTTP/2 connections to the peer sidecars. The HTTP/1.1 connection manager hands the
// connection over when it sees the HTTP/2 preface, with the bytes it already read.
//
// Writing is deferred to this connection's own events or a zero-delay timer: requests only
// queue frames, so no request runs inside another's callbacks. The socket's output is filled
// from the session only while under the high watermark; above it, frames wait in the streams'
// buffers and the requests stop consuming from upstream. Loop thread only.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "dataplane/event/timer.h"
#include "dataplane/filters/http2/h2_stream_request.h"
#include "dataplane/filters/tcp_proxy/tcp_proxy_session.h"
#include "dataplane/http2/h2_server_session.h"
#include "dataplane/network/stream_socket.h"

struct evbuffer;

namespace braid::dataplane::h2 {

class H2Downstream final : private network::StreamSocket::Handler,
                           private http2::H2ServerSession::Handler,
                           private ResponseSink {
 public:
  class Owner {
   public:
    // The connection's last action; destroying it inside is expected.
    virtual void onH2DownstreamClosed(H2Downstream& connection) = 0;
    // The worker's configuration now. gRPC channels live long: each new stream is routed with
    // the latest routes for this listener's address, not those of when the connection came.
    virtual std::shared_ptr<WorkerConfig> currentConfig() = 0;

   protected:
    ~Owner() = default;
  };

  // `received`: bytes already read from the socket (the preface onwards).
  H2Downstream(const H2RequestContext& context, network::UniqueFd socket, std::string received,
               const tcp_proxy::ProxyLimits& limits, Owner& owner);
  ~H2Downstream();
  H2Downstream(const H2Downstream&) = delete;
  H2Downstream& operator=(const H2Downstream&) = delete;

  // Takes in the bytes already received and starts reading; false: closed at once (the owner
  // was not called).
  bool start();
  // The proxy is draining (SIGTERM): a graceful GOAWAY; the streams already open finish, then
  // the connection closes.
  void drain();
  size_t bufferedBytes() const;
  size_t activeStreams() const { return requests_.size(); }

 private:
  // network::StreamSocket::Handler
  void onReadable(network::StreamSocket& socket) override;
  void onWritable(network::StreamSocket& socket) override;
  // http2::H2ServerSession::Handler
  void onRequestHeaders(int32_t streamId, braid::http::Headers&& headers, bool endStream) override;
  void onRequestData(int32_t streamId, std::string_view data, bool endStream) override;
  void onRequestTrailers(int32_t streamId, braid::http::Headers&& trailers) override;
  void onStreamReset(int32_t streamId, uint32_t errorCode) override;
  void onStreamClosed(int32_t streamId, uint32_t errorCode) override;
  void onSendBufferDrained(int32_t streamId) override;
  // ResponseSink
  bool respond(int32_t streamId, int status, const braid::http::Headers& headers,
               bool endStream) override;
  bool sendData(int32_t streamId, std::string_view bytes, bool endStream) override;
  bool sendTrailers(int32_t streamId, const braid::http::Headers& trailers) override;
  void resetStream(int32_t streamId, uint32_t errorCode) override;
  void endAfterResponse(int32_t streamId) override;
  void consumedRequest(int32_t streamId, size_t n) override;
  size_t bufferedResponse(int32_t streamId) const override;

  H2StreamRequest* find(int32_t streamId);
  // The context a new stream is routed with (the latest configuration of this listener).
  H2RequestContext latestContext();
  // Feeds bytes to the session; false on a connection error (the GOAWAY is queued).
  bool receive(std::string_view bytes);
  void flush();
  void scheduleFlush();
  void finishIfDead();

  H2RequestContext context_;
  const tcp_proxy::ProxyLimits& limits_;
  Owner& owner_;
  network::StreamSocket socket_;
  http2::H2ServerSession session_;
  std::string received_;
  evbuffer* in_ = nullptr;
  event::Timer flushTimer_;
  bool flushScheduled_ = false;
  bool dead_ = false;
  bool failed_ = false;  // a connection error: write the GOAWAY, then close
  // Declared last: destroyed first, while the session they answer through still exists.
  std::map<int32_t, std::unique_ptr<H2StreamRequest>> requests_;
};

}  // namespace braid::dataplane::h2
