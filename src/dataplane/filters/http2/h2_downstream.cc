#include "dataplane/filters/http2/h2_downstream.h"

#include <event2/buffer.h>

#include <exception>

#include "common/log.h"
#include "dataplane/network/socket_ops.h"

namespace braid::dataplane::h2 {
namespace {

constexpr int kReadsPerEvent = 4;

// The context with the app's address filled in (read before the socket is taken over).
H2RequestContext withSourceIp(H2RequestContext context, int fd) {
  context.sourceIp = network::peerIp(fd);
  return context;
}

}  // namespace

H2Downstream::H2Downstream(const H2RequestContext& context, network::UniqueFd socket,
                           std::string received, const tcp_proxy::ProxyLimits& limits, Owner& owner)
    : context_(withSourceIp(context, socket.get())),
      limits_(limits),
      owner_(owner),
      socket_(context.base, std::move(socket), *this),
      session_(*this),
      received_(std::move(received)),
      flushTimer_(context.base, [this] {
        flushScheduled_ = false;
        flush();
        finishIfDead();
      }) {
  in_ = evbuffer_new();
  if (in_ == nullptr) throw std::bad_alloc();
  // The HTTP/1.1 manager counted the connection in connectionsTotal when it accepted it.
  context_.listener->counters->connectionsActive.fetch_add(1, std::memory_order_relaxed);
}

H2Downstream::~H2Downstream() {
  requests_.clear();  // they answer through the session: before it goes
  context_.listener->counters->connectionsActive.fetch_sub(1, std::memory_order_relaxed);
  evbuffer_free(in_);
}

bool H2Downstream::start() {
  std::string received = std::move(received_);
  if (!receive(received)) {
    flush();
    if (socket_.outputLength() == 0) return false;
  } else {
    flush();
  }
  if (dead_) return false;
  socket_.setReadEnabled(!failed_);
  return true;
}

size_t H2Downstream::bufferedBytes() const {
  size_t total = socket_.outputLength() + evbuffer_get_length(in_);
  for (const auto& [id, request] : requests_) total += session_.bufferedOutbound(id);
  return total;
}

bool H2Downstream::receive(std::string_view bytes) {
  if (bytes.empty()) return true;
  if (session_.receive(bytes)) return true;
  log::debug("downstream HTTP/2 error", {{"error", session_.error()}});
  failed_ = true;
  return false;
}

void H2Downstream::finishIfDead() {
  if (!dead_) return;
  owner_.onH2DownstreamClosed(*this);  // destroys this
}

void H2Downstream::drain() {
  if (dead_) return;
  session_.goAway(http2::h2_error::kNoError);
  scheduleFlush();  // writes the GOAWAY; closes once no stream is left
}

void H2Downstream::scheduleFlush() {
  if (flushScheduled_ || dead_) return;
  flushScheduled_ = true;
  flushTimer_.schedule(std::chrono::milliseconds(0));
}

void H2Downstream::flush() {
  if (dead_) return;
  if (socket_.outputLength() < limits_.highWatermark) {
    std::string out;
    session_.pendingOutput(out);
    if (!out.empty()) evbuffer_add(socket_.output(), out.data(), out.size());
  }
  size_t count = 0;
  auto io = socket_.flush(count);
  context_.listener->counters->bytesSent.fetch_add(count, std::memory_order_relaxed);
  if (io == network::StreamSocket::Io::kError) {
    dead_ = true;
    return;
  }
  if (socket_.outputLength() == 0 && (failed_ || session_.wantsClose() || socket_.readClosed())) {
    dead_ = true;
  }
}

void H2Downstream::onReadable(network::StreamSocket&) {
  for (int reads = 0; reads < kReadsPerEvent && !dead_ && !failed_; ++reads) {
    size_t count = 0;
    auto io = socket_.readInto(in_, limits_.readSize, count);
    context_.listener->counters->bytesReceived.fetch_add(count, std::memory_order_relaxed);
    const size_t length = evbuffer_get_length(in_);
    if (length > 0) {
      std::string_view bytes(reinterpret_cast<const char*>(evbuffer_pullup(in_, -1)), length);
      const bool ok = receive(bytes);
      evbuffer_drain(in_, length);
      if (!ok) {
        socket_.setReadEnabled(false);
        break;
      }
    }
    if (io == network::StreamSocket::Io::kError) {
      dead_ = true;
      break;
    }
    // kEof: the app closed; flush() ends the connection once the output is written.
    if (io != network::StreamSocket::Io::kOk || count < limits_.readSize) break;
  }
  flush();
  finishIfDead();
}

void H2Downstream::onWritable(network::StreamSocket&) {
  flush();
  finishIfDead();
}

// ---- session events (inside receive() or pendingOutput()) ----

H2StreamRequest* H2Downstream::find(int32_t streamId) {
  auto found = requests_.find(streamId);
  return found == requests_.end() ? nullptr : found->second.get();
}

H2RequestContext H2Downstream::latestContext() {
  H2RequestContext context = context_;
  std::shared_ptr<WorkerConfig> latest = owner_.currentConfig();
  if (!latest || latest == context_.config) return context;
  auto found = latest->routes.find(context_.listener->addressKey);
  // Gone from the configuration, or no longer HTTP: the connection keeps what it came with.
  if (found == latest->routes.end() || !found->second.listener->config->http) return context;
  context.config = std::move(latest);
  context.listener = found->second.listener;
  return context;
}

void H2Downstream::onRequestHeaders(int32_t streamId, braid::http::Headers&& headers,
                                    bool endStream) {
  ResponseSink& sink = *this;
  std::unique_ptr<H2StreamRequest> request;
  try {
    request = std::make_unique<H2StreamRequest>(latestContext(), streamId, sink);
  } catch (const std::exception&) {
    session_.resetStream(streamId, http2::h2_error::kInternalError);
    return;
  }
  H2StreamRequest* raw = request.get();
  requests_.emplace(streamId, std::move(request));
  raw->onHeaders(std::move(headers), endStream);
  scheduleFlush();
}

void H2Downstream::onRequestData(int32_t streamId, std::string_view data, bool endStream) {
  if (H2StreamRequest* request = find(streamId)) {
    request->onData(data, endStream);
  } else if (!data.empty()) {
    session_.consumed(streamId, data.size());
  }
}

void H2Downstream::onRequestTrailers(int32_t streamId, braid::http::Headers&& trailers) {
  if (H2StreamRequest* request = find(streamId)) request->onTrailers(std::move(trailers));
}

void H2Downstream::onStreamReset(int32_t streamId, uint32_t) {
  if (H2StreamRequest* request = find(streamId)) request->onDownstreamReset();
}

void H2Downstream::onStreamClosed(int32_t streamId, uint32_t) {
  requests_.erase(streamId);  // resets its upstream stream if still open
}

void H2Downstream::onSendBufferDrained(int32_t streamId) {
  if (H2StreamRequest* request = find(streamId)) request->onResponseDrained();
}

// ---- ResponseSink (called by requests) ----

bool H2Downstream::respond(int32_t streamId, int status, const braid::http::Headers& headers,
                           bool endStream) {
  scheduleFlush();
  return session_.submitResponse(streamId, status, headers, endStream);
}

bool H2Downstream::sendData(int32_t streamId, std::string_view bytes, bool endStream) {
  scheduleFlush();
  return session_.sendData(streamId, bytes, endStream);
}

bool H2Downstream::sendTrailers(int32_t streamId, const braid::http::Headers& trailers) {
  scheduleFlush();
  return session_.submitTrailers(streamId, trailers);
}

void H2Downstream::resetStream(int32_t streamId, uint32_t errorCode) {
  scheduleFlush();
  session_.resetStream(streamId, errorCode);
}

void H2Downstream::endAfterResponse(int32_t streamId) {
  scheduleFlush();
  session_.resetAfterResponse(streamId);
}

void H2Downstream::consumedRequest(int32_t streamId, size_t n) {
  scheduleFlush();  // the WINDOW_UPDATE
  session_.consumed(streamId, n);
}

size_t H2Downstream::bufferedResponse(int32_t streamId) const {
  return session_.bufferedOutbound(streamId);
}

}  // namespace braid::dataplane::h2
