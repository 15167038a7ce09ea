#include "dataplane/filters/http/h2_bridge.h"

#include <charconv>

#include "common/http/response_writer.h"
#include "dataplane/filters/http/header_rules.h"

namespace braid::dataplane::hcm {
namespace {
constexpr int32_t kStreamId = 1;  // one request per bridge
}  // namespace

Http2Bridge::Http2Bridge(const h2::H2RequestContext& context, BridgeDownstream& downstream,
                         const http1::MessageHead& request, bool closeAfter)
    : downstream_(downstream), request_(request), closeAfter_(closeAfter) {
  h2::ResponseSink& sink = *this;
  stream_ = std::make_unique<h2::H2StreamRequest>(context, kStreamId, sink);
}

Http2Bridge::~Http2Bridge() = default;

void Http2Bridge::start(bool endStream) {
  braid::http::Headers headers;
  headers.reserve(request_.headers.size() + 4);
  headers.emplace_back(":method", request_.method);
  headers.emplace_back(":scheme", "http");
  headers.emplace_back(":authority", std::string(headerValue(request_.headers, "host")));
  headers.emplace_back(":path", request_.target);
  // RFC 9113 §8.2.2: TE may only say "trailers" (gRPC servers insist on it); other
  // connection-specific fields go.
  if (headerValue(request_.headers, "te").find("trailers") != std::string_view::npos) {
    headers.emplace_back("te", "trailers");
  }
  braid::http::Headers rest = request_.headers;
  removeHopByHop(rest);
  for (auto& field : rest) {
    if (field.first == "host" || field.first == "expect") continue;
    headers.push_back(std::move(field));
  }
  stream_->onHeaders(std::move(headers), endStream);
}

void Http2Bridge::body(std::string_view piece) {
  if (piece.empty() || done_) return;
  given_ += piece.size();
  stream_->onData(piece, false);
}

void Http2Bridge::end(const braid::http::Headers& trailers) {
  if (done_) return;
  if (trailers.empty()) {
    stream_->onData({}, true);
  } else {
    braid::http::Headers copy = trailers;
    stream_->onTrailers(std::move(copy));
  }
}

void Http2Bridge::drained() {
  if (!done_) stream_->onResponseDrained();
}

bool Http2Bridge::respond(int32_t, int status, const braid::http::Headers& headers,
                          bool endStream) {
  if (responseStarted_ || done_) return false;
  responseStarted_ = true;
  http1::MessageHead out;
  out.status = status;
  out.reason = braid::http::reasonPhrase(status);
  out.minorVersion = 1;
  out.headers = headers;
  std::string length(headerValue(headers, "content-length"));
  uint64_t lengthValue = 0;
  auto parsed = std::from_chars(length.data(), length.data() + length.size(), lengthValue);
  if (parsed.ec != std::errc() || parsed.ptr != length.data() + length.size()) length.clear();
  removeHopByHop(out.headers);
  noBody_ = request_.method == "HEAD" || status == 204 || status == 304;
  if (noBody_) {
    if (!length.empty()) out.headers.emplace_back("content-length", length);
  } else if (endStream) {
    out.headers.emplace_back("content-length", "0");
  } else if (!length.empty()) {
    out.headers.emplace_back("content-length", length);
    declared_ = lengthValue;
  } else if (request_.minorVersion >= 1) {
    out.headers.emplace_back("transfer-encoding", "chunked");
    chunked_ = true;
  } else {
    closeAfter_ = true;  // an HTTP/1.0 caller: the close ends the body
  }
  if (closeAfter_) {
    out.headers.emplace_back("connection", "close");
  } else if (request_.minorVersion == 0) {
    out.headers.emplace_back("connection", "keep-alive");
  }
  std::string serialized;
  http1::appendResponseHead(out, serialized);
  downstream_.bridgeWrite(serialized);
  if (endStream) finish(true);
  return true;
}

bool Http2Bridge::sendData(int32_t, std::string_view bytes, bool endStream) {
  if (!responseStarted_ || done_) return false;
  if (!bytes.empty() && !noBody_) {
    written_ += bytes.size();
    if (chunked_) {
      std::string framed;
      http1::appendChunk(bytes, framed);
      downstream_.bridgeWrite(framed);
    } else {
      downstream_.bridgeWrite(bytes);
    }
  }
  if (endStream) {
    if (chunked_) {
      std::string last;
      http1::appendLastChunk({}, last);
      downstream_.bridgeWrite(last);
    }
    finish(true);
  }
  return true;
}

bool Http2Bridge::sendTrailers(int32_t, const braid::http::Headers& trailers) {
  if (!responseStarted_ || done_) return false;
  if (chunked_) {
    std::string last;
    http1::appendLastChunk(trailers, last);  // e.g. grpc-status reaches an HTTP/1.1 caller
    downstream_.bridgeWrite(last);
  }
  finish(true);
  return true;
}

void Http2Bridge::resetStream(int32_t, uint32_t) {
  // The response was cut short (or never came): the caller's connection cannot carry on.
  finish(false);
}

void Http2Bridge::consumedRequest(int32_t, size_t n) {
  consumed_ += n;
  downstream_.bridgeConsumed(n);
}

size_t Http2Bridge::bufferedResponse(int32_t) const { return downstream_.bridgeBuffered(); }

void Http2Bridge::finish(bool clean) {
  if (done_) return;
  done_ = true;
  if (declared_ && written_ != *declared_) clean = false;  // cut short (e.g. a timeout's trailers)
  downstream_.bridgeDone(clean);
}

}  // namespace braid::dataplane::hcm
