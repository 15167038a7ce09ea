#pragma once

// One active health-check probe of one endpoint (health_checker.h schedules them): connect; for
// a cluster with mTLS the client handshake exactly as the data path does it (this proxy's
// certificate for the cluster's identity, the mesh's roots, the server's SVID checked against
// the cluster's expected SAN: tcp_proxy::checkUpstreamServer); then the check's protocol
// (health_probe_protocol.h) over the plaintext or TLS stream. Loop thread only.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "dataplane/config/health_check_config.h"
#include "dataplane/config/snapshot.h"
#include "dataplane/event/timer.h"
#include "dataplane/network/address.h"
#include "dataplane/network/connector.h"
#include "dataplane/network/stream_socket.h"
#include "dataplane/stats/stats.h"
#include "dataplane/tls/tls_contexts.h"
#include "dataplane/upstream/cluster_runtime.h"

namespace braid::dataplane::upstream {

class HealthProbeProtocol;

// What is probed, and where its results go. Copied out of a ClusterRuntime: the checker keeps
// no pointer into a snapshot.
struct HealthProbeTarget {
  std::string cluster;
  std::string endpoint;  // "ip:port"
  network::ResolvedAddress address;
  HealthCheckConfig config;
  std::string host;          // the Host / :authority of probes: the service, else the cluster
  bool healthyPerCp = true;  // the CP's view (EndpointConfig::healthy), for the panic count
  // config.tls.enabled clusters: the handshake's settings, the contexts in force (they own
  // tlsClient) and this proxy's client context for tls.identity (nullptr: no certificate yet,
  // every probe fails).
  UpstreamTls tls;
  tls::TlsContextsPtr contexts;
  SSL_CTX* tlsClient = nullptr;
  std::shared_ptr<EndpointCounters> counters;
  std::shared_ptr<ClusterCounters> clusterCounters;
};

enum class HealthProbeOutcome {
  kSuccess,
  // Refused, timed out, closed early, a TLS handshake that failed, a malformed answer: counts
  // toward unhealthyThreshold.
  kNetworkFailure,
  // An answer that says unhealthy (an unexpected HTTP status, a gRPC status other than SERVING):
  // ejects at once.
  kActiveFailure,
};

class HealthProbe final : private network::Connector::Handler,
                          private network::StreamSocket::Handler {
 public:
  // Called once, as the probe's last action: the owner may destroy the probe inside.
  using Done = std::function<void(HealthProbeOutcome)>;

  // The caller bounds the whole probe with its own deadline (destroying the probe abandons it).
  HealthProbe(event_base* base, HealthProbeTarget target, Done done);
  ~HealthProbe();
  HealthProbe(const HealthProbe&) = delete;
  HealthProbe& operator=(const HealthProbe&) = delete;

  // Starts connecting. false: failed at once (`done` is not called).
  bool start();

 private:
  void onConnectResult(network::Connector::Result result, network::UniqueFd socket,
                       int error) override;
  void onReadable(network::StreamSocket& socket) override;
  void onWritable(network::StreamSocket& socket) override;
  void startTls();
  void continueHandshake();
  // The transport is up: the protocol's first bytes go out.
  void startProtocol();
  // Writes what the protocol produced; finishes on a verdict or a broken socket.
  void afterProtocol(std::optional<HealthProbeOutcome> verdict, std::string& out);
  void finish(HealthProbeOutcome outcome);

  event_base* base_;
  const HealthProbeTarget target_;  // a copy: the checker may reconfigure during a probe
  Done done_;
  std::unique_ptr<network::Connector> connector_;
  std::unique_ptr<network::StreamSocket> socket_;
  std::unique_ptr<HealthProbeProtocol> protocol_;
  bool handshaking_ = false;
  bool finished_ = false;
};

}  // namespace braid::dataplane::upstream
