#pragma once

// MeshHTTPRoute RequestMirror: copies of requests sent to a mirror cluster, fire and forget
// (Envoy's request_mirror_policies). The caller never waits for a mirror, and its answer is read
// and dropped; a mirror that cannot connect, fails or outlives its timeout is just given up.
// The copy carries the Host of the original with "-shadow" appended, as Envoy's does, so the
// mirror's logs can tell copies from real traffic. A slow or dead mirror cannot pile copies up:
// past kMaxInFlight copies or kMaxBytesInFlight bytes waiting per worker, new ones are dropped
// (and counted). One sender per worker; loop thread only.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>

struct event_base;

namespace braid::dataplane {
struct WorkerConfig;
}

namespace braid::dataplane::hcm {

class UpstreamPool;

class MirrorSender {
 public:
  MirrorSender();
  ~MirrorSender();
  MirrorSender(const MirrorSender&) = delete;
  MirrorSender& operator=(const MirrorSender&) = delete;

  static constexpr size_t kMaxInFlight = 256;
  static constexpr size_t kMaxBytesInFlight = 8 * 1024 * 1024;

  // Sends `request` (a complete serialized HTTP/1.1 request) to an endpoint of `cluster` of
  // `config`, on a pooled connection when one is idle. false: not sent (no such cluster, no
  // endpoint, or too many copies in flight: counted in the cluster's upstreamRqMirrorDropped).
  bool send(event_base* base, const std::shared_ptr<WorkerConfig>& config,
            const std::string& cluster, std::string request, const std::string& method,
            std::chrono::milliseconds timeout, UpstreamPool& pool);

  size_t inFlight() const { return inFlight_.size(); }

 private:
  class Request;
  friend class Request;
  void finished(Request& request);

  std::map<Request*, std::unique_ptr<Request>> inFlight_;
  size_t bytesInFlight_ = 0;
};

}  // namespace braid::dataplane::hcm
