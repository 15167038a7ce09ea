#pragma once

// Answers the HTTP/2 connection manager gives itself (no route, no healthy upstream, overflow,
// timeouts, redirects). A gRPC caller (content-type application/grpc…) gets what Envoy sends
// it: HTTP 200 with grpc-status and grpc-message in a trailers-only response (one HEADERS frame
// that ends the stream), since a gRPC client reads the call's outcome from grpc-status and
// treats any other HTTP status as a broken transport. Anyone else gets the HTTP status with a
// short text body, as from the HTTP/1.1 connection manager.

#include <string>
#include <string_view>

#include "common/http/headers.h"

namespace braid::dataplane::h2 {

namespace grpc_status {
inline constexpr int kUnknown = 2;
inline constexpr int kDeadlineExceeded = 4;
inline constexpr int kPermissionDenied = 7;
inline constexpr int kUnimplemented = 12;
inline constexpr int kInternal = 13;
inline constexpr int kUnavailable = 14;
inline constexpr int kUnauthenticated = 16;
}  // namespace grpc_status

// content-type application/grpc, application/grpc+proto, application/grpc-web…
bool isGrpcRequest(const braid::http::Headers& headers);

// gRPC's table for HTTP statuses without a grpc-status (doc/http-grpc-status-mapping.md):
// 400 INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED,
// 429/502/503/504 UNAVAILABLE, anything else UNKNOWN. Envoy uses the same table.
int grpcStatusForHttp(int httpStatus);

// grpc-message is percent-encoded (gRPC's PROTOCOL-HTTP2.md: bytes outside 0x20-0x7E and '%').
std::string encodeGrpcMessage(std::string_view message);

struct H2LocalReply {
  int status = 0;                // the HTTP status to send (200 for gRPC)
  braid::http::Headers headers;  // without :status
  std::string body;              // empty: the HEADERS frame ends the stream
};

// `timeout`: the answer is for the route's timeout (HTTP 504). For gRPC that is
// DEADLINE_EXCEEDED, not the table's UNAVAILABLE — see the .cc for why.
H2LocalReply makeLocalReply(bool grpc, int status, std::string_view message, bool timeout,
                            const braid::http::Headers& extra = {});

}  // namespace braid::dataplane::h2
