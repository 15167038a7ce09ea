#include "dataplane/filters/http2/h1_upstream_stream.h"

#include <event2/buffer.h>

#include <exception>

#include "dataplane/filters/http/header_rules.h"
#include "dataplane/http2/h2_options.h"

namespace braid::dataplane::h2 {
namespace {

constexpr int kReadsPerEvent = 4;
// Response bytes handed to the client and not yet consumed before reading pauses: the same
// window an HTTP/2 upstream stream grants.
constexpr size_t kResponseWindow = 256 * 1024;
// Request bytes waiting for the socket before the client is told to hold back.
constexpr size_t kRequestWatermark = 64 * 1024;

// RFC 9110 §9.2.2.
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

H1UpstreamStream::H1UpstreamStream(event_base* base, hcm::UpstreamPool& pool,
                                   const tcp_proxy::ProxyLimits& limits, H2StreamClient& client)
    : base_(base), pool_(pool), limits_(limits), client_(&client), resumeTimer_(base, [this] {
        if (upstream_ && upstream_->connected()) upstream_->socket().setReadEnabled(true);
        processResponse();
      }) {
  in_ = evbuffer_new();
  if (in_ == nullptr) throw std::bad_alloc();
}

H1UpstreamStream::~H1UpstreamStream() { evbuffer_free(in_); }

http1::MessageHead http1HeadOf(const braid::http::Headers& headers) {
  http1::MessageHead head;
  head.method = std::string(hcm::headerValue(headers, ":method"));
  head.target = std::string(hcm::headerValue(headers, ":path"));
  head.minorVersion = 1;
  head.headers.emplace_back("host", std::string(hcm::headerValue(headers, ":authority")));
  // HTTP/2 may split `cookie` into one field per crumb; HTTP/1.1 allows one Cookie line, so
  // they are joined again with "; " (RFC 9113 §8.2.3).
  std::string cookie;
  bool hasCookie = false;
  for (const auto& field : headers) {
    if (field.first.empty() || field.first[0] == ':' || field.first == "host") continue;
    if (field.first == "cookie") {
      if (hasCookie) cookie += "; ";
      cookie += field.second;
      hasCookie = true;
      continue;
    }
    head.headers.push_back(field);
  }
  if (hasCookie) head.headers.emplace_back("cookie", std::move(cookie));
  hcm::removeHopByHop(head.headers);  // also the framing fields: the caller writes its own
  return head;
}

bool H1UpstreamStream::start(const upstream::ClusterRuntime& cluster, size_t endpoint,
                             const tls::TlsContexts* contexts, const braid::http::Headers& headers,
                             bool endStream) {
  http1::MessageHead head = http1HeadOf(headers);
  const std::string contentLength(hcm::headerValue(headers, "content-length"));
  if (!endStream) {
    chunked_ = contentLength.empty();
    head.headers.emplace_back(chunked_ ? "transfer-encoding" : "content-length",
                              chunked_ ? "chunked" : contentLength);
  } else if (!contentLength.empty()) {
    head.headers.emplace_back("content-length", contentLength);
  }
  method_ = head.method;
  requestDone_ = endStream;
  std::string serialized;
  http1::appendRequestHead(head, serialized);
  pending_ = std::move(serialized);
  parser_.emplace(http1::Parser::Kind::kResponse);
  parser_->expectResponseTo(method_);

  hcm::UpstreamConnection::Client& self = *this;
  std::string key = hcm::UpstreamPool::key(cluster, endpoint);
  // MeshTimeout idleTimeout and http.maxConnectionDuration, as the HTTP/1.1 manager applies them.
  maxConnectionDuration_ = cluster.config->maxConnectionDuration;
  upstream_ = pool_.take(key, self, cluster.config->idleTimeout);
  if (upstream_) {
    reused_ = true;
    ++upstream_->requests;
    upstream_->socket().setReadEnabled(true);
    write({});
    return true;
  }
  try {
    upstream_ = std::make_unique<hcm::UpstreamConnection>(base_, std::move(key), cluster, endpoint,
                                                          contexts);
  } catch (const std::exception&) {
    return false;
  }
  if (!upstream_->connect(self)) {
    upstream_.reset();
    return false;
  }
  ++upstream_->requests;
  return true;
}

void H1UpstreamStream::write(std::string_view bytes) {
  if (!upstream_ || !upstream_->connected()) {
    pending_.append(bytes);
    return;
  }
  evbuffer* out = upstream_->socket().output();
  if (!pending_.empty()) {
    evbuffer_add(out, pending_.data(), pending_.size());
    std::string().swap(pending_);
  }
  if (!bytes.empty()) evbuffer_add(out, bytes.data(), bytes.size());
  // Written from the socket's write event when it cannot go at once; never re-entering the
  // client from inside its own call.
  size_t count = 0;
  auto io = upstream_->socket().flush(count);
  if (io == network::StreamSocket::Io::kError) eof_ = true;  // seen by the reader
}

void H1UpstreamStream::sendData(std::string_view data, bool endStream) {
  if (requestDone_ || failed_) return;
  std::string framed;
  if (chunked_) {
    if (!data.empty()) http1::appendChunk(data, framed);
    if (endStream) http1::appendLastChunk({}, framed);
    write(framed);
  } else {
    write(data);
  }
  requestDone_ = endStream;
}

void H1UpstreamStream::sendTrailers(const braid::http::Headers& trailers) {
  if (requestDone_ || failed_) return;
  std::string framed;
  if (chunked_) http1::appendLastChunk(trailers, framed);
  write(framed);
  requestDone_ = true;
}

void H1UpstreamStream::consumed(size_t n) {
  const bool wasPaused = unconsumed_ > kResponseWindow;
  unconsumed_ -= std::min(n, unconsumed_);
  if (wasPaused && unconsumed_ <= kResponseWindow) {
    resumeTimer_.schedule(std::chrono::milliseconds(0));  // not inside the client's call
  }
}

size_t H1UpstreamStream::bufferedOutbound() const {
  if (!upstream_ || !upstream_->connected()) return pending_.size();
  return upstream_->socket().outputLength();
}

void H1UpstreamStream::detach() {
  client_ = nullptr;
  resumeTimer_.cancel();
  upstream_.reset();
}

// ---- connection events ----

void H1UpstreamStream::onUpstreamConnected(hcm::UpstreamConnection& connection) {
  connection.socket().setReadEnabled(true);
  write({});
  if (client_ != nullptr) client_->onConnectSucceeded();
}

void H1UpstreamStream::onUpstreamConnectFailed(hcm::UpstreamConnection&) {
  upstream_.reset();  // its last action was this call
  failed_ = true;
  if (H2StreamClient* client = client_) {
    client_ = nullptr;
    client->onConnectionFailed();
  }
}

void H1UpstreamStream::onUpstreamWritable(hcm::UpstreamConnection& connection) {
  size_t count = 0;
  auto io = connection.socket().flush(count);
  if (io == network::StreamSocket::Io::kError) {
    fail();
    return;
  }
  if (client_ != nullptr && connection.socket().outputLength() <= kRequestWatermark) {
    client_->onRequestDrained();
  }
}

void H1UpstreamStream::onUpstreamReadable(hcm::UpstreamConnection& connection) {
  for (int reads = 0; reads < kReadsPerEvent; ++reads) {
    size_t count = 0;
    auto io = connection.socket().readInto(in_, limits_.readSize, count);
    if (count > 0) received_ = true;
    if (io == network::StreamSocket::Io::kEof || io == network::StreamSocket::Io::kError) {
      eof_ = true;
      break;
    }
    if (io != network::StreamSocket::Io::kOk || count < limits_.readSize) break;
  }
  processResponse();  // may close the connection: nothing touches it afterwards
}

// ---- the response ----

void H1UpstreamStream::processResponse() {
  while (client_ != nullptr && parser_ && !failed_) {
    if (unconsumed_ > kResponseWindow) {
      if (upstream_ && upstream_->connected()) upstream_->socket().setReadEnabled(false);
      return;
    }
    if (evbuffer_get_length(in_) == 0) {
      // The parser still reports what it owes (the end of a body it has all of) on no input.
      if (!eof_ && parser_->idle()) return;
    }
    if (evbuffer_get_length(in_) == 0 && eof_) {
      if (parser_->idle()) {
        fail();  // closed before (the rest of) a response
        return;
      }
      if (eofNoted_) {
        fail();
        return;
      }
      eofNoted_ = true;
      parser_->noteEof();  // completes a close-delimited body, or fails a cut-short one
    }
    std::string_view input = view(in_);
    const size_t length = input.size();
    const auto event = parser_->next(input);
    const size_t used = length - input.size();
    switch (event) {
      case http1::Parser::Event::kNeedMore:
        evbuffer_drain(in_, used);
        if (!eof_) return;
        break;  // the EOF is noted on the next round
      case http1::Parser::Event::kHead: {
        evbuffer_drain(in_, used);
        const http1::MessageHead& head = parser_->head();
        if (head.status < 200) {
          interim_ = true;  // 1xx: dropped
          break;
        }
        braid::http::Headers out;
        out.emplace_back(":status", std::to_string(head.status));
        braid::http::Headers fields = head.headers;
        hcm::removeHopByHop(fields);
        out.insert(out.end(), fields.begin(), fields.end());
        if (head.contentLength && method_ != "HEAD" && head.status != 204 && head.status != 304) {
          out.emplace_back("content-length", std::to_string(*head.contentLength));
        }
        client_->onResponseHeaders(std::move(out), false);
        break;
      }
      case http1::Parser::Event::kBody: {
        std::string_view piece = parser_->body();
        unconsumed_ += piece.size();
        client_->onResponseData(piece, false);
        evbuffer_drain(in_, used);
        break;
      }
      case http1::Parser::Event::kTrailers:
        evbuffer_drain(in_, used);
        break;
      case http1::Parser::Event::kComplete:
        evbuffer_drain(in_, used);
        if (interim_) {
          interim_ = false;
          break;
        }
        complete();
        return;
      case http1::Parser::Event::kUpgraded:
      case http1::Parser::Event::kError:
        evbuffer_drain(in_, evbuffer_get_length(in_));
        fail();
        return;
    }
  }
}

void H1UpstreamStream::complete() {
  braid::http::Headers trailers = parser_->trailers();
  const bool reusable = requestDone_ && parser_->head().keepAlive && !eof_ &&
                        evbuffer_get_length(in_) == 0 && pending_.empty() && upstream_ &&
                        upstream_->connected() && upstream_->socket().outputLength() == 0;
  parser_.reset();
  if (reusable) {
    pool_.release(std::move(upstream_), maxConnectionDuration_);
  } else {
    upstream_.reset();
  }
  if (client_ == nullptr) return;
  if (trailers.empty()) {
    client_->onResponseData({}, true);
  } else {
    client_->onResponseTrailers(std::move(trailers));
  }
  if (H2StreamClient* client = client_) {
    client_ = nullptr;
    client->onStreamClosed(http2::h2_error::kNoError);
  }
}

void H1UpstreamStream::fail() {
  if (failed_) return;
  failed_ = true;
  upstream_.reset();
  H2StreamClient* client = client_;
  client_ = nullptr;
  if (client == nullptr) return;
  // A pooled connection the server had closed as it was reused, before a byte of the answer:
  // not processed, so an idempotent request may go again (as the HTTP/1.1 manager does).
  const bool stale = reused_ && !received_ && idempotent(method_);
  client->onStreamClosed(stale ? http2::h2_error::kRefusedStream : http2::h2_error::kInternalError);
}

}  // namespace braid::dataplane::h2
