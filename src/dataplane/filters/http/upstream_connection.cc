#include "dataplane/filters/http/upstream_connection.h"

#include <event2/buffer.h>
#include <openssl/ssl.h>

#include <exception>

#include "common/log.h"
#include "dataplane/filters/tcp_proxy/upstream_tls.h"
#include "dataplane/tls/tls_contexts.h"

namespace braid::dataplane::hcm {
namespace {

void increment(std::atomic<uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }
void decrement(std::atomic<uint64_t>& counter) { counter.fetch_sub(1, std::memory_order_relaxed); }

}  // namespace

UpstreamConnection::UpstreamConnection(event_base* base, std::string poolKey,
                                       const upstream::ClusterRuntime& cluster, size_t endpoint,
                                       const tls::TlsContexts* contexts)
    : base_(base),
      poolKey_(std::move(poolKey)),
      endpoint_(static_cast<int>(endpoint)),
      clusterCounters_(cluster.counters),
      endpointCounters_(cluster.endpoints[endpoint].counters),
      cluster_(&cluster),
      contexts_(contexts),
      connector_(base, *this) {
  increment(endpointCounters_->active);
  increment(endpointCounters_->total);
  increment(clusterCounters_->upstreamConnectionsTotal);
  increment(clusterCounters_->upstreamConnectionsActive);
}

UpstreamConnection::~UpstreamConnection() {
  decrement(endpointCounters_->active);
  decrement(clusterCounters_->upstreamConnectionsActive);
}

bool UpstreamConnection::connect(Client& client) {
  client_ = &client;
  const auto& endpoint = cluster_->endpoints[static_cast<size_t>(endpoint_)];
  if (connector_.start(*endpoint.address, cluster_->config->connectTimeout) == 0) return true;
  increment(endpointCounters_->connectFailures);
  increment(clusterCounters_->connectFailures);
  return false;
}

void UpstreamConnection::attach(Client& client) {
  client_ = &client;
  idleOwner_ = nullptr;
  // Reading stays on (the pool had it on): the client sends its request at once and reads the
  // answer, so switching it off and on again would only cost two epoll_ctl calls.
}

void UpstreamConnection::detachIdle(IdleOwner& owner) {
  client_ = nullptr;
  idleOwner_ = &owner;
  // Reading an idle connection sees the peer's close (or bytes nobody asked for).
  socket_->setReadEnabled(true);
}

void UpstreamConnection::onConnectResult(network::Connector::Result result,
                                         network::UniqueFd socket, int) {
  if (result != network::Connector::Result::kConnected) {
    if (result == network::Connector::Result::kTimedOut) {
      increment(clusterCounters_->connectTimeouts);
    }
    increment(endpointCounters_->connectFailures);
    increment(clusterCounters_->connectFailures);
    client_->onUpstreamConnectFailed(*this);
    return;
  }
  network::StreamSocket::Handler& handler = *this;
  try {
    socket_ = std::make_unique<network::StreamSocket>(base_, std::move(socket), handler);
  } catch (const std::exception&) {
    return failed("out of memory");
  }
  if (!cluster_->config->tls.enabled) {
    ready_ = true;
    client_->onUpstreamConnected(*this);
    return;
  }
  if (!startTls()) return;
  if (!continueHandshake()) return;
}

bool UpstreamConnection::startTls() {
  const UpstreamTls& tls = cluster_->config->tls;
  if (cluster_->tlsClient == nullptr || contexts_ == nullptr) {
    log::debug("no certificate for the cluster's identity yet",
               {{"cluster", cluster_->config->name}, {"identity", tls.identity}});
    failed("no certificate");
    return false;
  }
  try {
    handshakeTimer_ =
        std::make_unique<event::Timer>(base_, [this] { failed("handshake timed out"); });
  } catch (const std::exception&) {
    failed("out of memory");
    return false;
  }
  const auto& endpoint = cluster_->endpoints[static_cast<size_t>(endpoint_)];
  SSL* ssl = contexts_->newClientSsl(cluster_->tlsClient, endpoint.key, tls.sni);
  if (ssl == nullptr) {
    failed("cannot create the TLS session");
    return false;
  }
  try {
    socket_->startTls(ssl);
  } catch (const std::exception&) {
    failed("cannot start TLS");
    return false;
  }
  handshakeTimer_->schedule(cluster_->config->connectTimeout);
  return true;
}

bool UpstreamConnection::continueHandshake() {
  auto io = socket_->handshake();
  if (io == network::StreamSocket::Io::kWouldBlock) return true;
  if (io != network::StreamSocket::Io::kOk) {
    failed(socket_->tlsError());
    return false;
  }
  std::string error =
      tcp_proxy::checkUpstreamServer(socket_->ssl(), *contexts_, cluster_->config->tls.expectedSan);
  if (!error.empty()) {
    failed(error);
    return false;
  }
  if (SSL_session_reused(socket_->ssl()) == 1) {
    increment(clusterCounters_->upstreamSslSessionReused);
  }
  handshakeTimer_.reset();
  ready_ = true;
  client_->onUpstreamConnected(*this);
  return false;  // the client may have destroyed this connection
}

void UpstreamConnection::failed(const std::string& error) {
  log::debug("upstream TLS handshake failed",
             {{"cluster", cluster_->config->name}, {"endpoint", poolKey_}, {"error", error}});
  if (socket_ && socket_->ssl() != nullptr && contexts_ != nullptr) {
    contexts_->forgetSession(socket_->ssl());
  }
  if (cluster_->config->tls.enabled) increment(clusterCounters_->upstreamSslHandshakeErrors);
  increment(endpointCounters_->connectFailures);
  increment(clusterCounters_->connectFailures);
  client_->onUpstreamConnectFailed(*this);
}

void UpstreamConnection::onReadable(network::StreamSocket&) {
  if (!ready_) {
    continueHandshake();
    return;
  }
  if (client_ != nullptr) {
    client_->onUpstreamReadable(*this);
    return;
  }
  // Idle: whatever arrives (EOF, an error, unexpected bytes) ends the connection.
  evbuffer* scratch = evbuffer_new();
  size_t count = 0;
  auto io = scratch == nullptr ? network::StreamSocket::Io::kError
                               : socket_->readInto(scratch, 4096, count);
  if (scratch != nullptr) evbuffer_free(scratch);
  if (io == network::StreamSocket::Io::kWouldBlock) return;
  if (idleOwner_ != nullptr) idleOwner_->onIdleClosed(*this);
}

void UpstreamConnection::onWritable(network::StreamSocket&) {
  if (!ready_) {
    continueHandshake();
    return;
  }
  if (client_ != nullptr) {
    client_->onUpstreamWritable(*this);
    return;
  }
  size_t count = 0;
  socket_->flush(count);
}

}  // namespace braid::dataplane::hcm
