#pragma once

// One HTTP/1.1 connection to one endpoint of a cluster: connect, then (TLS clusters) the mTLS
// client handshake with the server's SVID checked against the cluster's expected SAN, exactly as
// the TCP proxy does it. Then it carries requests, one at a time, for the HTTP connection manager
// that holds it, or waits in the worker's pool. Loop thread only.

#include <chrono>
#include <memory>
#include <string>

#include "dataplane/event/timer.h"
#include "dataplane/network/connector.h"
#include "dataplane/network/stream_socket.h"
#include "dataplane/stats/stats.h"
#include "dataplane/upstream/cluster_runtime.h"

namespace braid::dataplane::tls {
class TlsContexts;
}

namespace braid::dataplane::hcm {

class UpstreamConnection final : private network::StreamSocket::Handler,
                                 private network::Connector::Handler {
 public:
  // Who the connection's events go to. Each call is the connection's last action in its event
  // callback: the client may destroy the connection inside.
  class Client {
   public:
    virtual void onUpstreamConnected(UpstreamConnection& connection) = 0;
    // The connect or the TLS handshake failed (counted as a connect failure).
    virtual void onUpstreamConnectFailed(UpstreamConnection& connection) = 0;
    virtual void onUpstreamReadable(UpstreamConnection& connection) = 0;
    virtual void onUpstreamWritable(UpstreamConnection& connection) = 0;

   protected:
    ~Client() = default;
  };
  // The pool: told when an idle connection's peer closed it (or sent bytes nobody asked for).
  class IdleOwner {
   public:
    virtual void onIdleClosed(UpstreamConnection& connection) = 0;

   protected:
    ~IdleOwner() = default;
  };

  // `cluster`, `endpoint` and `contexts` are used only while connecting (the caller's snapshot
  // keeps them alive until then); the counters are kept.
  UpstreamConnection(event_base* base, std::string poolKey, const upstream::ClusterRuntime& cluster,
                     size_t endpoint, const tls::TlsContexts* contexts);
  ~UpstreamConnection();
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  // Starts connecting; events go to `client`. false: failed at once (nothing is reported).
  bool connect(Client& client);
  bool connected() const { return socket_ != nullptr && ready_; }
  // In use by `client` (events go there), or idle in the pool (nullptr client: reading watches
  // for the peer's close).
  void attach(Client& client);
  void detachIdle(IdleOwner& owner);

  network::StreamSocket& socket() { return *socket_; }
  const std::string& poolKey() const { return poolKey_; }
  int endpoint() const { return endpoint_; }
  upstream::EndpointCounters& endpointCounters() { return *endpointCounters_; }
  // Requests this connection carried (a reused connection carried more than one).
  int requests = 0;
  // When it was made, and (in a pool) since when it has been idle.
  const std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point idleSince;

 private:
  void onReadable(network::StreamSocket& socket) override;
  void onWritable(network::StreamSocket& socket) override;
  void onConnectResult(network::Connector::Result result, network::UniqueFd socket,
                       int error) override;
  bool startTls();
  // The handshake went on: false when it failed.
  bool continueHandshake();
  void failed(const std::string& error);

  event_base* base_;
  std::string poolKey_;
  int endpoint_;
  std::shared_ptr<ClusterCounters> clusterCounters_;
  std::shared_ptr<upstream::EndpointCounters> endpointCounters_;
  // Connecting only.
  const upstream::ClusterRuntime* cluster_;
  const tls::TlsContexts* contexts_;
  network::Connector connector_;
  std::unique_ptr<event::Timer> handshakeTimer_;
  std::unique_ptr<network::StreamSocket> socket_;
  Client* client_ = nullptr;
  IdleOwner* idleOwner_ = nullptr;
  bool ready_ = false;
};

}  // namespace braid::dataplane::hcm
