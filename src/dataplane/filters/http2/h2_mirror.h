#pragma once

// RequestMirror for the HTTP/2 connection manager's requests to http2/grpc outbounds: a copy of
// a complete request (head with the shadow :authority, body up to 64 KiB) sent as a stream on
// the worker's HTTP/2 pool to an endpoint of the mirror cluster, fire and forget, as
// hcm::MirrorSender does for HTTP/1.1: its answer is read and dropped, a failure or its timeout
// just ends it, and at most kMaxInFlight copies (kMaxBytesInFlight bytes) wait per worker.
// Loop thread only.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/http/headers.h"
#include "dataplane/event/timer.h"

struct event_base;

namespace braid::dataplane {
struct WorkerConfig;
}

namespace braid::dataplane::h2 {

class H2UpstreamPool;

class H2MirrorSender {
 public:
  static constexpr size_t kMaxInFlight = 256;
  static constexpr size_t kMaxBytesInFlight = 8 * 1024 * 1024;

  H2MirrorSender(event_base* base, H2UpstreamPool& pool);
  ~H2MirrorSender();
  H2MirrorSender(const H2MirrorSender&) = delete;
  H2MirrorSender& operator=(const H2MirrorSender&) = delete;

  // false: not sent (no such cluster, no endpoint, or too many in flight: counted).
  bool send(const std::shared_ptr<WorkerConfig>& config, const std::string& cluster,
            const braid::http::Headers& headers, const std::string& body,
            std::chrono::milliseconds timeout);
  // Ends every copy in flight (before the pool is cleared).
  void clear();
  size_t inFlight() const { return inFlight_.size(); }

 private:
  class Mirror;
  void finished(Mirror& mirror);

  event_base* base_;
  H2UpstreamPool& pool_;
  std::map<Mirror*, std::unique_ptr<Mirror>> inFlight_;
  std::vector<std::unique_ptr<Mirror>> ended_;  // destroyed outside their own callbacks
  size_t bytesInFlight_ = 0;
  event::Timer reaper_;
};

}  // namespace braid::dataplane::h2
