#include "dataplane/http2/h2_client_session.h"

#include <utility>

namespace braid::dataplane::http2 {

H2ClientSession::H2ClientSession(Handler& handler, const H2Options& options)
    : handler_(handler), conn_(H2Connection::Role::kClient, options, *this) {}

void H2ClientSession::onHeaders(int32_t streamId, braid::http::Headers&& headers,
                                H2Connection::HeadersKind kind, bool endStream) {
  switch (kind) {
    case H2Connection::HeadersKind::kInformational:
      handler_.onInformationalHeaders(streamId, std::move(headers));
      break;
    case H2Connection::HeadersKind::kInitial:
      handler_.onResponseHeaders(streamId, std::move(headers), endStream);
      break;
    case H2Connection::HeadersKind::kTrailers:
      handler_.onResponseTrailers(streamId, std::move(headers));
      break;
  }
}

void H2ClientSession::onData(int32_t streamId, std::string_view data, bool endStream) {
  handler_.onResponseData(streamId, data, endStream);
}

void H2ClientSession::onReset(int32_t streamId, uint32_t errorCode) {
  handler_.onStreamReset(streamId, errorCode);
}

void H2ClientSession::onClosed(int32_t streamId, uint32_t errorCode) {
  handler_.onStreamClosed(streamId, errorCode);
}

void H2ClientSession::onGoAway(int32_t lastStreamId, uint32_t errorCode) {
  handler_.onGoAway(lastStreamId, errorCode);
}

void H2ClientSession::onSendBufferDrained(int32_t streamId) {
  handler_.onSendBufferDrained(streamId);
}

}  // namespace braid::dataplane::http2
