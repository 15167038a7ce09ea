#include "dataplane/admin/admin_handler.h"

namespace braid::dataplane {
namespace {

http::Response methodNotAllowed(const std::string& allowed) {
  http::Response r = http::Response::text(405, "method not allowed: use " + allowed + "\n");
  r.headers.push_back({"Allow", allowed});
  return r;
}

// "127.0.0.1:9901", "localhost", "[::1]:9901" → true. A browser tricked by DNS rebinding sends
// the attacker's host name here, so anything else is refused.
bool loopbackHost(const std::string& host) {
  std::string name = host;
  if (!name.empty() && name.front() == '[') {
    name = name.substr(1, name.find(']') == std::string::npos ? 0 : name.find(']') - 1);
  } else if (auto colon = name.rfind(':'); colon != std::string::npos) {
    name = name.substr(0, colon);
  }
  return name == "localhost" || name == "::1" || name.rfind("127.", 0) == 0;
}

}  // namespace

http::Response AdminHandler::handle(const http::Request& request) const {
  const std::string& path = request.path;
  // The admin endpoint listens on loopback only, but a web page in a local browser can still
  // reach it: refuse foreign Host names (DNS rebinding) and cross-site requests (Origin).
  std::string host = request.header("host");
  if (!host.empty() && !loopbackHost(host)) {
    return http::Response::text(403, "forbidden: Host '" + host + "' is not a loopback name\n");
  }
  if (!request.header("origin").empty()) {
    return http::Response::text(403, "forbidden: cross-origin requests are not accepted\n");
  }
  bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/drain") {
    if (request.method != "POST") return methodNotAllowed("POST");
    sources_.drain();
    return http::Response::text(200, "OK\n");
  }
  if (path == "/ready" || path == "/config_dump" || path == "/stats/prometheus" ||
      path == "/clusters") {
    if (!get) return methodNotAllowed("GET");
  }
  if (path == "/ready") {
    if (sources_.draining()) return http::Response::text(503, "DRAINING\n");
    if (!sources_.configured()) return http::Response::text(503, "PRE_INITIALIZING\n");
    return http::Response::text(200, "LIVE\n");
  }
  if (path == "/config_dump") return http::Response::json(200, sources_.configDump());
  if (path == "/stats/prometheus") {
    http::Response r = http::Response::text(200, sources_.prometheus());
    for (auto& h : r.headers) {
      if (h.first == "Content-Type") h.second = "text/plain; version=0.0.4; charset=utf-8";
    }
    return r;
  }
  if (path == "/clusters") return http::Response::text(200, sources_.clusters());
  return http::Response::text(404, "unknown admin path " + path +
                                       ": try /ready, /config_dump, /stats/prometheus, /clusters, "
                                       "POST /drain\n");
}

}  // namespace braid::dataplane
