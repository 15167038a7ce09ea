#pragma once

// Who may call the REST API: requests from loopback are admin (unless switched off); any other
// request needs `Authorization: Bearer <token>` with the admin token. User tokens arrive with the
// security issue.

#include <string>

#include "common/http/server.h"

namespace braid::api {

struct AuthOptions {
  std::string adminToken;  // from DATA_DIR/admin-token
  bool loopbackIsAdmin = true;
};

// True when the request may proceed.
bool isAuthorized(const http::Request& request, const AuthOptions& options);

// Constant-time comparison, so the token cannot be guessed byte by byte from response times.
bool constantTimeEquals(const std::string& a, const std::string& b);

}  // namespace braid::api
