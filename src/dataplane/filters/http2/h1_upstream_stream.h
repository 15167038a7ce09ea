#pragma once

// One HTTP/2 request's try sent as HTTP/1.1, for an h2c caller of an `http` outbound (the app
// behind the peer sidecar speaks HTTP/1.1, and inbounds are L4: ADR 0006 decision 3). It takes a
// connection from the worker's HTTP/1.1 pool (shared with the HTTP/1.1 connection manager) or
// connects one (mTLS as there), writes the request head and body with HTTP/1.1 framing (chunked,
// with trailers, when the caller gave no content-length), parses the response with the strict
// codec and reports it to its H2StreamClient as an HTTP/2 stream's events would be: head with
// :status, data, trailers, close. A connection whose response completed cleanly goes back to the
// pool. Response reading pauses while more than a window of bytes is unconsumed.
//
// After any client callback the stream may have been detached (detach()): it then touches
// nothing but its own members and the client never hears of it again. The client keeps a
// detached stream alive until it is no longer inside its callbacks. Loop thread only.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/headers.h"
#include "common/http/http1_codec.h"
#include "dataplane/event/timer.h"
#include "dataplane/filters/http/upstream_connection.h"
#include "dataplane/filters/http/upstream_pool.h"
#include "dataplane/filters/http2/h2_upstream_connection.h"
#include "dataplane/filters/tcp_proxy/tcp_proxy_session.h"

struct evbuffer;

namespace braid::dataplane::h2 {

// The HTTP/1.1 head of an HTTP/2 request: request line from the pseudo-headers, Host from
// :authority, split cookies joined, connection-specific and framing fields left out.
http1::MessageHead http1HeadOf(const braid::http::Headers& headers);

class H1UpstreamStream final : private hcm::UpstreamConnection::Client {
 public:
  H1UpstreamStream(event_base* base, hcm::UpstreamPool& pool, const tcp_proxy::ProxyLimits& limits,
                   H2StreamClient& client);
  ~H1UpstreamStream();
  H1UpstreamStream(const H1UpstreamStream&) = delete;
  H1UpstreamStream& operator=(const H1UpstreamStream&) = delete;

  // Queues the request head (`headers` are HTTP/2's: pseudo-headers first) and takes a pooled
  // connection to `endpoint` of `cluster` or connects one. false: the connect failed at once.
  bool start(const upstream::ClusterRuntime& cluster, size_t endpoint,
             const tls::TlsContexts* contexts, const braid::http::Headers& headers, bool endStream);
  void sendData(std::string_view data, bool endStream);
  // Ends the request (chunked: in the last chunk; with a content-length they are dropped).
  void sendTrailers(const braid::http::Headers& trailers);
  // n response bytes were passed on.
  void consumed(size_t n);
  size_t bufferedOutbound() const;
  // No more callbacks; the connection is closed, not pooled.
  void detach();

 private:
  void onUpstreamConnected(hcm::UpstreamConnection& connection) override;
  void onUpstreamConnectFailed(hcm::UpstreamConnection& connection) override;
  void onUpstreamReadable(hcm::UpstreamConnection& connection) override;
  void onUpstreamWritable(hcm::UpstreamConnection& connection) override;

  void write(std::string_view bytes);
  void flush();
  void processResponse();
  // The response cannot complete: the connection is closed and the client told.
  void fail();
  void complete();

  event_base* base_;
  hcm::UpstreamPool& pool_;
  const tcp_proxy::ProxyLimits& limits_;
  H2StreamClient* client_;
  std::unique_ptr<hcm::UpstreamConnection> upstream_;
  evbuffer* in_ = nullptr;
  std::string pending_;  // request bytes written before the connection is up
  event::Timer resumeTimer_;
  std::optional<http1::Parser> parser_;
  std::string method_;
  bool chunked_ = false;      // the request body goes chunked
  bool requestDone_ = false;  // its last byte is queued
  bool reused_ = false;       // the connection came from the pool
  bool received_ = false;     // a byte of the response arrived
  bool interim_ = false;      // the response being parsed is a 1xx
  bool eof_ = false;
  bool eofNoted_ = false;
  bool failed_ = false;
  size_t unconsumed_ = 0;
  std::chrono::milliseconds maxConnectionDuration_{0};  // the cluster's, for the pool
};

}  // namespace braid::dataplane::h2
