#include "dataplane/server/worker.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <exception>

#include "common/log.h"
#include "dataplane/http/route_matcher.h"

namespace braid::dataplane {
namespace {

// How stale the byte counters of long-lived connections may get.
constexpr std::chrono::milliseconds kStatsFlushInterval{1000};

// The balancer a new TCP connection uses: its listener's cluster, or with MeshTCPRoute weights
// one cluster picked per connection (upstream/split_sequence.h).
upstream::LoadBalancer& balancerFor(const ListenerRoute& route, const WorkerConfig& config,
                                    upstream::SplitSequence& splits) {
  const ListenerConfig& listener = *route.listener->config;
  if (listener.weightedClusters.empty()) return *route.balancer;
  const std::string& name =
      http::pickWeightedCluster(listener.weightedClusters, listener.totalWeight,
                                splits.next(&listener.weightedClusters, listener.totalWeight));
  auto picked = config.balancers.find(name);
  return picked == config.balancers.end() ? *route.balancer : *picked->second;
}

}  // namespace

Worker::Worker(const tcp_proxy::ProxyLimits& limits)
    : limits_(limits),
      flushTimer_(loop_.base(), [this] { onFlushTimer(); }),
      h2Pool_(loop_.base(), limits_) {
  http_.pool.runOn(loop_.base());
  http_.h2Pool = &h2Pool_;
  http_.h2Mirrors = &h2Mirrors_;
  if (limits_.splice) pipes_ = std::make_unique<network::PipePool>(limits_.maxPipes);
  flushTimer_.schedule(kStatsFlushInterval);
  thread_ = std::thread([this] {
    // splice() into a socket whose peer is gone raises SIGPIPE (it has no MSG_NOSIGNAL); blocked
    // here it stays pending on this thread instead of ending the process.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    loop_.run();
  });
}

Worker::~Worker() {
  loop_.stop();
  thread_.join();
  // The loop thread is gone: tear down here, connections first (they hold the configuration).
  sessions_.clear();  // before the pipe pool: they hand their pipes back
  httpConnections_.clear();
  h2Connections_.clear();  // before the pool their streams use
  h2Mirrors_.clear();
  h2Pool_.clear();
  http_.pool.clear();
  listeners_.clear();
  current_.reset();
}

void Worker::applyOnLoop(std::shared_ptr<const RuntimeConfig> config,
                         std::map<std::string, network::UniqueFd> sockets) {
  auto next = std::make_shared<WorkerConfig>(std::move(config), lbStates_);
  std::map<std::string, std::unique_ptr<ActiveListener>> listeners;
  for (const auto& [key, route] : next->routes) {
    if (auto kept = listeners_.find(key); kept != listeners_.end()) {
      kept->second->route = route;
      listeners.emplace(key, std::move(kept->second));
      continue;
    }
    auto socket = sockets.find(key);
    if (socket == sockets.end()) continue;  // not listening: the pool is draining
    auto active = std::make_unique<ActiveListener>();
    active->route = route;
    try {
      active->socket = std::make_unique<network::Listener>(
          loop_.base(), std::move(socket->second),
          [this, listener = active.get()](network::UniqueFd fd) {
            accept(*listener, std::move(fd));
          });
    } catch (const std::exception& e) {
      log::error("cannot listen",
                 {{"listener", route.listener->config->name}, {"error", e.what()}});
      continue;
    }
    listeners.emplace(key, std::move(active));
  }
  // Listeners left behind close here; connections they accepted are not theirs and carry on.
  listeners_ = std::move(listeners);
  current_ = std::move(next);
  // Pooled upstream connections to endpoints the new configuration lacks close (busy ones
  // after their requests); the keys are built once here, not per request.
  auto keys = std::make_shared<const hcm::PoolKeys>(hcm::UpstreamPool::keysOf(*current_->runtime));
  h2Pool_.retain(keys);
  http_.pool.retain(std::move(keys));
}

void Worker::stopListeningOnLoop() {
  listeners_.clear();
  // HTTP connections do not wait for their callers to close: idle ones close now, busy ones
  // after their current response (HTTP/1.1) or their open streams (HTTP/2, after a GOAWAY).
  for (const auto& [raw, connection] : httpConnections_) connection->drain();
  for (const auto& [raw, connection] : h2Connections_) connection->drain();
}

size_t Worker::bufferedBytesOnLoop() const {
  size_t total = 0;
  for (const auto& [raw, session] : sessions_) total += session->bufferedBytes();
  for (const auto& [raw, connection] : httpConnections_) total += connection->bufferedBytes();
  for (const auto& [raw, connection] : h2Connections_) total += connection->bufferedBytes();
  return total;
}

void Worker::flushStatsOnLoop() {
  for (auto& [raw, session] : sessions_) session->flushStats();
}

void Worker::onFlushTimer() {
  flushStatsOnLoop();
  flushTimer_.schedule(kStatsFlushInterval);
}

void Worker::accept(const ActiveListener& listener, network::UniqueFd socket) {
  const ListenerConfig& config = *listener.route.listener->config;
  if (config.http && config.direction == Direction::kOutbound &&
      config.security.mode == TlsMode::kDisabled) {
    // An HTTP listener (the outbound of an http service): the app speaks plaintext HTTP/1.1 to
    // its sidecar, and each request is routed (ADR 0006). Inbounds keep the TCP proxy, whose
    // mTLS and permission front (ADR 0005) the connection manager does not have yet.
    hcm::HttpConnection* connection = nullptr;
    hcm::HttpConnection::Owner& owner = *this;
    try {
      auto owned = std::make_unique<hcm::HttpConnection>(loop_.base(), std::move(socket),
                                                         *listener.route.listener, current_, http_,
                                                         owner, limits_);
      connection = owned.get();
      httpConnections_.emplace(connection, std::move(owned));
    } catch (const std::exception& e) {
      log::warn("connection dropped", {{"error", e.what()}});
      return;
    }
    active_.fetch_add(1, std::memory_order_relaxed);
    connection->start();
    return;
  }
  startTcpProxy(listener.route, current_, std::move(socket), "");
}

void Worker::startTcpProxy(const ListenerRoute& route, const std::shared_ptr<WorkerConfig>& config,
                           network::UniqueFd socket, std::string firstBytes) {
  tcp_proxy::TcpProxySession* session = nullptr;
  tcp_proxy::SessionOwner& owner = *this;
  const ListenerRuntime& runtime = *route.listener;
  tcp_proxy::SessionSecurity security;
  if (runtime.config->security.mode != TlsMode::kDisabled) {
    security.listener = runtime.config;
    security.serverContext = runtime.tlsServer;
  }
  security.contexts = config->runtime->tls.get();
  try {
    auto owned = std::make_unique<tcp_proxy::TcpProxySession>(
        loop_.base(), std::move(socket), *runtime.counters,
        balancerFor(route, *config, http_.splits), config, owner, limits_, pipes_.get(), security);
    session = owned.get();
    sessions_.emplace(session, std::move(owned));
  } catch (const std::exception& e) {
    log::warn("connection dropped", {{"error", e.what()}});
    return;
  }
  if (!firstBytes.empty()) session->sendFirst(std::move(firstBytes));
  active_.fetch_add(1, std::memory_order_relaxed);
  if (!session->start()) onSessionClosed(*session);
}

void Worker::onHandOverToTcpProxy(hcm::HttpConnection& connection, network::UniqueFd socket,
                                  std::string received, const ListenerRoute& route,
                                  std::shared_ptr<WorkerConfig> config) {
  onHttpConnectionClosed(connection);  // destroys it; `route` lives in `config`
  const ListenerConfig& listener = *route.listener->config;
  if (listener.http) {
    // h2c from the app: routed per stream by the HTTP/2 connection manager, which speaks the
    // service's protocol to the peer sidecar (HTTP/2 for http2/grpc, HTTP/1.1 for http).
    startH2Downstream(route, std::move(config), std::move(socket), std::move(received));
    return;
  }
  startTcpProxy(route, config, std::move(socket), std::move(received));
}

void Worker::startH2Downstream(const ListenerRoute& route, std::shared_ptr<WorkerConfig> config,
                               network::UniqueFd socket, std::string received) {
  h2::H2RequestContext context;
  context.base = loop_.base();
  context.listener = route.listener;
  context.config = std::move(config);
  context.worker = &http_;
  context.pool = &h2Pool_;
  context.mirrors = &h2Mirrors_;
  context.limits = &limits_;
  h2::H2Downstream* connection = nullptr;
  h2::H2Downstream::Owner& owner = *this;
  try {
    auto owned = std::make_unique<h2::H2Downstream>(context, std::move(socket), std::move(received),
                                                    limits_, owner);
    connection = owned.get();
    h2Connections_.emplace(connection, std::move(owned));
  } catch (const std::exception& e) {
    log::warn("connection dropped", {{"error", e.what()}});
    return;
  }
  active_.fetch_add(1, std::memory_order_relaxed);
  if (!connection->start()) onH2DownstreamClosed(*connection);
}

void Worker::onH2DownstreamClosed(h2::H2Downstream& connection) {
  h2Connections_.erase(&connection);
  active_.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::onHttpConnectionClosed(hcm::HttpConnection& connection) {
  httpConnections_.erase(&connection);
  active_.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::onSessionClosed(tcp_proxy::TcpProxySession& session) {
  sessions_.erase(&session);
  active_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace braid::dataplane
