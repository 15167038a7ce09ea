#include "dataplane/http2/h2_server_session.h"

#include <utility>

namespace braid::dataplane::http2 {
namespace {

braid::http::Headers withStatus(int status, const braid::http::Headers& headers) {
  braid::http::Headers all;
  all.reserve(headers.size() + 1);
  all.emplace_back(":status", std::to_string(status));
  all.insert(all.end(), headers.begin(), headers.end());
  return all;
}

}  // namespace

H2ServerSession::H2ServerSession(Handler& handler, const H2Options& options)
    : handler_(handler), conn_(H2Connection::Role::kServer, options, *this) {}

bool H2ServerSession::receive(std::string_view bytes) { return conn_.receive(bytes); }

bool H2ServerSession::submitResponse(int32_t streamId, int status,
                                     const braid::http::Headers& headers, bool endStream) {
  if (status < 200 || status > 999) return false;
  return conn_.submitResponse(streamId, withStatus(status, headers), endStream);
}

bool H2ServerSession::submitInformational(int32_t streamId, int status,
                                          const braid::http::Headers& headers) {
  // 101 does not exist in HTTP/2 (§8.6).
  if (status < 100 || status > 199 || status == 101) return false;
  return conn_.submitInformational(streamId, withStatus(status, headers));
}

void H2ServerSession::onHeaders(int32_t streamId, braid::http::Headers&& headers,
                                H2Connection::HeadersKind kind, bool endStream) {
  if (kind == H2Connection::HeadersKind::kTrailers) {
    handler_.onRequestTrailers(streamId, std::move(headers));
  } else {
    handler_.onRequestHeaders(streamId, std::move(headers), endStream);
  }
}

void H2ServerSession::onData(int32_t streamId, std::string_view data, bool endStream) {
  handler_.onRequestData(streamId, data, endStream);
}

void H2ServerSession::onHeadersTooLarge(int32_t streamId) { handler_.onRequestRejected(streamId); }

void H2ServerSession::onReset(int32_t streamId, uint32_t errorCode) {
  handler_.onStreamReset(streamId, errorCode);
}

void H2ServerSession::onClosed(int32_t streamId, uint32_t errorCode) {
  handler_.onStreamClosed(streamId, errorCode);
}

void H2ServerSession::onGoAway(int32_t, uint32_t) {}

void H2ServerSession::onSendBufferDrained(int32_t streamId) {
  handler_.onSendBufferDrained(streamId);
}

}  // namespace braid::dataplane::http2
