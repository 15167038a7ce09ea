#pragma once

// Keeps braid-dp's workload certificates current (CONTRACT §6): when the configuration needs
// certificates (mTLS on), it generates a key, sends a CSR to the CP's IdentityService and hands
// the result to the data path through `apply`. It asks again when the needed services or the
// mesh's enabled CA backend change, and renews at a random point between 50% and 80% of the
// certificate's life (jitter spreads a mesh's renewals). Failures retry with jittered backoff;
// the running certificate keeps serving meanwhile. One thread; the key never leaves it except
// inside the WorkloadIdentity handed to the data path, and is never logged.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/config/cp_channel.h"
#include "dataplane/tls/workload_identity.h"

namespace braid::dataplane {

struct IdentityManagerOptions {
  CpChannelOptions channel;
  std::string token;  // dataplane token, "" = none
  std::string mesh;
  std::string dataplane;
  std::chrono::milliseconds minRetry{500};
  std::chrono::milliseconds maxRetry{15000};
  std::chrono::milliseconds callTimeout{10000};
};

// Returns "" when the data path took the identity, else why not.
using ApplyIdentity = std::function<std::string(WorkloadIdentityPtr)>;

class IdentityManager {
 public:
  IdentityManager(IdentityManagerOptions options, ApplyIdentity apply);
  ~IdentityManager();  // stops
  IdentityManager(const IdentityManager&) = delete;
  IdentityManager& operator=(const IdentityManager&) = delete;

  void start();
  void stop();

  // What the running configuration needs: certificates for `services` from `backend`. No
  // services: mTLS is off, nothing is requested. Thread-safe; wakes the manager.
  void require(const std::string& backend, std::vector<std::string> services);

  WorkloadIdentityPtr current() const;
  uint64_t issued() const { return issued_.load(); }
  uint64_t failures() const { return failures_.load(); }

 private:
  void run();
  // One CSR round trip; true when a new identity is in place.
  bool renew(const std::string& backend, const std::vector<std::string>& services);
  bool upToDate(const std::string& backend, const std::vector<std::string>& services,
                std::chrono::system_clock::time_point now) const;

  IdentityManagerOptions options_;
  ApplyIdentity apply_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool started_ = false;
  std::string backend_;
  std::vector<std::string> services_;
  WorkloadIdentityPtr current_;
  std::string requestedFor_;  // the backend the configuration named when current_ was requested
  std::chrono::system_clock::time_point renewAt_;
  std::atomic<uint64_t> issued_{0}, failures_{0};
  std::thread thread_;
};

}  // namespace braid::dataplane
