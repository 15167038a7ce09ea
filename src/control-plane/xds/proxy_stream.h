#pragma once

// One proxy's discovery stream on the CP side: a gRPC callback reactor that only does I/O. What a
// request means (registration, ACK, NACK) is decided by the ConfigSyncer, which talks back
// through the StreamHandle; the handle outlives the reactor, so a late push to a closed stream
// is a no-op rather than a use-after-free.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "braid/discovery/v1/discovery.grpc.pb.h"

namespace braid::xds {

namespace dpb = braid::discovery::v1;

class ProxyStream;

class StreamHandle {
 public:
  StreamHandle(uint64_t id, std::string bearerToken) : token(std::move(bearerToken)), id_(id) {}
  uint64_t id() const { return id_; }

  // Queues a response; if one is being written, the newest pending one replaces the older.
  void send(dpb::DiscoveryResponse response);
  // Ends the stream with an error status (invalid registration, replaced by a newer stream).
  void close(grpc::Status status);

  const std::string token;  // from "authorization: Bearer …", "" when absent

  // Per-stream discovery state, owned by the ConfigSyncer's thread.
  std::string mesh;
  std::string name;
  std::string lastSentVersion;
  std::string lastSentNonce;
  bool registered = false;

 private:
  friend class ProxyStream;
  std::recursive_mutex mutex_;
  ProxyStream* stream_ = nullptr;  // null once the reactor is done
  uint64_t id_;
};

struct StreamCallbacks {
  std::function<void(const std::shared_ptr<StreamHandle>&, dpb::DiscoveryRequest)> onRequest;
  std::function<void(const std::shared_ptr<StreamHandle>&)> onClosed;
};

class ProxyStream : public grpc::ServerBidiReactor<dpb::DiscoveryRequest, dpb::DiscoveryResponse> {
 public:
  ProxyStream(uint64_t id, std::string token, const StreamCallbacks& callbacks);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

 private:
  friend class StreamHandle;
  void sendLocked(dpb::DiscoveryResponse response);
  void finishLocked(grpc::Status status);

  const StreamCallbacks& callbacks_;
  std::shared_ptr<StreamHandle> handle_;
  dpb::DiscoveryRequest request_;
  dpb::DiscoveryResponse writing_;
  std::optional<dpb::DiscoveryResponse> pending_;
  bool writeInFlight_ = false;
  bool finishRequested_ = false;
  bool finished_ = false;
  grpc::Status finishStatus_;
};

}  // namespace braid::xds
