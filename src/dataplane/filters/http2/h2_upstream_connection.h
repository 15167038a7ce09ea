#pragma once

// One multiplexed HTTP/2 connection from this sidecar to one endpoint of a cluster (ADR 0006
// decision 3): an hcm::UpstreamConnection (connect, then for TLS clusters the mTLS handshake
// with the peer's SVID checked against the cluster's SAN) carrying an H2ClientSession with
// prior knowledge. Many requests' streams share it; each stream's events go to its
// H2StreamClient. Owned by the worker's H2UpstreamPool. Loop thread only.
//
// Lifetime (MeshTimeout, as Envoy's cluster idle_timeout and max_connection_duration): the pool
// closes it once it has had no stream for the cluster's idleTimeout (GOAWAY, then close), and
// drains it once older than maxConnectionDuration or when its endpoint leaves the configuration
// (GOAWAY: no new streams; it closes when its last stream ends).
//
// Re-entrancy: client calls (startStream, sendData, abandon…) only queue frames; the bytes are
// written from this connection's own events or a zero-delay timer, never inside a client call.
// Client callbacks run from this connection's events; a client may call back into it but must
// not destroy it (the pool does that, after the connection told every client it is gone).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/headers.h"
#include "dataplane/event/timer.h"
#include "dataplane/filters/http/sweep_timer.h"
#include "dataplane/filters/http/upstream_connection.h"
#include "dataplane/filters/tcp_proxy/tcp_proxy_session.h"
#include "dataplane/http2/h2_client_session.h"

struct evbuffer;

namespace braid::dataplane {
struct WorkerConfig;
}

namespace braid::dataplane::h2 {

class H2UpstreamConnection;

// The request (its current try) on one stream.
class H2StreamClient {
 public:
  // The connection is up and the server's SETTINGS are in: open the stream now (startStream).
  virtual void onConnectionReady(H2UpstreamConnection& connection) = 0;
  // The connection came up with less room (the server's SETTINGS_MAX_CONCURRENT_STREAMS) than
  // the streams waiting for it: take another connection; no stream was opened.
  virtual void onConnectionBusy() = 0;
  // The connection could not be set up (connect or TLS failure): no stream was opened.
  virtual void onConnectionFailed() = 0;
  // HTTP/1.1 tries (h1_upstream_stream.h): their own connection is up.
  virtual void onConnectSucceeded() {}
  virtual void onResponseHeaders(braid::http::Headers&& headers, bool endStream) = 0;
  virtual void onResponseData(std::string_view data, bool endStream) = 0;
  virtual void onResponseTrailers(braid::http::Headers&& trailers) = 0;
  // The stream is gone, no more events. 0: completed. http2::h2_error::kRefusedStream: the
  // server did not process it (RST_STREAM REFUSED_STREAM, above a GOAWAY's last stream, or never
  // sent): safe to send again. Anything else: reset, or the connection broke.
  virtual void onStreamClosed(uint32_t errorCode) = 0;
  // Every request byte given to sendData() left the stream's buffer.
  virtual void onRequestDrained() = 0;

 protected:
  ~H2StreamClient() = default;
};

class H2UpstreamConnection final : private hcm::UpstreamConnection::Client,
                                   private http2::H2ClientSession::Handler {
 public:
  class Owner {
   public:
    // Closed, every client told: the owner may destroy it (not inside this call).
    virtual void onConnectionDone(H2UpstreamConnection& connection) = 0;
    // Its last stream (or waiting client) is gone: idleDeadline() starts now.
    virtual void onConnectionIdle(H2UpstreamConnection& connection) = 0;

   protected:
    ~Owner() = default;
  };

  // `config` keeps `cluster` and `contexts` alive until the connection is up.
  H2UpstreamConnection(event_base* base, std::string key, const upstream::ClusterRuntime& cluster,
                       size_t endpoint, std::shared_ptr<WorkerConfig> config,
                       const tcp_proxy::ProxyLimits& limits, Owner& owner);
  ~H2UpstreamConnection();
  H2UpstreamConnection(const H2UpstreamConnection&) = delete;
  H2UpstreamConnection& operator=(const H2UpstreamConnection&) = delete;

  // Starts connecting; false: failed at once.
  bool connect();
  const std::string& key() const { return key_; }
  int endpoint() const { return endpoint_; }
  bool ready() const { return ready_ && !closed_; }
  bool closed() const { return closed_; }
  // Room for one more stream: not closing or draining, and streams plus waiting clients under
  // the server's SETTINGS_MAX_CONCURRENT_STREAMS (100 until they arrive).
  bool hasCapacity() const;

  // Before ready(): `client` gets onConnectionReady, onConnectionBusy or onConnectionFailed
  // later.
  void wait(H2StreamClient& client);
  void cancelWait(H2StreamClient& client);
  // Opens a stream for `client` (ready() only); < 0 when it could not.
  int32_t startStream(H2StreamClient& client, const braid::http::Headers& headers, bool endStream);
  bool sendData(int32_t streamId, std::string_view bytes, bool endStream);
  bool sendTrailers(int32_t streamId, const braid::http::Headers& trailers);
  void consumed(int32_t streamId, size_t n);
  size_t bufferedOutbound(int32_t streamId) const;
  // The client is done with its stream: it is reset (CANCEL) if still open; no more events.
  void abandon(int32_t streamId);
  size_t openStreams() const { return streams_.size(); }

  using Clock = hcm::SweepTimer::Clock;
  // No stream and no client waiting.
  bool idle() const { return !closed_ && streams_.empty() && waiting_.empty(); }
  bool draining() const { return draining_; }
  // When it has been idle for its cluster's idleTimeout (kNever: busy, or no timeout).
  Clock::time_point idleDeadline() const;
  // When it reaches its cluster's maxConnectionDuration (kNever: none, or draining already).
  Clock::time_point ageDeadline() const;
  // Takes no new stream: a GOAWAY follows the streams already opened, and it closes when the
  // last of them ends (at once when idle). Not from inside a client call.
  void drain(const char* why);
  // An idle connection: GOAWAY, then closed. Not from inside a client call.
  void closeIdle(const char* why);
  // Opened for a request to an endpoint the current configuration has dropped: only the streams
  // its callers open now go on it (no capacity for others), then a GOAWAY, then it closes.
  void markDraining() { draining_ = true; }
  // Its cluster's MeshTimeout changed: the deadlines above follow the new limits.
  void setLimits(std::chrono::milliseconds idleTimeout,
                 std::chrono::milliseconds maxConnectionDuration) {
    idleTimeout_ = idleTimeout;
    maxDuration_ = maxConnectionDuration;
  }

 private:
  // hcm::UpstreamConnection::Client
  void onUpstreamConnected(hcm::UpstreamConnection& connection) override;
  void onUpstreamConnectFailed(hcm::UpstreamConnection& connection) override;
  void onUpstreamReadable(hcm::UpstreamConnection& connection) override;
  void onUpstreamWritable(hcm::UpstreamConnection& connection) override;
  // http2::H2ClientSession::Handler
  void onResponseHeaders(int32_t streamId, braid::http::Headers&& headers, bool endStream) override;
  void onResponseData(int32_t streamId, std::string_view data, bool endStream) override;
  void onResponseTrailers(int32_t streamId, braid::http::Headers&& trailers) override;
  void onStreamReset(int32_t streamId, uint32_t errorCode) override;
  void onStreamClosed(int32_t streamId, uint32_t errorCode) override;
  void onGoAway(int32_t lastStreamId, uint32_t errorCode) override;
  void onSendBufferDrained(int32_t streamId) override;

  H2StreamClient* clientOf(int32_t streamId) const;
  // Writes what the session has queued (while the socket's output is under the watermark).
  void flush();
  void scheduleFlush();
  // Ends the connection: every stream and waiting client is told, then the owner.
  void close(const char* why);
  // Closes when nothing more can happen on it (GOAWAY with no streams left, or the session is
  // done); the last thing an event handler does.
  void closeIfFinished();
  // The server's SETTINGS arrived: waiting clients open their streams, as many as it allows.
  void becomeReady();
  // The last stream or waiting client just went: tells the owner (idle timeout), and a draining
  // connection closes from its flush timer.
  void noteIfIdle();

  event_base* base_;
  std::string key_;
  int endpoint_;
  std::shared_ptr<ClusterCounters> counters_;
  std::shared_ptr<WorkerConfig> config_;  // until connected
  const tcp_proxy::ProxyLimits& limits_;
  Owner& owner_;
  std::unique_ptr<hcm::UpstreamConnection> upstream_;
  http2::H2ClientSession session_;
  evbuffer* in_ = nullptr;
  event::Timer flushTimer_;
  std::map<int32_t, H2StreamClient*> streams_;  // abandoned streams are removed at once
  std::vector<H2StreamClient*> waiting_;
  bool connected_ = false;  // TCP (and TLS) up: bytes flow
  bool ready_ = false;      // and the server's SETTINGS are in: streams may open
  bool closed_ = false;
  bool flushScheduled_ = false;
  // MeshTimeout, from the cluster (0: none).
  const Clock::time_point created_ = Clock::now();
  std::chrono::milliseconds idleTimeout_;
  std::chrono::milliseconds maxDuration_;
  Clock::time_point idleSince_ = created_;
  bool busy_ = false;  // a stream or a waiting client since idleSince_
  bool draining_ = false;
  bool goAwaySent_ = false;
};

}  // namespace braid::dataplane::h2
