#pragma once

// braid-dp's admin endpoint (CONTRACT §5), served on loopback only:
//   GET /ready            200 "LIVE" once the first configuration runs; 503 before and when
//   draining GET /config_dump      {"version":…,"config":{…}}: the running configuration GET
//   /stats/prometheus data-path counters plus the discovery client's GET /clusters         every
//   endpoint with its health and counters POST /drain           stop accepting new connections
//   (in-flight ones finish)
// Transport-agnostic (takes an http::Request), so it is tested without sockets.

#include <functional>
#include <string>

#include "common/http/server.h"

namespace braid::dataplane {

struct AdminSources {
  std::function<bool()> configured;  // a configuration is running
  std::function<bool()> draining;
  std::function<std::string()> configDump;  // JSON
  std::function<std::string()> prometheus;  // text format 0.0.4
  std::function<std::string()> clusters;    // text
  std::function<void()> drain;
};

class AdminHandler {
 public:
  explicit AdminHandler(AdminSources sources) : sources_(std::move(sources)) {}
  http::Response handle(const http::Request& request) const;

 private:
  AdminSources sources_;
};

}  // namespace braid::dataplane
