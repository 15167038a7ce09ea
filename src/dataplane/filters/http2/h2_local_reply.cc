#include "dataplane/filters/http2/h2_local_reply.h"

namespace braid::dataplane::h2 {

bool isGrpcRequest(const braid::http::Headers& headers) {
  for (const auto& [name, value] : headers) {
    if (name == "content-type") return value.rfind("application/grpc", 0) == 0;
  }
  return false;
}

int grpcStatusForHttp(int httpStatus) {
  switch (httpStatus) {
    case 400:
      return grpc_status::kInternal;
    case 401:
      return grpc_status::kUnauthenticated;
    case 403:
      return grpc_status::kPermissionDenied;
    case 404:
      return grpc_status::kUnimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return grpc_status::kUnavailable;
    default:
      return grpc_status::kUnknown;
  }
}

std::string encodeGrpcMessage(std::string_view message) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(message.size());
  for (char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7e || c == '%') {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

H2LocalReply makeLocalReply(bool grpc, int status, std::string_view message, bool timeout,
                            const braid::http::Headers& extra) {
  H2LocalReply reply;
  reply.headers = extra;
  if (!grpc) {
    reply.status = status;
    reply.headers.emplace_back("content-type", "text/plain");
    reply.headers.emplace_back("content-length", std::to_string(message.size()));
    reply.body = std::string(message);
    return reply;
  }
  // The route's timeout: Envoy's router answers a gRPC call 504 and maps it with the table above
  // to UNAVAILABLE (its local reply uses Grpc::Utility::httpToGrpcStatus). We answer
  // DEADLINE_EXCEEDED instead: gRPC's status-code guide gives DEADLINE_EXCEEDED for "no response
  // received before the deadline expires", which is what a MeshTimeout requestTimeout is, and
  // UNAVAILABLE would tell clients (and their retry policies) the server was down.
  const int code = timeout ? grpc_status::kDeadlineExceeded : grpcStatusForHttp(status);
  reply.status = 200;
  reply.headers.emplace_back("content-type", "application/grpc");
  reply.headers.emplace_back("grpc-status", std::to_string(code));
  reply.headers.emplace_back("grpc-message", encodeGrpcMessage(message));
  return reply;
}

}  // namespace braid::dataplane::h2
