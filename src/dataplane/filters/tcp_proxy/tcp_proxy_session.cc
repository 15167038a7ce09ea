#include "dataplane/filters/tcp_proxy/tcp_proxy_session.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <exception>

#include "common/log.h"
#include "dataplane/filters/tcp_proxy/deny_response.h"
#include "dataplane/filters/tcp_proxy/permissions.h"
#include "dataplane/filters/tcp_proxy/upstream_tls.h"
#include "dataplane/network/socket_ops.h"
#include "dataplane/tls/tls_contexts.h"
#include "dataplane/upstream/outlier_detector.h"

namespace braid::dataplane::tcp_proxy {

namespace {

// PERMISSIVE: how long a caller may take to send the first bytes that tell TLS from plaintext.
// Protocols where the server speaks first send nothing: they are plaintext after this.
constexpr std::chrono::milliseconds kPeekTimeout{3000};
// How often a caller that sent one byte of a possible TLS record is looked at again.
constexpr std::chrono::milliseconds kPeekPoll{10};
// A TLS client must complete its handshake within this.
constexpr std::chrono::milliseconds kHandshakeTimeout{10000};
// A denied HTTP caller: how long its request head may take, and how long the connection stays
// open after the 403 for the caller to read it and close (closing first with unread input would
// reset the connection and could lose the answer).
constexpr std::chrono::milliseconds kDenyRequestTimeout{5000};
constexpr std::chrono::milliseconds kDenyLinger{2000};
// The request bytes looked at before answering regardless.
constexpr size_t kDenyMaxRequest = 64 * 1024;

void add(std::atomic<uint64_t>& counter, uint64_t& pending) {
  if (pending == 0) return;
  counter.fetch_add(pending, std::memory_order_relaxed);
  pending = 0;
}

constexpr int kReadsPerEvent = 4;

void increment(std::atomic<uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }

// The ring-hash key of a TCP connection: its source IP (the port changes per connection). HTTP
// hash policies (header, cookie, query) cannot apply to bytes: a TCP proxy always uses this.
std::optional<uint64_t> sourceIpHash(int fd) {
  std::string ip = network::peerIp(fd);
  if (ip.empty()) return std::nullopt;
  return upstream::hashKey(ip);
}

int64_t cachedNowUs(event_base* base) {
  timeval now{};
  event_base_gettimeofday_cached(base, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000 + now.tv_usec;
}
void decrement(std::atomic<uint64_t>& counter) { counter.fetch_sub(1, std::memory_order_relaxed); }

}  // namespace

TcpProxySession::TcpProxySession(event_base* base, network::UniqueFd downstream,
                                 ListenerCounters& listener, upstream::LoadBalancer& balancer,
                                 std::shared_ptr<const void> keepAlive, SessionOwner& owner,
                                 const ProxyLimits& limits, network::PipePool* pipes,
                                 const SessionSecurity& security)
    : limits_(limits),
      pipes_(pipes),
      listener_(listener),
      balancer_(balancer),
      cluster_(*balancer.cluster().counters),
      keepAlive_(std::move(keepAlive)),
      owner_(owner),
      security_(security),
      sourceHash_(balancer.hashing() ? sourceIpHash(downstream.get()) : std::nullopt),
      downstream_(base, std::move(downstream), *this),
      connector_(base, *this),
      base_(base) {
  increment(listener_.connectionsTotal);
  increment(listener_.connectionsActive);
  int clusterAttempts = balancer_.cluster().config->maxConnectAttempts;
  maxAttempts_ = std::max(1, clusterAttempts > 0 ? clusterAttempts : limits_.maxConnectAttempts);
  tried_.reserve(static_cast<size_t>(maxAttempts_));
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
  if (denied_ != nullptr) evbuffer_free(denied_);
}

bool TcpProxySession::start() {
  const ListenerConfig* listener = security_.listener;
  if (listener == nullptr || listener->security.mode == TlsMode::kDisabled) return connectNext();
  // Called from the accept callback: nothing may unwind through libevent.
  try {
    timer_ = std::make_unique<event::Timer>(base_, [this] {
      if (!onTimer()) finish();
    });
  } catch (const std::exception&) {
    return false;
  }
  if (listener->security.mode == TlsMode::kStrict) return startDownstreamTls();
  phase_ = Phase::kPeeking;
  deadline_ = std::chrono::steady_clock::now() + kPeekTimeout;
  schedule(kPeekTimeout);
  downstream_.setReadEnabled(true);
  return true;
}

void TcpProxySession::schedule(std::chrono::milliseconds delay) {
  if (timer_) timer_->schedule(delay);
}

bool TcpProxySession::onSetupEvent(network::StreamSocket& socket, bool readable) {
  switch (phase_) {
    case Phase::kPeeking:
      return peekCallerProtocol(false);
    case Phase::kHandshaking:
      return continueDownstreamHandshake();
    case Phase::kDenying:
      return readDenied(false);
    case Phase::kAnswering:
      return readable ? readDenied(false) : writeAnswer();
    case Phase::kUpstreamHandshaking:
      return &socket == upstream_.get() ? continueUpstreamHandshake() : true;
    case Phase::kConnecting:
    case Phase::kProxying:
      break;
  }
  return true;
}

bool TcpProxySession::onTimer() {
  switch (phase_) {
    case Phase::kPeeking:
      return peekCallerProtocol(std::chrono::steady_clock::now() >= deadline_);
    case Phase::kHandshaking:
      increment(listener_.sslHandshakeErrors);
      log::debug("TLS handshake timed out", {{"listener", security_.listener->name}});
      return false;
    case Phase::kDenying:
      return readDenied(true);
    case Phase::kAnswering:
      return false;
    case Phase::kUpstreamHandshaking:
      return upstreamTlsFailed("handshake timed out");
    case Phase::kProxying: {
      // Idle timeout: the timer was armed for the whole timeout after the last byte it knew
      // of; bytes since then push the deadline, so it is re-armed for what is left.
      const auto timeout = balancer_.cluster().config->idleTimeout;
      const int64_t idleUs = cachedNowUs(base_) - lastActivityUs_;
      const int64_t timeoutUs = timeout.count() * 1000;
      if (idleUs >= timeoutUs) {
        increment(cluster_.idleTimeouts);
        log::debug("idle timeout", {{"cluster", balancer_.cluster().config->name}});
        return false;
      }
      schedule(std::chrono::milliseconds((timeoutUs - idleUs + 999) / 1000));
      return true;
    }
    case Phase::kConnecting:
      break;
  }
  return true;
}

// PERMISSIVE: a TLS ClientHello starts with a handshake record, 0x16 0x03 (the record version's
// major byte); anything else is a plaintext caller. Nothing is consumed.
bool TcpProxySession::peekCallerProtocol(bool final) {
  unsigned char head[2];
  size_t count = 0;
  auto io = downstream_.peek(head, sizeof(head), count);
  if (io == network::StreamSocket::Io::kEof || io == network::StreamSocket::Io::kError) {
    return false;
  }
  bool maybeTls = count >= 1 && head[0] == 0x16;
  if ((count == 0 || (count == 1 && maybeTls)) && !final) {
    // Nothing yet, or one byte: look again at the deadline, or shortly after one byte (the
    // socket stays readable then, so its event would spin).
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline_ - std::chrono::steady_clock::now());
    left = std::max(left, std::chrono::milliseconds(1));
    if (count == 1) {
      downstream_.setReadEnabled(false);
      left = std::min(left, kPeekPoll);
    }
    schedule(left);
    return true;
  }
  downstream_.setReadEnabled(false);
  if (timer_) timer_->cancel();
  if (count == 2 && maybeTls && head[1] == 0x03) return startDownstreamTls();
  return authorize("");
}

bool TcpProxySession::startDownstreamTls() {
  if (security_.serverContext == nullptr) {
    increment(listener_.sslIdentityMissing);
    log::debug("no certificate for the inbound's identity yet: connection closed",
               {{"listener", security_.listener->name},
                {"identity", security_.listener->security.identity}});
    return false;
  }
  SSL* ssl = tls::TlsContexts::newServerSsl(security_.serverContext);
  if (ssl == nullptr) return false;
  try {
    downstream_.startTls(ssl);  // owns it, also when it throws
  } catch (const std::exception&) {
    return false;
  }
  phase_ = Phase::kHandshaking;
  schedule(kHandshakeTimeout);
  return continueDownstreamHandshake();
}

bool TcpProxySession::continueDownstreamHandshake() {
  auto io = downstream_.handshake();
  if (io == network::StreamSocket::Io::kWouldBlock) return true;
  std::string caller;
  std::string error;
  if (io != network::StreamSocket::Io::kOk) {
    error = downstream_.tlsError();
    if (downstream_.tlsNoPeerCertificate()) increment(listener_.sslNoCertificate);
  } else if (tls::verifyPeer(downstream_.ssl(), security_.contexts->trustDomain(), caller, error)) {
    increment(listener_.sslHandshakes);
    if (timer_) timer_->cancel();
    return authorize(caller);
  }
  increment(listener_.sslHandshakeErrors);
  log::debug("inbound TLS handshake failed",
             {{"listener", security_.listener->name}, {"error", error}});
  return false;
}

bool TcpProxySession::authorize(const std::string& caller) {
  const InboundSecurity& security = security_.listener->security;
  if (!security.enforcePermissions) {
    phase_ = Phase::kConnecting;
    return connectNext();
  }
  PermissionDecision decision = evaluatePermissions(security.rules, caller);
  std::string policy = decision.rule != nullptr ? decision.rule->policy : "";
  switch (decision.action) {
    case PermissionAction::kAllowWithShadowDeny:
      increment(listener_.rbacShadowDenied);
      log::info("shadow deny", {{"caller", caller.empty() ? "(plaintext)" : caller},
                                {"listener", security_.listener->name},
                                {"policy", policy}});
      [[fallthrough]];
    case PermissionAction::kAllow:
      increment(listener_.rbacAllowed);
      phase_ = Phase::kConnecting;
      return connectNext();
    case PermissionAction::kDeny:
      break;
  }
  increment(listener_.rbacDenied);
  log::debug("connection denied", {{"caller", caller.empty() ? "(plaintext)" : caller},
                                   {"listener", security_.listener->name},
                                   {"policy", policy.empty() ? "(no rule matched)" : policy}});
  return deny();
}

bool TcpProxySession::deny() {
  // TCP: closed before a byte reaches the app (no upstream connection was ever made).
  const std::string& protocol = security_.listener->protocol;
  if (protocol != "http" && protocol != "http2" && protocol != "grpc") return false;
  denied_ = evbuffer_new();
  if (denied_ == nullptr) return false;
  phase_ = Phase::kDenying;
  schedule(kDenyRequestTimeout);
  downstream_.setReadEnabled(true);
  return true;
}

bool TcpProxySession::readDenied(bool final) {
  if (!final) {
    size_t count = 0;
    auto io = downstream_.readInto(denied_, limits_.readSize, count);
    if (io == network::StreamSocket::Io::kError) return false;
    if (phase_ == Phase::kAnswering) {
      // The answer is out: wait for the caller to close, dropping what it still sends.
      evbuffer_drain(denied_, evbuffer_get_length(denied_));
      return io != network::StreamSocket::Io::kEof;
    }
    final =
        io == network::StreamSocket::Io::kEof || evbuffer_get_length(denied_) >= kDenyMaxRequest;
  }
  size_t length = evbuffer_get_length(denied_);
  const char* bytes = reinterpret_cast<const char*>(evbuffer_pullup(denied_, -1));
  std::string_view received(bytes == nullptr ? "" : bytes, length);
  auto answer = httpDenyAnswer(received, final, denySettingsSent_);
  if (!answer) {
    if (!denySettingsSent_ && http2PrefaceComplete(received)) {
      // An HTTP/2 client that waits for the server's SETTINGS before its request (gRPC's).
      denySettingsSent_ = true;
      const std::string settings = http2ServerSettings();
      evbuffer_add(downstream_.output(), settings.data(), settings.size());
      size_t count = 0;
      if (downstream_.flush(count) == network::StreamSocket::Io::kError) return false;
      downstreamSent_ += count;
    }
    return true;
  }
  evbuffer_drain(denied_, length);
  evbuffer_add(downstream_.output(), answer->data(), answer->size());
  phase_ = Phase::kAnswering;
  schedule(kDenyLinger);
  if (downstream_.readClosed()) downstream_.setReadEnabled(false);
  return writeAnswer();
}

bool TcpProxySession::writeAnswer() {
  size_t count = 0;
  auto io = downstream_.flush(count);
  downstreamSent_ += count;
  if (io == network::StreamSocket::Io::kError) return false;
  if (downstream_.outputLength() > 0 || downstream_.writeClosed()) return true;
  if (!downstream_.shutdownWrite()) return false;
  // The caller already closed its side: nothing left to wait for.
  return !downstream_.readClosed();
}

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
  const auto& cluster = balancer_.cluster();
  const uint32_t maxConnections = cluster.config->circuitBreaker.maxConnections;
  if (tried_.empty() && maxConnections != 0 &&
      cluster_.upstreamConnectionsActive.load(std::memory_order_relaxed) >= maxConnections) {
    // MeshCircuitBreaker: refused before any attempt (the count is shared by every worker, so
    // concurrent accepts may pass it by a few, as in Envoy).
    increment(cluster_.upstreamCxOverflow);
    log::debug("circuit breaker: max connections reached", {{"cluster", cluster.config->name}});
    return false;
  }
  while (static_cast<int>(tried_.size()) < maxAttempts_) {
    int index = balancer_.pick(tried_, sourceHash_);
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
    recordConnect(false);
    releaseEndpoint();
  }
  return false;
}

void TcpProxySession::recordConnect(bool success) {
  if (endpoint_ < 0) return;
  upstream::recordResult(balancer_.cluster(), static_cast<size_t>(endpoint_),
                         success ? upstream::UpstreamResult::kConnectSuccess
                                 : upstream::UpstreamResult::kLocalOriginFailure);
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
  recordConnect(false);
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
  if (balancer_.cluster().config->tls.enabled) return startUpstreamTls();
  recordConnect(true);
  return startProxying();
}

bool TcpProxySession::startProxying() {
  phase_ = Phase::kProxying;
  if (!startIdleTimer()) return false;
  if (!firstBytes_.empty()) {
    if (evbuffer_add(upstream_->output(), firstBytes_.data(), firstBytes_.size()) != 0) {
      return false;
    }
    firstBytes_.clear();
    firstBytes_.shrink_to_fit();
    if (!drain(*upstream_)) return false;
  }
  downstream_.setReadEnabled(true);
  upstream_->setReadEnabled(true);
  return true;
}

bool TcpProxySession::startIdleTimer() {
  const auto timeout = balancer_.cluster().config->idleTimeout;
  if (timeout.count() <= 0) return true;
  if (!timer_) {
    try {
      timer_ = std::make_unique<event::Timer>(base_, [this] {
        if (!onTimer()) finish();
      });
    } catch (const std::exception&) {
      return false;
    }
  }
  touch();
  schedule(timeout);
  return true;
}

void TcpProxySession::touch() {
  if (timer_) lastActivityUs_ = cachedNowUs(base_);
}

bool TcpProxySession::startUpstreamTls() {
  const auto& cluster = balancer_.cluster();
  const UpstreamTls& tls = cluster.config->tls;
  if (cluster.tlsClient == nullptr || security_.contexts == nullptr) {
    // Every endpoint would fail alike: the session ends here.
    increment(cluster_.upstreamSslHandshakeErrors);
    log::debug("no certificate for the cluster's identity yet: connection closed",
               {{"cluster", cluster.config->name}, {"identity", tls.identity}});
    return false;
  }
  if (!timer_) {
    try {
      timer_ = std::make_unique<event::Timer>(base_, [this] {
        if (!onTimer()) finish();
      });
    } catch (const std::exception&) {
      return false;
    }
  }
  const auto& endpoint = cluster.endpoints[static_cast<size_t>(endpoint_)];
  SSL* ssl = security_.contexts->newClientSsl(cluster.tlsClient, endpoint.key, tls.sni);
  if (ssl == nullptr) return false;
  try {
    upstream_->startTls(ssl);
  } catch (const std::exception&) {
    return false;
  }
  phase_ = Phase::kUpstreamHandshaking;
  schedule(cluster.config->connectTimeout);
  return continueUpstreamHandshake();
}

bool TcpProxySession::continueUpstreamHandshake() {
  auto io = upstream_->handshake();
  if (io == network::StreamSocket::Io::kWouldBlock) return true;
  if (io != network::StreamSocket::Io::kOk) return upstreamTlsFailed(upstream_->tlsError());
  std::string error = checkUpstreamServer(upstream_->ssl(), *security_.contexts,
                                          balancer_.cluster().config->tls.expectedSan);
  if (!error.empty()) return upstreamTlsFailed(error);
  if (SSL_session_reused(upstream_->ssl()) == 1) increment(cluster_.upstreamSslSessionReused);
  if (timer_) timer_->cancel();
  recordConnect(true);
  return startProxying();
}

bool TcpProxySession::upstreamTlsFailed(const std::string& error) {
  const auto& endpoint = balancer_.cluster().endpoints[static_cast<size_t>(endpoint_)];
  log::debug("upstream TLS handshake failed", {{"cluster", balancer_.cluster().config->name},
                                               {"endpoint", endpoint.key},
                                               {"error", error}});
  if (upstream_ && upstream_->ssl() != nullptr) security_.contexts->forgetSession(upstream_->ssl());
  if (timer_) timer_->cancel();
  increment(cluster_.upstreamSslHandshakeErrors);
  increment(endpoint.counters->connectFailures);
  increment(cluster_.connectFailures);
  recordConnect(false);
  releaseEndpoint();
  upstream_.reset();
  phase_ = Phase::kConnecting;
  return connectNext();
}

network::StreamSocket& TcpProxySession::peer(network::StreamSocket& socket) {
  return &socket == &downstream_ ? *upstream_ : downstream_;
}

void TcpProxySession::onReadable(network::StreamSocket& socket) {
  if (phase_ != Phase::kProxying) [[unlikely]] {
    if (!onSetupEvent(socket, true)) finish();
    return;
  }
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
  if (phase_ != Phase::kProxying) [[unlikely]] {
    if (!onSetupEvent(socket, false)) finish();
    return;
  }
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
  touch();
  // A read that filled its buffer is a bulk transfer: the rest of this direction goes through a
  // pipe (after the bytes already buffered, which are written first).
  // TLS bytes are encrypted and decrypted in user space: never spliced.
  if (count >= limits_.readSize && pipes_ != nullptr && !to.hasOutputPipe() && !from.isTls() &&
      !to.isTls()) {
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
  if (count > 0) touch();
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
