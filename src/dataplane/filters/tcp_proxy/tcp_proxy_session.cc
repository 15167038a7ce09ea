#include "dataplane/filters/tcp_proxy/tcp_proxy_session.h"

namespace braid::dataplane::tcp_proxy {

namespace {

void add(std::atomic<uint64_t>& counter, uint64_t& pending) {
  if (pending == 0) return;
  counter.fetch_add(pending, std::memory_order_relaxed);
  pending = 0;
}

constexpr int kReadsPerEvent = 4;

void increment(std::atomic<uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }
void decrement(std::atomic<uint64_t>& counter) { counter.fetch_sub(1, std::memory_order_relaxed); }

}  // namespace

TcpProxySession::TcpProxySession(event_base* base, network::UniqueFd downstream,
                                 ListenerCounters& listener, upstream::LoadBalancer& balancer,
                                 std::shared_ptr<const void> keepAlive, SessionOwner& owner,
                                 const ProxyLimits& limits, network::PipePool* pipes)
    : limits_(limits),
      pipes_(pipes),
      listener_(listener),
      balancer_(balancer),
      cluster_(*balancer.cluster().counters),
      keepAlive_(std::move(keepAlive)),
      owner_(owner),
      downstream_(base, std::move(downstream), *this),
      connector_(base, *this),
      base_(base) {
  increment(listener_.connectionsTotal);
  increment(listener_.connectionsActive);
  tried_.reserve(static_cast<size_t>(limits_.maxConnectAttempts));
}

TcpProxySession::~TcpProxySession() {
  if (pipes_ != nullptr) {
    for (network::StreamSocket* socket : {&downstream_, upstream_.get()}) {
      if (socket == nullptr) continue;
      bool empty = false;
      auto pipe = socket->detachOutputPipe(empty);
      pipes_->release(std::move(pipe), empty);
    }
  }
  flushStats();
  releaseEndpoint();
  decrement(listener_.connectionsActive);
}

bool TcpProxySession::start() { return connectNext(); }

void TcpProxySession::flushStats() {
  add(listener_.bytesReceived, downstreamReceived_);
  add(listener_.bytesSent, downstreamSent_);
  add(cluster_.bytesReceived, upstreamReceived_);
  add(cluster_.bytesSent, upstreamSent_);
}

size_t TcpProxySession::bufferedBytes() const {
  return downstream_.outputLength() + (upstream_ ? upstream_->outputLength() : 0);
}

bool TcpProxySession::connectNext() {
  while (static_cast<int>(tried_.size()) < limits_.maxConnectAttempts) {
    int index = balancer_.pick(tried_);
    if (index < 0) {
      if (tried_.empty()) increment(cluster_.noHealthyEndpoint);
      return false;
    }
    tried_.push_back(index);
    const auto& endpoint = balancer_.cluster().endpoints[static_cast<size_t>(index)];
    endpoint_ = index;
    increment(endpoint.counters->active);
    increment(endpoint.counters->total);
    increment(cluster_.upstreamConnectionsTotal);
    increment(cluster_.upstreamConnectionsActive);
    if (connector_.start(*endpoint.address, balancer_.cluster().config->connectTimeout) == 0) {
      return true;
    }
    increment(endpoint.counters->connectFailures);
    increment(cluster_.connectFailures);
    releaseEndpoint();
  }
  return false;
}

void TcpProxySession::onConnectResult(network::Connector::Result result, network::UniqueFd socket,
                                      int) {
  if (result == network::Connector::Result::kConnected) {
    if (!onConnected(std::move(socket))) finish();
    return;
  }
  const auto& endpoint = balancer_.cluster().endpoints[static_cast<size_t>(endpoint_)];
  increment(endpoint.counters->connectFailures);
  increment(cluster_.connectFailures);
  if (result == network::Connector::Result::kTimedOut) increment(cluster_.connectTimeouts);
  releaseEndpoint();
  if (!connectNext()) finish();
}

bool TcpProxySession::onConnected(network::UniqueFd socket) {
  network::StreamSocket::Handler& handler = *this;
  // Called from libevent: an exception (allocation failure) must not unwind through C frames.
  try {
    upstream_ = std::make_unique<network::StreamSocket>(base_, std::move(socket), handler);
  } catch (const std::exception&) {
    return false;
  }
  downstream_.setReadEnabled(true);
  upstream_->setReadEnabled(true);
  return true;
}

network::StreamSocket& TcpProxySession::peer(network::StreamSocket& socket) {
  return &socket == &downstream_ ? *upstream_ : downstream_;
}

void TcpProxySession::onReadable(network::StreamSocket& socket) {
  network::StreamSocket& to = peer(socket);
  // A full read means more is probably waiting: take a few more reads while the peer keeps up,
  // saving a loop iteration (and often a sleep and a wake-up) per read on bulk transfers.
  for (int reads = 0; reads < kReadsPerEvent; ++reads) {
    size_t count = 0;
    if (!forward(socket, to, count)) return finish();
    if (count < limits_.readSize || !socket.readEnabled() || to.writePending()) break;
  }
  if (done()) finish();
}

void TcpProxySession::onWritable(network::StreamSocket& socket) {
  if (!drain(socket) || done()) finish();
}

bool TcpProxySession::forward(network::StreamSocket& from, network::StreamSocket& to,
                              size_t& count) {
  auto io = to.hasOutputPipe() ? from.spliceInto(to, count)
                               : from.readInto(to.output(), limits_.readSize, count);
  switch (io) {
    case network::StreamSocket::Io::kWouldBlock:
      releasePipeIfEmpty(to);
      return true;
    case network::StreamSocket::Io::kOutputFull:
      // The pipe is full, so a write to `to` is pending: reading resumes when it drains.
      block(from);
      return true;
    case network::StreamSocket::Io::kError:
      return false;
    case network::StreamSocket::Io::kEof:
      // Half-close: pass the EOF on once everything before it has been written.
      if (to.outputLength() == 0 && !to.writeClosed()) return to.shutdownWrite();
      return true;
    case network::StreamSocket::Io::kOk:
      break;
  }
  (&from == &downstream_ ? downstreamReceived_ : upstreamReceived_) += count;
  // A read that filled its buffer is a bulk transfer: the rest of this direction goes through a
  // pipe (after the bytes already buffered, which are written first).
  if (count >= limits_.readSize && pipes_ != nullptr && !to.hasOutputPipe()) {
    if (auto pipe = pipes_->acquire()) to.attachOutputPipe(std::move(pipe));
  }
  // Write through at once unless the socket is already known to be full.
  if (!to.writePending() && !drain(to)) return false;
  if (to.outputLength() > limits_.highWatermark) block(from);
  // A short read after a bulk one: the burst is over. An empty pipe goes back to the pool, so
  // that idle connections do not hold pipes (two file descriptors each).
  if (count < limits_.readSize) releasePipeIfEmpty(to);
  return true;
}

void TcpProxySession::releasePipeIfEmpty(network::StreamSocket& to) {
  if (pipes_ == nullptr || !to.hasOutputPipe() || to.outputLength() != 0) return;
  bool empty = false;
  auto pipe = to.detachOutputPipe(empty);
  pipes_->release(std::move(pipe), empty);
}

void TcpProxySession::block(network::StreamSocket& from) {
  from.setReadEnabled(false);
  (&from == &downstream_ ? downstreamBlocked_ : upstreamBlocked_) = true;
}

bool TcpProxySession::drain(network::StreamSocket& to) {
  size_t count = 0;
  auto io = to.flush(count);
  (&to == &downstream_ ? downstreamSent_ : upstreamSent_) += count;
  if (io == network::StreamSocket::Io::kError) return false;
  network::StreamSocket& from = peer(to);
  const size_t pending = to.outputLength();
  if (pending == 0 && from.readClosed() && !to.writeClosed() && !to.shutdownWrite()) return false;
  // Everything written and nothing more waiting on the other side: the burst is over, and the
  // pipe goes back to the pool so an idle connection never holds one (pipes count against the
  // user's pipe-buffer quota, and each is two file descriptors).
  if (pending == 0 && to.hasOutputPipe() && from.inputAvailable() == 0) releasePipeIfEmpty(to);
  bool& blocked = &from == &downstream_ ? downstreamBlocked_ : upstreamBlocked_;
  if (blocked && pending <= limits_.lowWatermark) {
    blocked = false;
    from.setReadEnabled(true);
  }
  return true;
}

bool TcpProxySession::done() const {
  return upstream_ && downstream_.readClosed() && upstream_->writeClosed() &&
         upstream_->readClosed() && downstream_.writeClosed();
}

void TcpProxySession::releaseEndpoint() {
  if (endpoint_ < 0) return;
  const auto& endpoint = balancer_.cluster().endpoints[static_cast<size_t>(endpoint_)];
  decrement(endpoint.counters->active);
  decrement(cluster_.upstreamConnectionsActive);
  endpoint_ = -1;
}

void TcpProxySession::finish() { owner_.onSessionClosed(*this); }

}  // namespace braid::dataplane::tcp_proxy
