#pragma once

// The role-neutral core of an HTTP/2 connection over nghttp2's memory API: bytes in, bytes out,
// per-stream send buffers and flow control. H2ServerSession and H2ClientSession wrap it and
// turn its events into their handlers' calls; callers use those, not this class.
// nghttp2's headers stay in the .cc (nghttp2_session is only forward-declared here).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/http/headers.h"
#include "dataplane/http2/h2_options.h"

struct nghttp2_session;

namespace braid::dataplane::http2 {

class H2Connection {
 public:
  enum class Role { kClient, kServer };
  enum class HeadersKind { kInitial, kInformational, kTrailers };

  class Events {
   public:
    virtual ~Events() = default;
    virtual void onHeaders(int32_t streamId, braid::http::Headers&& headers, HeadersKind kind,
                           bool endStream) = 0;
    virtual void onData(int32_t streamId, std::string_view data, bool endStream) = 0;
    // A header block broke maxHeaderListBytes / maxHeaderCount (already answered or reset).
    virtual void onHeadersTooLarge(int32_t streamId) = 0;
    virtual void onReset(int32_t streamId, uint32_t errorCode) = 0;
    virtual void onClosed(int32_t streamId, uint32_t errorCode) = 0;
    virtual void onGoAway(int32_t lastStreamId, uint32_t errorCode) = 0;
    virtual void onSendBufferDrained(int32_t streamId) = 0;
  };

  H2Connection(Role role, const H2Options& options, Events& events);
  ~H2Connection();
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  bool receive(std::string_view bytes);
  size_t pendingOutput(std::string& out);
  const std::string& error() const { return error_; }

  // Pseudo-headers first, names lower-cased, connection-specific fields dropped.
  int32_t submitRequest(const braid::http::Headers& headers, bool endStream);
  bool submitResponse(int32_t streamId, const braid::http::Headers& headers, bool endStream);
  bool submitInformational(int32_t streamId, const braid::http::Headers& headers);
  bool sendData(int32_t streamId, std::string_view bytes, bool endStream);
  bool submitTrailers(int32_t streamId, const braid::http::Headers& trailers);
  bool resetStream(int32_t streamId, uint32_t errorCode);
  // RST_STREAM NO_ERROR once the frame carrying this side's END_STREAM is sent (at once if it
  // was); a later resetStream() replaces it.
  void resetAfterResponse(int32_t streamId);
  void goAway(uint32_t errorCode);
  void consumed(int32_t streamId, size_t n);

  size_t bufferedOutbound(int32_t streamId) const;
  size_t unconsumedInbound(int32_t streamId) const;
  size_t openStreams() const { return streams_.size(); }
  uint32_t peerMaxConcurrentStreams() const;
  bool peerWentAway() const { return goAwayReceived_; }
  // The peer's first SETTINGS frame arrived (its limits are known).
  bool peerSettingsReceived() const { return settingsReceived_; }
  std::optional<uint32_t> goAwaySentCode() const { return goAwaySentCode_; }
  bool wantsClose() const;

 private:
  struct Glue;  // nghttp2 callbacks (the .cc)
  struct Stream {
    std::string out;  // queued by sendData, not yet given to nghttp2
    size_t outOffset = 0;
    bool outEnd = false;  // the caller's last byte is in `out`
    bool providerAttached = false;
    bool responded = false;  // a server's final response head was submitted
    bool deferred = false;   // the data provider returned NGHTTP2_ERR_DEFERRED
    std::optional<braid::http::Headers> trailers;
    bool initialHeadersSeen = false;
    braid::http::Headers receiving;  // the header block being decoded
    size_t receivingBytes = 0;
    bool tooLarge = false;
    bool rejected = false;         // refused or reset: what still arrives on it is dropped
    bool silent = false;           // refused before the handler heard of it: no events at all
    bool resetAfterReply = false;  // RST_STREAM NO_ERROR once the refusal is sent
    bool resetAfterEnd = false;    // RST_STREAM NO_ERROR once our END_STREAM is sent
    uint32_t closeError = 0;       // reported on close when nghttp2 saw a clean end
    size_t unconsumed = 0;
    size_t pendingOut() const { return out.size() - outOffset; }
  };

  Stream* find(int32_t streamId);
  const Stream* find(int32_t streamId) const;
  bool submitHeadersFrame(int32_t streamId, const braid::http::Headers& headers, bool endStream,
                          bool withProvider);
  void resume(int32_t streamId, Stream& s);

  Role role_;
  H2Options options_;
  Events& events_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, Stream> streams_;
  std::string error_;
  bool goAwayReceived_ = false;
  bool settingsReceived_ = false;
  bool localGoAway_ = false;
  std::optional<uint32_t> goAwaySentCode_;
};

}  // namespace braid::dataplane::http2
