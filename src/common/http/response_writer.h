#pragma once

// Turns a handler's Response into bytes on the wire. Internal to the server; the sidecar will have
// its own (streaming) encoder.

#include <string>

#include "common/http/server.h"

namespace braid::http {

struct ResponseFraming {
  bool headRequest = false;  // HEAD: announce the length, send no body
  bool close = false;        // "Connection: close"
  bool keepAlive = false;    // "Connection: keep-alive" (an HTTP/1.0 client that asked for it)
};

// The standard reason phrase, or "" for codes we do not name.
const char* reasonPhrase(int status);

// True if every header name is a token and no value holds CR, LF, NUL or another control byte, so
// a handler cannot split the response.
bool hasValidHeaders(const Response& response);

// Status line, the handler's headers (minus Content-Length, Transfer-Encoding and Connection, which
// the server owns), Date, Content-Length (not for 1xx, 204, 304), Connection, then the body.
std::string serializeResponse(const Response& response, const ResponseFraming& framing);

// The JSON error body the REST API uses: {"title":"Bad Request","details":"…"}.
Response errorResponse(int status, const std::string& details);

}  // namespace braid::http
