#pragma once

// braid-dp's end of the discovery stream: one thread that keeps a gRPC stream to the CP open,
// registers the proxy (its node carries the Dataplane document), applies every ProxyConfig it
// receives through `apply`, and answers each response with an ACK (new version) or a NACK
// (previous version + the error). When the CP is unreachable it keeps the running configuration
// and reconnects with jittered exponential backoff.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace braid::proxy::v1 {
class ProxyConfig;
}

namespace braid::dataplane {

struct DiscoveryClientOptions {
  std::string target;  // "HOST:PORT" of the CP's dataplane server
  std::string caPem;   // cp-ca.pem; verifies the CP's certificate
  bool insecureSkipVerify = false;
  std::string dataplane;  // the Dataplane document, variables substituted
  std::string token;      // the dataplane token, sent as "authorization: Bearer …"; "" = none
  std::string nodeId;     // "<mesh>.<name>"
  std::string proxyType = "sidecar";
  std::string version;  // braid-dp's version
  int initialBackoffMs = 200;
  int maxBackoffMs = 1000;       // low, so a returning CP resyncs every proxy within ~2 s
  int refusedBackoffMs = 30000;  // after the CP refused the proxy (see isRefusal)
};

// Returns "" when the configuration is now running, else why it was refused.
using ApplyConfig =
    std::function<std::string(const std::string& version, const braid::proxy::v1::ProxyConfig&)>;

class DiscoveryClient {
 public:
  DiscoveryClient(DiscoveryClientOptions options, ApplyConfig apply);
  ~DiscoveryClient();
  DiscoveryClient(const DiscoveryClient&) = delete;
  DiscoveryClient& operator=(const DiscoveryClient&) = delete;

  void start();
  void stop();  // cancels the stream and joins the thread

  bool connected() const { return connected_.load(); }
  std::string appliedVersion() const;
  uint64_t updatesApplied() const { return applied_.load(); }
  uint64_t updatesRejected() const { return rejected_.load(); }
  uint64_t reconnects() const { return reconnects_.load(); }

  struct Impl;

 private:
  void run();
  void connectChannel();

  DiscoveryClientOptions options_;
  ApplyConfig apply_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> applied_{0}, rejected_{0}, reconnects_{0};
};

}  // namespace braid::dataplane
