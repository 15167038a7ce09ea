#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/snapshot.h"
#include "dataplane/event/timer.h"
#include "dataplane/network/connector.h"
#include "dataplane/network/stream_socket.h"
#include "dataplane/network/unique_fd.h"
#include "dataplane/stats/stats.h"
#include "dataplane/upstream/load_balancer.h"

struct event_base;
struct evbuffer;
typedef struct ssl_ctx_st SSL_CTX;

namespace braid::dataplane::tls {
class TlsContexts;
}

namespace braid::dataplane::tcp_proxy {

struct ProxyLimits {
  // A direction stops reading when the bytes waiting for the other side exceed `highWatermark`
  // and resumes once they fall to `lowWatermark`.
  size_t highWatermark = 1024 * 1024;
  size_t lowWatermark = 256 * 1024;
  // Bytes per read. Just under 64 KiB, so that libevent's chain (buffer plus its header) is a
  // 64 KiB allocation rather than 128 KiB.
  size_t readSize = 64 * 1024 - 512;
  // Per cluster: ClusterConfig::maxConnectAttempts (MeshRetry tcp) when set, else this.
  int maxConnectAttempts = 3;
  // Bulk transfers (a direction whose reads fill readSize) switch to splice() through a kernel
  // pipe, so their bytes are never copied through user space; at most `maxPipes` pipes per
  // worker (two file descriptors each), copying beyond that.
  bool splice = true;
  size_t maxPipes = 1024;
};

class TcpProxySession;

// mTLS and permissions for one session (CONTRACT §6); pointers into the configuration the session
// keeps alive.
struct SessionSecurity {
  // The accepting listener: its security (inbound TLS mode, identity, permissions), protocol and
  // name. nullptr: none of it applies (the plaintext fast path).
  const ListenerConfig* listener = nullptr;
  // The server context of the inbound's identity; nullptr when the proxy has no certificate for
  // it (TLS callers are then closed and counted).
  SSL_CTX* serverContext = nullptr;
  // The identity's contexts (client contexts for TLS clusters, the trust domain); nullptr when
  // the proxy has no identity.
  const tls::TlsContexts* contexts = nullptr;
};

// Owns the sessions; told when one is over so it can destroy it.
class SessionOwner {
 public:
  // Called from the session's own event callback as its last action; destroying the session
  // inside is expected.
  virtual void onSessionClosed(TcpProxySession& session) = 0;

 protected:
  ~SessionOwner() = default;
};

// One downstream connection proxied to one upstream endpoint: L4, bytes both ways, half-close
// honoured, bounded buffering. With mTLS an inbound first terminates TLS (STRICT; PERMISSIVE
// peeks whether the caller speaks TLS) and checks the caller's permissions, and a TLS cluster's
// connection is TLS to the other proxy before a byte of the app goes through.
// Cluster policies: at most maxConnectAttempts connect attempts; a new connection is closed at
// once (counted upstream_cx_overflow) while the cluster has maxConnections upstream connections;
// connect outcomes go to the outlier detector; a ring-hash cluster hashes the caller's source IP;
// a connection with no bytes either way for idleTimeout is closed (one timer per session, re-armed
// lazily from the time of the last byte). Loop thread only.
class TcpProxySession final : private network::StreamSocket::Handler,
                              private network::Connector::Handler {
 public:
  // `keepAlive` holds the configuration the session started with (the balancer and counters it
  // points at) until the session ends.
  // `pipes`: where bulk directions get their pipe; nullptr copies everything.
  TcpProxySession(event_base* base, network::UniqueFd downstream, ListenerCounters& listener,
                  upstream::LoadBalancer& balancer, std::shared_ptr<const void> keepAlive,
                  SessionOwner& owner, const ProxyLimits& limits, network::PipePool* pipes,
                  const SessionSecurity& security = {});
  ~TcpProxySession();
  TcpProxySession(const TcpProxySession&) = delete;
  TcpProxySession& operator=(const TcpProxySession&) = delete;

  // Starts the inbound's TLS or picks an endpoint and starts connecting. false: the session is
  // already over (no usable endpoint, every attempt failed at once, no certificate) and the owner
  // should destroy it.
  bool start();
  // Bytes the caller already read from the downstream (a connection handed over by the HTTP
  // connection manager): written to the upstream first, once it is connected.
  void sendFirst(std::string bytes) { firstBytes_ = std::move(bytes); }
  // Adds the byte counts gathered since the last flush to the shared counters.
  void flushStats();
  // Bytes held in user space and in pipes, both directions.
  size_t bufferedBytes() const;

 private:
  void onReadable(network::StreamSocket& socket) override;
  void onWritable(network::StreamSocket& socket) override;
  void onConnectResult(network::Connector::Result result, network::UniqueFd socket,
                       int error) override;

  // Before bytes flow: peeking (PERMISSIVE), the inbound handshake, answering a denied caller,
  // the upstream handshake. Proxying is the steady state.
  enum class Phase {
    kPeeking,
    kHandshaking,
    kDenying,    // waiting for a denied HTTP caller's request
    kAnswering,  // the 403 written (or being written); waiting for the caller to close
    kConnecting,
    kUpstreamHandshaking,
    kProxying,
  };

  // Each returns false when the session must end.
  bool connectNext();
  bool onConnected(network::UniqueFd socket);
  bool startProxying();
  bool onSetupEvent(network::StreamSocket& socket, bool readable);
  bool onTimer();
  bool peekCallerProtocol(bool final);
  bool startDownstreamTls();
  bool continueDownstreamHandshake();
  bool authorize(const std::string& caller);
  bool deny();
  bool readDenied(bool final);
  bool writeAnswer();
  bool startUpstreamTls();
  bool continueUpstreamHandshake();
  // An upstream handshake failed: counted like a connect failure; the next endpoint is tried.
  bool upstreamTlsFailed(const std::string& error);
  void schedule(std::chrono::milliseconds delay);
  // One read (or splice) from `from` into `to`'s output, written through at once; `count` gets
  // the bytes read.
  bool forward(network::StreamSocket& from, network::StreamSocket& to, size_t& count);
  bool drain(network::StreamSocket& to);
  void block(network::StreamSocket& from);
  // Returns `to`'s splice pipe to the pool when nothing is left in it.
  void releasePipeIfEmpty(network::StreamSocket& to);
  bool done() const;
  void releaseEndpoint();
  // Records the current endpoint's connect outcome with the outlier detector.
  void recordConnect(bool success);
  bool startIdleTimer();
  void touch();
  void finish();
  network::StreamSocket& peer(network::StreamSocket& socket);

  const ProxyLimits& limits_;
  network::PipePool* pipes_;
  ListenerCounters& listener_;
  upstream::LoadBalancer& balancer_;
  ClusterCounters& cluster_;
  std::shared_ptr<const void> keepAlive_;
  SessionOwner& owner_;
  const SessionSecurity security_;
  // The caller's source IP hashed, for ring-hash clusters (before downstream_ takes the socket).
  std::optional<uint64_t> sourceHash_;
  network::StreamSocket downstream_;
  std::unique_ptr<network::StreamSocket> upstream_;
  network::Connector connector_;
  event_base* base_;
  std::vector<int> tried_;
  int endpoint_ = -1;  // index of the endpoint connecting or connected, -1 when none
  Phase phase_ = Phase::kConnecting;
  std::string firstBytes_;
  bool denySettingsSent_ = false;        // a denied HTTP/2 caller already has the server's SETTINGS
  std::unique_ptr<event::Timer> timer_;  // setup deadlines; only sessions with a setup phase
  std::chrono::steady_clock::time_point deadline_;
  evbuffer* denied_ = nullptr;  // what a denied caller sent (kDenying)
  int maxAttempts_ = 1;
  // Idle timeout (kProxying): when a byte last went either way, in the loop's cached clock (µs).
  int64_t lastActivityUs_ = 0;
  bool downstreamBlocked_ = false;
  bool upstreamBlocked_ = false;
  // Byte counts not yet added to the shared counters.
  uint64_t downstreamReceived_ = 0;
  uint64_t downstreamSent_ = 0;
  uint64_t upstreamReceived_ = 0;
  uint64_t upstreamSent_ = 0;
};

}  // namespace braid::dataplane::tcp_proxy
