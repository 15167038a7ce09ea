#include "dataplane/http2/h2_connection.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace braid::dataplane::http2 {
namespace {

constexpr size_t kFieldOverhead = 32;  // RFC 9113 §6.5.2's per-field cost

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// RFC 9113 §8.2.2: these are HTTP/1 connection fields; an HTTP/2 message carrying them is
// malformed, so a proxy translating from HTTP/1 drops them instead of sending them on.
bool connectionSpecific(std::string_view name, std::string_view value) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" ||
         (name == "te" && !iequals(value, "trailers"));
}

// Lower-cased names, pseudo-headers first (§8.3), connection-specific fields removed.
braid::http::Headers normalize(const braid::http::Headers& in) {
  braid::http::Headers pseudo;
  braid::http::Headers regular;
  for (const auto& [name, value] : in) {
    std::string n(name);
    std::transform(n.begin(), n.end(), n.begin(), lower);
    if (!n.empty() && n[0] == ':') {
      pseudo.emplace_back(std::move(n), value);
    } else if (!connectionSpecific(n, value)) {
      regular.emplace_back(std::move(n), value);
    }
  }
  pseudo.insert(pseudo.end(), std::make_move_iterator(regular.begin()),
                std::make_move_iterator(regular.end()));
  return pseudo;
}

std::vector<nghttp2_nv> toNv(const braid::http::Headers& headers) {
  std::vector<nghttp2_nv> nva;
  nva.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    // nghttp2 copies names and values (no NO_COPY flags), so `headers` may be a temporary.
    nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                   reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                   value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  return nva;
}

bool isInformational(const braid::http::Headers& headers) {
  for (const auto& [name, value] : headers) {
    if (name == ":status") return value.size() == 3 && value[0] == '1';
  }
  return false;
}

}  // namespace

struct H2Connection::Glue {
  static H2Connection& self(void* userData) { return *static_cast<H2Connection*>(userData); }

  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* userData) {
    H2Connection& c = self(userData);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    const int32_t id = frame->hd.stream_id;
    Stream* s = c.find(id);
    if (s == nullptr && c.role_ == Role::kServer && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      // Silent until its head reaches the handler: nghttp2 may still reset it for invalid
      // fields, and the handler must not hear of a stream it never saw.
      s = &c.streams_[id];
      s->silent = true;
    }
    if (s != nullptr) {
      s->receiving.clear();
      s->receivingBytes = 0;
      s->tooLarge = false;
    }
    return 0;
  }

  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t nameLen, const uint8_t* value, size_t valueLen, uint8_t,
                      void* userData) {
    H2Connection& c = self(userData);
    Stream* s = c.find(frame->hd.stream_id);
    if (s == nullptr || s->tooLarge) return 0;
    // Over the limit the block is still decoded by nghttp2 (HPACK state must stay in step)
    // but no longer stored; the stream is answered when the block ends.
    s->receivingBytes += nameLen + valueLen + kFieldOverhead;
    if (s->receivingBytes > c.options_.maxHeaderListBytes ||
        s->receiving.size() >= c.options_.maxHeaderCount) {
      s->tooLarge = true;
      s->receiving.clear();
      return 0;
    }
    s->receiving.emplace_back(std::string(reinterpret_cast<const char*>(name), nameLen),
                              std::string(reinterpret_cast<const char*>(value), valueLen));
    return 0;
  }

  static int onFrameRecv(nghttp2_session* session, const nghttp2_frame* frame, void* userData) {
    H2Connection& c = self(userData);
    const int32_t id = frame->hd.stream_id;
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    switch (frame->hd.type) {
      case NGHTTP2_HEADERS: {
        Stream* s = c.find(id);
        if (s == nullptr || s->rejected) return 0;
        if (s->tooLarge) {
          headersTooLarge(session, c, id, *s, end);
          return 0;
        }
        HeadersKind kind = HeadersKind::kTrailers;
        if (!s->initialHeadersSeen) {
          kind = (c.role_ == Role::kClient && isInformational(s->receiving))
                     ? HeadersKind::kInformational
                     : HeadersKind::kInitial;
          if (kind == HeadersKind::kInitial) {
            s->initialHeadersSeen = true;
            s->silent = false;
          }
        }
        braid::http::Headers headers = std::move(s->receiving);
        s->receiving.clear();
        c.events_.onHeaders(id, std::move(headers), kind, end);
        return 0;
      }
      case NGHTTP2_DATA: {
        const Stream* s = c.find(id);
        if (end && s != nullptr && !s->rejected) c.events_.onData(id, {}, true);
        return 0;
      }
      case NGHTTP2_RST_STREAM: {
        const Stream* s = c.find(id);
        if (s != nullptr && !s->rejected) c.events_.onReset(id, frame->rst_stream.error_code);
        return 0;
      }
      case NGHTTP2_SETTINGS:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) c.settingsReceived_ = true;
        return 0;
      case NGHTTP2_GOAWAY:
        c.goAwayReceived_ = true;
        c.events_.onGoAway(frame->goaway.last_stream_id, frame->goaway.error_code);
        return 0;
      default:
        return 0;
    }
  }

  // A request header block over the limits is answered 431 (the HTTP/1 codec's answer) and
  // the rest of the request is refused; any other block over them resets the stream.
  static void headersTooLarge(nghttp2_session* session, H2Connection& c, int32_t id, Stream& s,
                              bool end) {
    s.tooLarge = false;
    s.rejected = true;
    s.receiving.clear();
    if (c.role_ == Role::kServer && !s.initialHeadersSeen) {
      s.silent = true;
      const braid::http::Headers reply{{":status", "431"}, {"content-length", "0"}};
      const auto nva = toNv(reply);
      nghttp2_submit_response(session, id, nva.data(), nva.size(), nullptr);
      // The client may still be sending the body: once the 431 is out, ask it to stop
      // (RFC 9113 §8.1: RST_STREAM NO_ERROR after a complete response).
      s.resetAfterReply = !end;
    } else {
      // If the block also ended the stream, nghttp2 closes it cleanly: the close code must
      // still tell the handler that the message was refused.
      s.closeError = NGHTTP2_PROTOCOL_ERROR;
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_PROTOCOL_ERROR);
    }
    c.events_.onHeadersTooLarge(id);
  }

  static int onDataChunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data,
                         size_t len, void* userData) {
    H2Connection& c = self(userData);
    // The connection window is returned at once (see H2Options::connectionWindow); the
    // stream's only when the caller has forwarded the bytes.
    nghttp2_session_consume_connection(session, len);
    Stream* s = c.find(id);
    if (s != nullptr && !s->rejected && s->unconsumed + len > c.options_.initialStreamWindow) {
      // More than the window we granted: nghttp2 resets the stream (FLOW_CONTROL_ERROR) but
      // still hands over the chunk; the caller's buffers must not see it.
      s->rejected = true;
    }
    if (s == nullptr || s->rejected) {
      nghttp2_session_consume_stream(session, id, len);
      return 0;
    }
    s->unconsumed += len;
    c.events_.onData(id, std::string_view(reinterpret_cast<const char*>(data), len), false);
    return 0;
  }

  static int onStreamClose(nghttp2_session*, int32_t id, uint32_t errorCode, void* userData) {
    H2Connection& c = self(userData);
    const Stream* s = c.find(id);
    if (s == nullptr) return 0;
    if (!s->silent) c.events_.onClosed(id, errorCode != 0 ? errorCode : s->closeError);
    c.streams_.erase(id);
    return 0;
  }

  static int onFrameSend(nghttp2_session* session, const nghttp2_frame* frame, void* userData) {
    H2Connection& c = self(userData);
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
      Stream* s = c.find(frame->hd.stream_id);
      if (s != nullptr && s->resetAfterEnd) {
        s->resetAfterEnd = false;
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                  NGHTTP2_NO_ERROR);
      }
    }
    if (frame->hd.type == NGHTTP2_HEADERS) {
      Stream* s = c.find(frame->hd.stream_id);
      if (s != nullptr && s->resetAfterReply) {
        s->resetAfterReply = false;
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                  NGHTTP2_NO_ERROR);
      }
    }
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      c.goAwaySentCode_ = frame->goaway.error_code;
      if (frame->goaway.error_code != NGHTTP2_NO_ERROR && c.error_.empty()) {
        c.error_ = std::string("GOAWAY sent: ") + nghttp2_http2_strerror(frame->goaway.error_code);
      }
    }
    return 0;
  }

  // A request whose HEADERS never left (reset before it was sent, or refused after a GOAWAY)
  // has no nghttp2 stream, so no close callback: close it here.
  static int onFrameNotSend(nghttp2_session*, const nghttp2_frame* frame, int, void* userData) {
    H2Connection& c = self(userData);
    if (frame->hd.type != NGHTTP2_HEADERS || c.role_ != Role::kClient ||
        frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
      return 0;
    }
    const int32_t id = frame->hd.stream_id;
    if (c.find(id) == nullptr) return 0;
    c.events_.onClosed(id, NGHTTP2_REFUSED_STREAM);
    c.streams_.erase(id);
    return 0;
  }

  static ssize_t read(nghttp2_session* session, int32_t id, uint8_t* buf, size_t length,
                      uint32_t* flags, nghttp2_data_source*, void* userData) {
    H2Connection& c = self(userData);
    Stream* s = c.find(id);
    if (s == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const size_t n = std::min(length, s->pendingOut());
    if (n > 0) std::memcpy(buf, s->out.data() + s->outOffset, n);
    s->outOffset += n;
    if (s->outOffset == s->out.size()) {
      s->out.clear();
      s->outOffset = 0;
    } else if (s->outOffset >= 64 * 1024 && s->outOffset * 2 >= s->out.size()) {
      s->out.erase(0, s->outOffset);
      s->outOffset = 0;
    }
    if (s->pendingOut() > 0) return static_cast<ssize_t>(n);
    if (s->outEnd) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (s->trailers) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        const auto nva = toNv(*s->trailers);
        nghttp2_submit_trailer(session, id, nva.data(), nva.size());
        s->trailers.reset();
      }
      return static_cast<ssize_t>(n);
    }
    if (n == 0) {
      s->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    c.events_.onSendBufferDrained(id);
    return static_cast<ssize_t>(n);
  }
};

H2Connection::H2Connection(Role role, const H2Options& options, Events& events)
    : role_(role), options_(options), events_(events) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &Glue::onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &Glue::onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Glue::onFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Glue::onDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Glue::onStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &Glue::onFrameSend);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(cbs, &Glue::onFrameNotSend);

  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  // Flow control is the caller's: windows reopen only through consumed().
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_outbound_ack(opt, options_.maxOutboundAck);
  nghttp2_option_set_max_settings(opt, options_.maxSettingsEntries);
  nghttp2_option_set_stream_reset_rate_limit(opt, options_.streamResetBurst,
                                             options_.streamResetRate);
  nghttp2_option_set_max_continuations(opt, options_.maxContinuations);
  // Until the server's SETTINGS arrive, open no more streams than a typical server allows.
  nghttp2_option_set_peer_max_concurrent_streams(opt, 100);

  if (role_ == Role::kServer) {
    nghttp2_session_server_new2(&session_, cbs, this, opt);
  } else {
    nghttp2_session_client_new2(&session_, cbs, this, opt);
  }
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);

  std::vector<nghttp2_settings_entry> settings{
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.initialStreamWindow},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(options_.maxHeaderListBytes)},
  };
  if (role_ == Role::kServer) {
    settings.push_back({NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options_.maxConcurrentStreams});
  } else {
    settings.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  }
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(options_.connectionWindow));
}

H2Connection::~H2Connection() { nghttp2_session_del(session_); }

H2Connection::Stream* H2Connection::find(int32_t streamId) {
  auto it = streams_.find(streamId);
  return it == streams_.end() ? nullptr : &it->second;
}

const H2Connection::Stream* H2Connection::find(int32_t streamId) const {
  auto it = streams_.find(streamId);
  return it == streams_.end() ? nullptr : &it->second;
}

bool H2Connection::receive(std::string_view bytes) {
  const ssize_t rv = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (rv < 0) {
    if (error_.empty()) error_ = std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(rv));
    nghttp2_session_terminate_session(
        session_, rv == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
    return false;
  }
  // nghttp2 answers most protocol violations itself with a GOAWAY and stops reading.
  if (!nghttp2_session_want_read(session_) && !localGoAway_ && !goAwayReceived_) {
    if (error_.empty()) error_ = "HTTP/2: protocol error, GOAWAY queued";
    return false;
  }
  return true;
}

size_t H2Connection::pendingOutput(std::string& out) {
  size_t total = 0;
  for (;;) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      if (error_.empty()) error_ = std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(n));
      break;
    }
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    total += static_cast<size_t>(n);
  }
  return total;
}

bool H2Connection::wantsClose() const {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

uint32_t H2Connection::peerMaxConcurrentStreams() const {
  return nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

int32_t H2Connection::submitRequest(const braid::http::Headers& headers, bool endStream) {
  const braid::http::Headers normalized = normalize(headers);
  const auto nva = toNv(normalized);
  nghttp2_data_provider provider{};
  provider.read_callback = &Glue::read;
  const int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                            endStream ? nullptr : &provider, nullptr);
  if (id < 0) {
    error_ = std::string("HTTP/2: ") + nghttp2_strerror(id);
    return id;
  }
  Stream& s = streams_[id];
  s.providerAttached = !endStream;
  return id;
}

bool H2Connection::submitHeadersFrame(int32_t streamId, const braid::http::Headers& headers,
                                      bool endStream, bool withProvider) {
  Stream* s = find(streamId);
  if (s == nullptr || s->responded || s->rejected) return false;
  const braid::http::Headers normalized = normalize(headers);
  const auto nva = toNv(normalized);
  int rv = 0;
  if (withProvider) {
    nghttp2_data_provider provider{};
    provider.read_callback = &Glue::read;
    rv = nghttp2_submit_response(session_, streamId, nva.data(), nva.size(),
                                 endStream ? nullptr : &provider);
    s->providerAttached = !endStream;
    s->responded = true;
  } else {
    rv = nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, streamId, nullptr, nva.data(),
                                nva.size(), nullptr);
  }
  return rv == 0;
}

bool H2Connection::submitResponse(int32_t streamId, const braid::http::Headers& headers,
                                  bool endStream) {
  return submitHeadersFrame(streamId, headers, endStream, true);
}

bool H2Connection::submitInformational(int32_t streamId, const braid::http::Headers& headers) {
  return submitHeadersFrame(streamId, headers, false, false);
}

void H2Connection::resume(int32_t streamId, Stream& s) {
  if (!s.deferred) return;
  s.deferred = false;
  nghttp2_session_resume_data(session_, streamId);
}

bool H2Connection::sendData(int32_t streamId, std::string_view bytes, bool endStream) {
  Stream* s = find(streamId);
  if (s == nullptr || !s->providerAttached || s->outEnd) return false;
  s->out.append(bytes);
  s->outEnd = endStream;
  resume(streamId, *s);
  return true;
}

bool H2Connection::submitTrailers(int32_t streamId, const braid::http::Headers& trailers) {
  Stream* s = find(streamId);
  if (s == nullptr || !s->providerAttached || s->outEnd) return false;
  s->trailers = normalize(trailers);
  s->outEnd = true;
  resume(streamId, *s);
  return true;
}

void H2Connection::resetAfterResponse(int32_t streamId) {
  Stream* s = find(streamId);
  if (s == nullptr || s->rejected) return;
  if (nghttp2_session_get_stream_local_close(session_, streamId) == 1) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, streamId, NGHTTP2_NO_ERROR);
    return;
  }
  s->resetAfterEnd = true;
}

bool H2Connection::resetStream(int32_t streamId, uint32_t errorCode) {
  if (Stream* s = find(streamId)) {
    s->resetAfterEnd = false;
    s->out.clear();
    s->outOffset = 0;
    s->rejected = true;  // the caller is done with it: drop what still arrives
  }
  return nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, streamId, errorCode) == 0;
}

void H2Connection::goAway(uint32_t errorCode) {
  localGoAway_ = true;
  if (errorCode == NGHTTP2_NO_ERROR) {
    // Graceful: streams the peer already opened finish; new ones are refused.
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                          nullptr, 0);
  } else {
    nghttp2_session_terminate_session(session_, errorCode);
  }
}

void H2Connection::consumed(int32_t streamId, size_t n) {
  Stream* s = find(streamId);
  if (s == nullptr) return;
  n = std::min(n, s->unconsumed);
  s->unconsumed -= n;
  if (n > 0) nghttp2_session_consume_stream(session_, streamId, n);
}

size_t H2Connection::bufferedOutbound(int32_t streamId) const {
  const Stream* s = find(streamId);
  return s == nullptr ? 0 : s->pendingOut();
}

size_t H2Connection::unconsumedInbound(int32_t streamId) const {
  const Stream* s = find(streamId);
  return s == nullptr ? 0 : s->unconsumed;
}

}  // namespace braid::dataplane::http2
