#pragma once

// The client side of one HTTP/2 connection (to another sidecar over mTLS with ALPN h2, or h2c
// to a local app), without sockets: the mirror of H2ServerSession. A connection pool reads
// maxConcurrentStreams() (from the server's SETTINGS) and canOpenStream() to decide when to
// open another connection. Response bodies reopen their window only through consumed().
// Handler methods run inside receive() or pendingOutput(); they may call submit*/sendData/
// resetStream/goAway/consumed, but not receive() or pendingOutput().

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/headers.h"
#include "dataplane/http2/h2_connection.h"
#include "dataplane/http2/h2_options.h"

namespace braid::dataplane::http2 {

class H2ClientSession : private H2Connection::Events {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // The final response head (:status and fields, names lower case).
    virtual void onResponseHeaders(int32_t streamId, braid::http::Headers&& headers,
                                   bool endStream) = 0;
    // 1xx responses (100 Continue, 103 Early Hints); ignored unless overridden.
    virtual void onInformationalHeaders(int32_t /*streamId*/, braid::http::Headers&& /*h*/) {}
    virtual void onResponseData(int32_t streamId, std::string_view data, bool endStream) = 0;
    virtual void onResponseTrailers(int32_t streamId, braid::http::Headers&& trailers) = 0;
    // The server sent RST_STREAM (kRefusedStream: not processed, safe to retry).
    virtual void onStreamReset(int32_t streamId, uint32_t errorCode) = 0;
    // The stream is gone (errorCode 0: completed; kRefusedStream also for requests never sent
    // because of a GOAWAY); no more calls for it.
    virtual void onStreamClosed(int32_t streamId, uint32_t errorCode) = 0;
    // Streams above lastStreamId were not processed and are closed with kRefusedStream.
    virtual void onGoAway(int32_t lastStreamId, uint32_t errorCode) = 0;
    virtual void onSendBufferDrained(int32_t /*streamId*/) {}
  };

  explicit H2ClientSession(Handler& handler, const H2Options& options = {});

  bool receive(std::string_view bytes) { return conn_.receive(bytes); }
  // The first call also yields the connection preface and our SETTINGS.
  size_t pendingOutput(std::string& out) { return conn_.pendingOutput(out); }
  const std::string& error() const { return conn_.error(); }

  // headers carry :method :scheme :authority :path (pseudo-headers are put first, names
  // lower-cased, HTTP/1 connection fields dropped). Returns the stream id, or < 0.
  int32_t submitRequest(const braid::http::Headers& headers, bool endStream) {
    return conn_.submitRequest(headers, endStream);
  }
  bool sendData(int32_t streamId, std::string_view bytes, bool endStream) {
    return conn_.sendData(streamId, bytes, endStream);
  }
  bool submitTrailers(int32_t streamId, const braid::http::Headers& trailers) {
    return conn_.submitTrailers(streamId, trailers);
  }
  bool resetStream(int32_t streamId, uint32_t errorCode = h2_error::kCancel) {
    return conn_.resetStream(streamId, errorCode);
  }
  void goAway(uint32_t errorCode = h2_error::kNoError) { conn_.goAway(errorCode); }
  void consumed(int32_t streamId, size_t n) { conn_.consumed(streamId, n); }

  size_t bufferedOutbound(int32_t streamId) const { return conn_.bufferedOutbound(streamId); }
  size_t unconsumedInbound(int32_t streamId) const { return conn_.unconsumedInbound(streamId); }
  size_t openStreams() const { return conn_.openStreams(); }
  uint32_t maxConcurrentStreams() const { return conn_.peerMaxConcurrentStreams(); }
  // The server's SETTINGS arrived: maxConcurrentStreams() is its own limit, not an assumption.
  bool settingsReceived() const { return conn_.peerSettingsReceived(); }
  // False once the server sent GOAWAY, or when the streams in use reach its limit.
  bool canOpenStream() const {
    return !conn_.peerWentAway() && !conn_.wantsClose() && openStreams() < maxConcurrentStreams();
  }
  std::optional<uint32_t> goAwaySentCode() const { return conn_.goAwaySentCode(); }
  bool wantsClose() const { return conn_.wantsClose(); }

 private:
  void onHeaders(int32_t streamId, braid::http::Headers&& headers, H2Connection::HeadersKind kind,
                 bool endStream) override;
  void onData(int32_t streamId, std::string_view data, bool endStream) override;
  void onHeadersTooLarge(int32_t) override {}
  void onReset(int32_t streamId, uint32_t errorCode) override;
  void onClosed(int32_t streamId, uint32_t errorCode) override;
  void onGoAway(int32_t lastStreamId, uint32_t errorCode) override;
  void onSendBufferDrained(int32_t streamId) override;

  Handler& handler_;
  H2Connection conn_;
};

}  // namespace braid::dataplane::http2
