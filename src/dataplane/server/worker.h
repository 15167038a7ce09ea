#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "dataplane/event/event_loop.h"
#include "dataplane/event/timer.h"
#include "dataplane/filters/http/http_connection.h"
#include "dataplane/filters/http2/h2_downstream.h"
#include "dataplane/filters/http2/h2_mirror.h"
#include "dataplane/filters/http2/h2_upstream_pool.h"
#include "dataplane/filters/tcp_proxy/tcp_proxy_session.h"
#include "dataplane/network/listener.h"
#include "dataplane/network/pipe_pool.h"
#include "dataplane/network/unique_fd.h"
#include "dataplane/server/worker_config.h"
#include "dataplane/upstream/load_balancer.h"

namespace braid::dataplane {

// One worker thread: its own event loop, its own listening socket per address (SO_REUSEPORT), the
// connections it accepted. Other threads talk to it only through post(); the *OnLoop methods run
// on its thread.
class Worker final : private tcp_proxy::SessionOwner,
                     private hcm::HttpConnection::Owner,
                     private h2::H2Downstream::Owner {
 public:
  explicit Worker(const tcp_proxy::ProxyLimits& limits);
  ~Worker();  // stops the loop, joins the thread, closes everything
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Thread-safe.
  void post(std::function<void()> task) { loop_.post(std::move(task)); }
  uint64_t activeConnections() const { return active_.load(std::memory_order_relaxed); }

  // Switches new connections to `config`. Addresses it already listens on keep their sockets;
  // `sockets` brings this worker's socket for each new address; addresses `config` no longer has
  // stop accepting (their connections carry on).
  void applyOnLoop(std::shared_ptr<const RuntimeConfig> config,
                   std::map<std::string, network::UniqueFd> sockets);
  // Closes every listening socket.
  void stopListeningOnLoop();
  size_t bufferedBytesOnLoop() const;
  size_t pipesInUseOnLoop() const { return pipes_ ? pipes_->inUse() : 0; }
  void flushStatsOnLoop();

 private:
  struct ActiveListener {
    ListenerRoute route;
    std::unique_ptr<network::Listener> socket;
  };

  void accept(const ActiveListener& listener, network::UniqueFd socket);
  // An L4 proxy session for `socket` through `route` of `config`; `firstBytes` (already read
  // from the downstream) go upstream first.
  void startTcpProxy(const ListenerRoute& route, const std::shared_ptr<WorkerConfig>& config,
                     network::UniqueFd socket, std::string firstBytes);
  void onHandOverToTcpProxy(hcm::HttpConnection& connection, network::UniqueFd socket,
                            std::string received, const ListenerRoute& route,
                            std::shared_ptr<WorkerConfig> config) override;
  // The HTTP/2 connection manager for an h2c caller handed over by the HTTP/1.1 one.
  void startH2Downstream(const ListenerRoute& route, std::shared_ptr<WorkerConfig> config,
                         network::UniqueFd socket, std::string received);
  void onSessionClosed(tcp_proxy::TcpProxySession& session) override;
  void onHttpConnectionClosed(hcm::HttpConnection& connection) override;
  void onH2DownstreamClosed(h2::H2Downstream& connection) override;
  std::shared_ptr<WorkerConfig> currentConfig() override { return current_; }
  void onFlushTimer();

  const tcp_proxy::ProxyLimits limits_;
  event::EventLoop loop_;  // declared first: destroyed after everything holding its events
  event::Timer flushTimer_;
  upstream::LbStateStore lbStates_;
  std::unique_ptr<network::PipePool> pipes_;  // null when splicing is off
  std::shared_ptr<WorkerConfig> current_;
  std::map<std::string, std::unique_ptr<ActiveListener>> listeners_;  // by address key
  std::unordered_map<tcp_proxy::TcpProxySession*, std::unique_ptr<tcp_proxy::TcpProxySession>>
      sessions_;
  // HTTP listeners' connections, and what they share (the upstream pool).
  hcm::WorkerHttp http_;
  std::unordered_map<hcm::HttpConnection*, std::unique_ptr<hcm::HttpConnection>> httpConnections_;
  // h2c callers of http2/grpc outbounds (the HTTP/2 connection manager) and their upstream pool.
  h2::H2UpstreamPool h2Pool_;
  h2::H2MirrorSender h2Mirrors_{loop_.base(), h2Pool_};  // RequestMirror copies on h2Pool_
  std::unordered_map<h2::H2Downstream*, std::unique_ptr<h2::H2Downstream>> h2Connections_;
  std::atomic<uint64_t> active_{0};
  std::thread thread_;
};

}  // namespace braid::dataplane
