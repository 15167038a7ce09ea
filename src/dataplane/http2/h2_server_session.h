#pragma once

// The server side of one HTTP/2 connection (h2c with prior knowledge from an app, or h2 over
// mTLS from another sidecar), without sockets: the caller feeds received bytes to receive(),
// writes what pendingOutput() appends, and answers streams through submitResponse()/sendData().
// Flow control follows the caller's forwarding: a stream's window reopens only as consumed()
// reports bytes passed on, so at most H2Options::initialStreamWindow unforwarded bytes per
// stream are ever held. Guards (header limits → 431, concurrent streams, rapid reset,
// CONTINUATION, SETTINGS/PING floods) are set from H2Options.
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

class H2ServerSession : private H2Connection::Events {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // headers include the pseudo-headers (:method :scheme :authority :path), names lower case,
    // validated by nghttp2 (RFC 9113 §8.2, §8.3).
    virtual void onRequestHeaders(int32_t streamId, braid::http::Headers&& headers,
                                  bool endStream) = 0;
    // Pieces as they arrive; each is later passed to consumed() once forwarded. The end of
    // the body may come as an empty piece with endStream.
    virtual void onRequestData(int32_t streamId, std::string_view data, bool endStream) = 0;
    virtual void onRequestTrailers(int32_t streamId, braid::http::Headers&& trailers) = 0;
    // The client sent RST_STREAM.
    virtual void onStreamReset(int32_t streamId, uint32_t errorCode) = 0;
    // The stream is gone (errorCode 0: completed normally); no more calls for it.
    virtual void onStreamClosed(int32_t streamId, uint32_t errorCode) = 0;
    // All data passed to sendData() has been handed to the connection (resume reading the
    // upstream if it was paused at a watermark).
    virtual void onSendBufferDrained(int32_t /*streamId*/) {}
    // A request was answered 431 by the header guard; the handler never saw the stream.
    virtual void onRequestRejected(int32_t /*streamId*/) {}
  };

  explicit H2ServerSession(Handler& handler, const H2Options& options = {});

  // Feeds bytes from the client. False on a connection error (error() says why): a GOAWAY is
  // queued for pendingOutput(); write it, then close.
  bool receive(std::string_view bytes);
  // Appends the bytes to write to the client; returns how many.
  size_t pendingOutput(std::string& out) { return conn_.pendingOutput(out); }
  const std::string& error() const { return conn_.error(); }

  bool submitResponse(int32_t streamId, int status, const braid::http::Headers& headers,
                      bool endStream);
  // A 1xx (100 Continue, 103 Early Hints) before the final response.
  bool submitInformational(int32_t streamId, int status, const braid::http::Headers& headers);
  // Buffers the bytes on the stream; they leave as the client's flow control allows.
  bool sendData(int32_t streamId, std::string_view bytes, bool endStream) {
    return conn_.sendData(streamId, bytes, endStream);
  }
  // Ends the stream with trailers after the buffered data (gRPC's grpc-status).
  bool submitTrailers(int32_t streamId, const braid::http::Headers& trailers) {
    return conn_.submitTrailers(streamId, trailers);
  }
  bool resetStream(int32_t streamId, uint32_t errorCode) {
    return conn_.resetStream(streamId, errorCode);
  }
  // The response is (or will be) complete while the request is not: once the frame ending the
  // response is sent, RST_STREAM NO_ERROR asks the client to stop sending (RFC 9113 §8.1).
  void resetAfterResponse(int32_t streamId) { conn_.resetAfterResponse(streamId); }
  // h2_error::kNoError: graceful (open streams finish); otherwise the connection ends now.
  void goAway(uint32_t errorCode = h2_error::kNoError) { conn_.goAway(errorCode); }
  // n bytes of the stream's request body were forwarded: reopen that much window.
  void consumed(int32_t streamId, size_t n) { conn_.consumed(streamId, n); }

  // Response bytes queued by sendData() not yet framed (the caller's write watermark).
  size_t bufferedOutbound(int32_t streamId) const { return conn_.bufferedOutbound(streamId); }
  // Request bytes delivered but not yet consumed() (never above initialStreamWindow).
  size_t unconsumedInbound(int32_t streamId) const { return conn_.unconsumedInbound(streamId); }
  size_t openStreams() const { return conn_.openStreams(); }
  std::optional<uint32_t> goAwaySentCode() const { return conn_.goAwaySentCode(); }
  bool clientWentAway() const { return conn_.peerWentAway(); }
  // Nothing more to read or write: close the socket.
  bool wantsClose() const { return conn_.wantsClose(); }

 private:
  void onHeaders(int32_t streamId, braid::http::Headers&& headers, H2Connection::HeadersKind kind,
                 bool endStream) override;
  void onData(int32_t streamId, std::string_view data, bool endStream) override;
  void onHeadersTooLarge(int32_t streamId) override;
  void onReset(int32_t streamId, uint32_t errorCode) override;
  void onClosed(int32_t streamId, uint32_t errorCode) override;
  void onGoAway(int32_t lastStreamId, uint32_t errorCode) override;
  void onSendBufferDrained(int32_t streamId) override;

  Handler& handler_;
  H2Connection conn_;
};

}  // namespace braid::dataplane::http2
