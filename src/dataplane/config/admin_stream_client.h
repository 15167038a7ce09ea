#pragma once

// braid-dp's end of the admin stream (proto/braid/discovery/v1/admin.proto): the CP cannot reach
// this proxy's admin endpoint (loopback only, maybe another machine), so the proxy keeps a stream
// open to the CP and answers its requests for `/stats/prometheus` and `/clusters` there, with the
// same text the admin endpoint serves. One thread; it identifies the proxy and authenticates
// exactly as the discovery stream does, and reconnects with the same jittered backoff.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/http/server.h"

namespace grpc {
class ClientContext;
}

namespace braid::dataplane {

struct AdminStreamClientOptions {
  std::string target;  // "HOST:PORT" of the CP's dataplane server
  std::string caPem;   // cp-ca.pem; verifies the CP's certificate
  bool insecureSkipVerify = false;
  std::string dataplane;  // the Dataplane document, variables substituted (identifies the proxy)
  std::string token;      // the dataplane token, sent as "authorization: Bearer …"; "" = none
  std::string nodeId;     // "<mesh>.<name>"
  std::string proxyType = "sidecar";
  std::string version;  // braid-dp's version
  int initialBackoffMs = 200;
  int maxBackoffMs = 1000;
  int refusedBackoffMs = 30000;  // after the CP refused the proxy
};

// The admin endpoint's answer to `GET path` (e.g. AdminHandler::handle); called on the client's
// thread, so it must be as thread-safe as the admin server's handlers are.
using AdminQuery = std::function<http::Response(const std::string& path)>;

class AdminStreamClient {
 public:
  AdminStreamClient(AdminStreamClientOptions options, AdminQuery query);
  ~AdminStreamClient();
  AdminStreamClient(const AdminStreamClient&) = delete;
  AdminStreamClient& operator=(const AdminStreamClient&) = delete;

  void start();
  void stop();  // cancels the stream and joins the thread

 private:
  void run();

  AdminStreamClientOptions options_;
  AdminQuery query_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;  // the stream in progress, to cancel it on stop
};

}  // namespace braid::dataplane
