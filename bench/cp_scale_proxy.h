#pragma once

// One simulated proxy for bench/cp_scale: a discovery stream driven by gRPC's callback API (it has
// no thread of its own, so thousands of them share gRPC's few threads). It sends its Dataplane on
// the first request, ACKs every response as braid-dp does, and records when each response
// arrived and the connect timeout it carried for the proxy's outbound, which is what the
// benchmark's policy change alters.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "braid/discovery/v1/discovery.grpc.pb.h"

namespace braid::bench {

namespace dpb = braid::discovery::v1;

int64_t epochMs();

// Counters shared by every stream, read by the main thread while it waits.
struct Progress {
  std::atomic<int> configured{0};  // streams that received their first response
  std::atomic<int64_t> responses{0};
  std::atomic<int64_t> lastArrivalMs{0};
  std::atomic<int> ended{0};  // streams whose call is over (OnDone ran)
};

struct Arrival {
  int64_t epochMs = 0;
  uint32_t outboundTimeoutMs = 0;  // the outbound cluster's connect_timeout_ms; 0 if none
};

class SimulatedProxy
    : public grpc::ClientBidiReactor<dpb::DiscoveryRequest, dpb::DiscoveryResponse> {
 public:
  SimulatedProxy(dpb::DiscoveryService::Stub& stub, std::string name, std::string dataplaneYaml,
                 Progress& progress);

  void start();
  void cancel() { context_.TryCancel(); }

  // The arrival time of the first response at or after `since` whose outbound connect timeout
  // is `timeoutMs`, else -1.
  int64_t firstArrivalSince(int64_t since, uint32_t timeoutMs) const;
  int64_t firstArrival() const;  // -1 before the first response
  bool ended() const;
  grpc::Status status() const;  // meaningful once ended()

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  // Starts the next queued write unless one is in flight. gRPC may run a reaction inline from a
  // Start* call, so Start* is never called with mutex_ held.
  void writeNext();

  dpb::DiscoveryService::Stub& stub_;
  const std::string name_;
  Progress& progress_;
  grpc::ClientContext context_;
  dpb::DiscoveryResponse response_;  // owned by the outstanding read
  dpb::DiscoveryRequest writing_;    // owned by the outstanding write

  mutable std::mutex mutex_;
  std::deque<dpb::DiscoveryRequest> queued_;
  bool writeInFlight_ = false;
  std::string appliedVersion_;
  std::vector<Arrival> arrivals_;
  bool ended_ = false;
  grpc::Status status_;
};

}  // namespace braid::bench
