#pragma once

// How a proxy's long-lived streams to the CP (discovery, admin) tell a refusal from an outage.

#include <grpcpp/support/status_code_enum.h>

namespace braid::dataplane {

// Statuses by which the CP refuses this proxy (bad document, no mesh, not authenticated,
// replaced by a newer stream of the same dataplane), as opposed to being unreachable: retrying
// at once would only repeat them, so the streams wait longer before the next attempt.
inline bool isRefusal(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::ABORTED:
      return true;
    default:
      return false;
  }
}

}  // namespace braid::dataplane
