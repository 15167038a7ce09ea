#include "control-plane/api/auth.h"

namespace braid::api {

bool constantTimeEquals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::string& other = a.size() == b.size() ? b : a;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ other[i]);
  }
  return diff == 0;
}

namespace {

// The Host a loopback client used. A browser tricked by DNS rebinding connects from loopback too,
// but sends the attacker's name as Host: only loopback names make a loopback peer admin.
bool hostIsLoopback(const std::string& host) {
  std::string name = host;
  if (!name.empty() && name.front() == '[') {
    name = name.substr(0, name.find(']') + 1);
  } else if (auto colon = name.rfind(':'); colon != std::string::npos) {
    name = name.substr(0, colon);
  }
  return name.empty() || name == "localhost" || name == "[::1]" || name.rfind("127.", 0) == 0;
}

}  // namespace

bool isAuthorized(const http::Request& request, const AuthOptions& options) {
  if (request.fromLoopback && options.loopbackIsAdmin && hostIsLoopback(request.header("host"))) {
    return true;
  }
  const std::string header = request.header("authorization");
  const std::string prefix = "Bearer ";
  if (header.size() <= prefix.size() || header.compare(0, prefix.size(), prefix) != 0) {
    return false;
  }
  const std::string token = header.substr(prefix.size());
  return !options.adminToken.empty() && constantTimeEquals(token, options.adminToken);
}

}  // namespace braid::api
