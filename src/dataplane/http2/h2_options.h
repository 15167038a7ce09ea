#pragma once

// Settings and guard limits shared by H2ServerSession and H2ClientSession, and the HTTP/2 error
// codes (RFC 9113 §7) the callers see in resets and GOAWAYs.

#include <cstddef>
#include <cstdint>

namespace braid::dataplane::http2 {

namespace h2_error {
inline constexpr uint32_t kNoError = 0x0;
inline constexpr uint32_t kProtocolError = 0x1;
inline constexpr uint32_t kInternalError = 0x2;
inline constexpr uint32_t kFlowControlError = 0x3;
inline constexpr uint32_t kRefusedStream = 0x7;
inline constexpr uint32_t kCancel = 0x8;
inline constexpr uint32_t kEnhanceYourCalm = 0xb;
}  // namespace h2_error

struct H2Options {
  // SETTINGS_MAX_CONCURRENT_STREAMS advertised by a server (a client advertises none: push is
  // off, so its peer opens no streams).
  uint32_t maxConcurrentStreams = 100;
  // SETTINGS_INITIAL_WINDOW_SIZE: how much a peer may send on one stream before the caller
  // has forwarded (consumed()) any of it. This is the per-stream read watermark.
  uint32_t initialStreamWindow = 256 * 1024;
  // The connection window. It is returned as DATA arrives (not when forwarded), so one stalled
  // stream cannot block the others; memory per connection is bounded by streams × stream
  // window instead.
  uint32_t connectionWindow = 1024 * 1024;
  // Header limits as in the HTTP/1 codec (issue 5: 60 KiB or 100 fields → 431). The size
  // counts name + value + 32 per field (RFC 9113's SETTINGS_MAX_HEADER_LIST_SIZE measure).
  size_t maxHeaderListBytes = 60 * 1024;
  size_t maxHeaderCount = 100;
  // Rapid reset (CVE-2023-44487): token bucket for RST_STREAM frames received by a server;
  // when empty the server sends GOAWAY. nghttp2's defaults.
  uint64_t streamResetBurst = 1000;
  uint64_t streamResetRate = 33;  // tokens per second
  // CONTINUATION flood (CVE-2024-28182): CONTINUATION frames allowed after one HEADERS.
  size_t maxContinuations = 8;
  // SETTINGS/PING floods: queued SETTINGS ACK and PING ACK frames the peer may cause before
  // the connection is dropped (the peer sends them but does not read our acks).
  size_t maxOutboundAck = 1000;
  // Entries allowed in one SETTINGS frame.
  size_t maxSettingsEntries = 32;
};

}  // namespace braid::dataplane::http2
