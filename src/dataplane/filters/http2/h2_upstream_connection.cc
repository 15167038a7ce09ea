#include "dataplane/filters/http2/h2_upstream_connection.h"

#include <event2/buffer.h>

#include <algorithm>
#include <exception>

#include "common/log.h"
#include "dataplane/server/worker_config.h"

namespace braid::dataplane::h2 {
namespace {

constexpr int kReadsPerEvent = 4;
// Until the server's SETTINGS say otherwise (nghttp2 assumes the same).
constexpr uint32_t kDefaultMaxStreams = 100;

}  // namespace

H2UpstreamConnection::H2UpstreamConnection(event_base* base, std::string key,
                                           const upstream::ClusterRuntime& cluster, size_t endpoint,
                                           std::shared_ptr<WorkerConfig> config,
                                           const tcp_proxy::ProxyLimits& limits, Owner& owner)
    : base_(base),
      key_(std::move(key)),
      endpoint_(static_cast<int>(endpoint)),
      counters_(cluster.counters),
      config_(std::move(config)),
      limits_(limits),
      owner_(owner),
      session_(*this),
      flushTimer_(base,
                  [this] {
                    flushScheduled_ = false;
                    flush();
                    closeIfFinished();
                  }),
      idleTimeout_(cluster.config->idleTimeout),
      maxDuration_(cluster.config->maxConnectionDuration) {
  in_ = evbuffer_new();
  if (in_ == nullptr) throw std::bad_alloc();
  upstream_ = std::make_unique<hcm::UpstreamConnection>(base_, key_, cluster, endpoint,
                                                        config_->runtime->tls.get());
}

H2UpstreamConnection::~H2UpstreamConnection() { evbuffer_free(in_); }

bool H2UpstreamConnection::connect() {
  hcm::UpstreamConnection::Client& client = *this;
  if (upstream_->connect(client)) return true;
  closed_ = true;
  return false;
}

bool H2UpstreamConnection::hasCapacity() const {
  if (closed_ || draining_) return false;
  const size_t used = session_.openStreams() + waiting_.size();
  if (!ready_) return used < kDefaultMaxStreams;
  return session_.canOpenStream() && used < session_.maxConcurrentStreams();
}

void H2UpstreamConnection::wait(H2StreamClient& client) {
  waiting_.push_back(&client);
  busy_ = true;
}

void H2UpstreamConnection::cancelWait(H2StreamClient& client) {
  std::erase(waiting_, &client);
  noteIfIdle();
}

H2UpstreamConnection::Clock::time_point H2UpstreamConnection::idleDeadline() const {
  if (!idle() || idleTimeout_.count() <= 0) return hcm::SweepTimer::kNever;
  return idleSince_ + idleTimeout_;
}

H2UpstreamConnection::Clock::time_point H2UpstreamConnection::ageDeadline() const {
  if (closed_ || draining_ || maxDuration_.count() <= 0) return hcm::SweepTimer::kNever;
  return created_ + maxDuration_;
}

void H2UpstreamConnection::drain(const char* why) {
  if (closed_ || draining_) return;
  log::debug("upstream HTTP/2 connection draining", {{"endpoint", key_}, {"why", why}});
  draining_ = true;
  if (idle()) {
    closeIdle(why);
    return;
  }
  scheduleFlush();  // the GOAWAY, after what the streams already queued (flush)
}

void H2UpstreamConnection::closeIdle(const char* why) {
  if (closed_) return;
  draining_ = true;
  flush();  // the GOAWAY, when the server's SETTINGS are in (before them: just the close)
  close(why);
}

void H2UpstreamConnection::noteIfIdle() {
  if (!busy_ || !idle()) return;
  busy_ = false;
  idleSince_ = Clock::now();
  owner_.onConnectionIdle(*this);
  if (draining_) scheduleFlush();  // the flush timer closes it (closeIfFinished)
}

int32_t H2UpstreamConnection::startStream(H2StreamClient& client,
                                          const braid::http::Headers& headers, bool endStream) {
  if (!ready()) return -1;
  const int32_t id = session_.submitRequest(headers, endStream);
  if (id < 0) return id;
  streams_[id] = &client;
  busy_ = true;
  scheduleFlush();
  return id;
}

bool H2UpstreamConnection::sendData(int32_t streamId, std::string_view bytes, bool endStream) {
  if (!session_.sendData(streamId, bytes, endStream)) return false;
  scheduleFlush();
  return true;
}

bool H2UpstreamConnection::sendTrailers(int32_t streamId, const braid::http::Headers& trailers) {
  if (!session_.submitTrailers(streamId, trailers)) return false;
  scheduleFlush();
  return true;
}

void H2UpstreamConnection::consumed(int32_t streamId, size_t n) {
  session_.consumed(streamId, n);
  scheduleFlush();  // the WINDOW_UPDATE
}

size_t H2UpstreamConnection::bufferedOutbound(int32_t streamId) const {
  return session_.bufferedOutbound(streamId);
}

void H2UpstreamConnection::abandon(int32_t streamId) {
  if (streams_.erase(streamId) == 0) return;
  if (closed_) return;
  session_.resetStream(streamId, http2::h2_error::kCancel);
  scheduleFlush();
  noteIfIdle();
}

H2StreamClient* H2UpstreamConnection::clientOf(int32_t streamId) const {
  auto found = streams_.find(streamId);
  return found == streams_.end() ? nullptr : found->second;
}

void H2UpstreamConnection::scheduleFlush() {
  if (flushScheduled_ || closed_ || !connected_) return;
  flushScheduled_ = true;
  flushTimer_.schedule(std::chrono::milliseconds(0));
}

void H2UpstreamConnection::flush() {
  if (closed_ || !connected_) return;
  network::StreamSocket& socket = upstream_->socket();
  if (socket.outputLength() < limits_.highWatermark) {
    std::string out;
    session_.pendingOutput(out);
    if (draining_ && ready_ && !goAwaySent_) {
      // Only now: nghttp2 sends a GOAWAY ahead of the HEADERS still queued, and then refuses
      // them; these went out just above.
      goAwaySent_ = true;
      session_.goAway(http2::h2_error::kNoError);
      session_.pendingOutput(out);
    }
    if (!out.empty()) evbuffer_add(socket.output(), out.data(), out.size());
  }
  if (closed_) return;  // a client callback inside pendingOutput cannot close us, but be sure
  size_t count = 0;
  auto io = socket.flush(count);
  counters_->bytesSent.fetch_add(count, std::memory_order_relaxed);
  if (io == network::StreamSocket::Io::kError) close("write failed");
}

// ---- connection events ----

void H2UpstreamConnection::onUpstreamConnected(hcm::UpstreamConnection& connection) {
  connected_ = true;
  config_.reset();  // the cluster and TLS contexts are no longer used
  connection.socket().setReadEnabled(true);
  flush();  // our preface and SETTINGS; streams wait for the server's (becomeReady)
  closeIfFinished();
}

void H2UpstreamConnection::becomeReady() {
  // Streams opened before the server's limit is known would go out under nghttp2's assumption
  // (100) and be refused beyond the real one; after it, nghttp2 queues what does not fit, so
  // the waiters beyond the limit go to another connection instead of queueing here.
  ready_ = true;
  std::vector<H2StreamClient*> waiting;
  waiting.swap(waiting_);
  for (H2StreamClient* client : waiting) {
    if (session_.openStreams() < session_.maxConcurrentStreams()) {
      client->onConnectionReady(*this);
    } else {
      client->onConnectionBusy();
    }
  }
  noteIfIdle();
}

void H2UpstreamConnection::onUpstreamConnectFailed(hcm::UpstreamConnection&) {
  close("connect failed");
}

void H2UpstreamConnection::onUpstreamWritable(hcm::UpstreamConnection&) {
  flush();
  closeIfFinished();
}

void H2UpstreamConnection::onUpstreamReadable(hcm::UpstreamConnection& connection) {
  network::StreamSocket& socket = connection.socket();
  bool eof = false;
  for (int reads = 0; reads < kReadsPerEvent && !closed_; ++reads) {
    size_t count = 0;
    auto io = socket.readInto(in_, limits_.readSize, count);
    counters_->bytesReceived.fetch_add(count, std::memory_order_relaxed);
    if (io == network::StreamSocket::Io::kEof || io == network::StreamSocket::Io::kError) {
      eof = true;
    }
    const size_t length = evbuffer_get_length(in_);
    if (length > 0) {
      std::string_view bytes(reinterpret_cast<const char*>(evbuffer_pullup(in_, -1)), length);
      const bool ok = session_.receive(bytes);
      evbuffer_drain(in_, length);
      if (!ok) {
        log::debug("upstream HTTP/2 error", {{"endpoint", key_}, {"error", session_.error()}});
        flush();  // the GOAWAY
        close("protocol error");
        return;
      }
    }
    if (eof || io != network::StreamSocket::Io::kOk || count < limits_.readSize) break;
  }
  if (eof) {
    close("closed by the peer");
    return;
  }
  if (!ready_ && session_.settingsReceived()) becomeReady();
  flush();
  closeIfFinished();
}

// ---- session events ----

void H2UpstreamConnection::onResponseHeaders(int32_t streamId, braid::http::Headers&& headers,
                                             bool endStream) {
  if (H2StreamClient* client = clientOf(streamId)) {
    client->onResponseHeaders(std::move(headers), endStream);
  }
}

void H2UpstreamConnection::onResponseData(int32_t streamId, std::string_view data, bool endStream) {
  if (H2StreamClient* client = clientOf(streamId)) {
    client->onResponseData(data, endStream);
  } else if (!data.empty()) {
    session_.consumed(streamId, data.size());  // nobody reads it: keep the window open
  }
}

void H2UpstreamConnection::onResponseTrailers(int32_t streamId, braid::http::Headers&& trailers) {
  if (H2StreamClient* client = clientOf(streamId)) client->onResponseTrailers(std::move(trailers));
}

void H2UpstreamConnection::onStreamReset(int32_t, uint32_t) {
  // onStreamClosed follows with the code.
}

void H2UpstreamConnection::onStreamClosed(int32_t streamId, uint32_t errorCode) {
  auto found = streams_.find(streamId);
  if (found == streams_.end()) return;
  H2StreamClient* client = found->second;
  streams_.erase(found);
  client->onStreamClosed(errorCode);
  noteIfIdle();
}

void H2UpstreamConnection::onGoAway(int32_t lastStreamId, uint32_t errorCode) {
  log::debug("upstream GOAWAY", {{"endpoint", key_},
                                 {"last_stream", std::to_string(lastStreamId)},
                                 {"error", std::to_string(errorCode)}});
}

void H2UpstreamConnection::onSendBufferDrained(int32_t streamId) {
  if (H2StreamClient* client = clientOf(streamId)) client->onRequestDrained();
}

void H2UpstreamConnection::closeIfFinished() {
  if (closed_) return;
  if (draining_ && streams_.empty() && waiting_.empty()) {
    flush();  // the GOAWAY, if not out yet
    close("drained");
    return;
  }
  const bool goneAway = ready_ && !session_.canOpenStream() && session_.openStreams() == 0 &&
                        waiting_.empty() && streams_.empty();
  const bool sessionDone = connected_ && session_.wantsClose();
  if (goneAway || sessionDone) close("finished");
}

void H2UpstreamConnection::close(const char* why) {
  if (closed_) return;
  log::debug("upstream HTTP/2 connection closed", {{"endpoint", key_}, {"why", why}});
  closed_ = true;
  flushTimer_.cancel();
  std::vector<H2StreamClient*> waiting;
  waiting.swap(waiting_);
  std::map<int32_t, H2StreamClient*> streams;
  streams.swap(streams_);
  for (H2StreamClient* client : waiting) client->onConnectionFailed();
  // Streams the server never answered and never saw are as good as refused; we cannot tell
  // those apart from ones it was working on, so they are resets (retried only if the policy
  // says so).
  for (auto& [id, client] : streams) client->onStreamClosed(http2::h2_error::kInternalError);
  upstream_.reset();
  owner_.onConnectionDone(*this);
}

}  // namespace braid::dataplane::h2
