#include "dataplane/stats/stats.h"

#include <vector>

#include "dataplane/stats/prometheus_text.h"

namespace braid::dataplane {

std::shared_ptr<ListenerCounters> Stats::listener(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& slot = listeners_[name];
  if (!slot) slot = std::make_shared<ListenerCounters>();
  return slot;
}

std::shared_ptr<ClusterCounters> Stats::cluster(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& slot = clusters_[name];
  if (!slot) slot = std::make_shared<ClusterCounters>();
  return slot;
}

std::shared_ptr<RouteCounters> Stats::route(const std::string& listener, const std::string& route) {
  std::lock_guard lock(mutex_);
  auto& slot = routes_[{listener, route}];
  if (!slot) slot = std::make_shared<RouteCounters>();
  return slot;
}

namespace {

template <typename Counters>
struct Family {
  const char* name;
  const char* type;
  const char* help;
  const std::atomic<uint64_t> Counters::*field;
};

template <typename Counters>
void renderFamilies(std::string& out, const char* label,
                    const std::map<std::string, std::shared_ptr<Counters>>& series,
                    const std::vector<Family<Counters>>& families) {
  for (const auto& family : families) {
    prometheus::appendHeader(out, family.name, family.type, family.help);
    for (const auto& [name, counters] : series) {
      prometheus::appendSample(out, family.name, label, name,
                               ((*counters).*family.field).load(std::memory_order_relaxed));
    }
  }
}

template <typename Counters>
struct HistogramFamily {
  const char* name;
  const char* help;
  const LatencyHistogram Counters::*field;
};

template <typename Key, typename Counters, typename Labels>
void renderHistograms(std::string& out, const std::map<Key, std::shared_ptr<Counters>>& series,
                      const std::vector<HistogramFamily<Counters>>& families, Labels labels) {
  for (const auto& family : families) {
    prometheus::appendHeader(out, family.name, "histogram", family.help);
    for (const auto& [key, counters] : series) {
      prometheus::appendHistogram(out, family.name, labels(key),
                                  ((*counters).*family.field).snapshot());
    }
  }
}

std::string routeLabels(const std::pair<std::string, std::string>& key) {
  return prometheus::formatLabel("listener", key.first) + "," +
         prometheus::formatLabel("route", key.second);
}

// Route counters carry two labels, so they are rendered apart from the one-label families.
void renderRouteFamilies(
    std::string& out,
    const std::map<std::pair<std::string, std::string>, std::shared_ptr<RouteCounters>>& series,
    const std::vector<Family<RouteCounters>>& families) {
  for (const auto& family : families) {
    prometheus::appendHeader(out, family.name, family.type, family.help);
    for (const auto& [key, counters] : series) {
      prometheus::appendLabeledSample(out, family.name, routeLabels(key),
                                      ((*counters).*family.field).load(std::memory_order_relaxed));
    }
  }
}

}  // namespace

std::string Stats::renderPrometheus() const {
  static const std::vector<Family<ListenerCounters>> kListener = {
      {"braid_dp_listener_connections_total", "counter", "Downstream connections accepted.",
       &ListenerCounters::connectionsTotal},
      {"braid_dp_listener_connections_active", "gauge", "Downstream connections open.",
       &ListenerCounters::connectionsActive},
      {"braid_dp_listener_bytes_received_total", "counter", "Bytes read from downstream.",
       &ListenerCounters::bytesReceived},
      {"braid_dp_listener_bytes_sent_total", "counter", "Bytes written to downstream.",
       &ListenerCounters::bytesSent},
      {"braid_dp_listener_ssl_handshakes_total", "counter",
       "TLS handshakes completed with a valid client SVID.", &ListenerCounters::sslHandshakes},
      {"braid_dp_listener_ssl_handshake_errors_total", "counter",
       "TLS handshakes that failed or whose client certificate is no valid SVID.",
       &ListenerCounters::sslHandshakeErrors},
      {"braid_dp_listener_ssl_no_certificate_total", "counter",
       "TLS handshakes where the client presented no certificate.",
       &ListenerCounters::sslNoCertificate},
      {"braid_dp_listener_ssl_identity_missing_total", "counter",
       "Connections closed because this proxy has no certificate for the inbound yet.",
       &ListenerCounters::sslIdentityMissing},
      {"braid_dp_listener_rbac_allowed_total", "counter",
       "Connections allowed by MeshTrafficPermission.", &ListenerCounters::rbacAllowed},
      {"braid_dp_listener_rbac_denied_total", "counter",
       "Connections denied by MeshTrafficPermission.", &ListenerCounters::rbacDenied},
      {"braid_dp_listener_rbac_shadow_denied_total", "counter",
       "Connections allowed that a shadow (AllowWithShadowDeny) rule would deny.",
       &ListenerCounters::rbacShadowDenied},
      {"braid_dp_listener_downstream_rq_1xx_total", "counter",
       "HTTP responses sent downstream with a 1xx status.", &ListenerCounters::downstreamRq1xx},
      {"braid_dp_listener_downstream_rq_2xx_total", "counter",
       "HTTP responses sent downstream with a 2xx status.", &ListenerCounters::downstreamRq2xx},
      {"braid_dp_listener_downstream_rq_3xx_total", "counter",
       "HTTP responses sent downstream with a 3xx status.", &ListenerCounters::downstreamRq3xx},
      {"braid_dp_listener_downstream_rq_4xx_total", "counter",
       "HTTP responses sent downstream with a 4xx status.", &ListenerCounters::downstreamRq4xx},
      {"braid_dp_listener_downstream_rq_5xx_total", "counter",
       "HTTP responses sent downstream with a 5xx status.", &ListenerCounters::downstreamRq5xx},
  };
  static const std::vector<Family<ClusterCounters>> kCluster = {
      {"braid_dp_cluster_upstream_connections_total", "counter", "Upstream connection attempts.",
       &ClusterCounters::upstreamConnectionsTotal},
      {"braid_dp_cluster_upstream_connections_active", "gauge",
       "Upstream connections open or connecting.", &ClusterCounters::upstreamConnectionsActive},
      {"braid_dp_cluster_upstream_connect_failures_total", "counter",
       "Upstream connect attempts that failed (timeouts included).",
       &ClusterCounters::connectFailures},
      {"braid_dp_cluster_upstream_connect_timeouts_total", "counter",
       "Upstream connect attempts that timed out.", &ClusterCounters::connectTimeouts},
      {"braid_dp_cluster_bytes_sent_total", "counter", "Bytes written to upstream.",
       &ClusterCounters::bytesSent},
      {"braid_dp_cluster_bytes_received_total", "counter", "Bytes read from upstream.",
       &ClusterCounters::bytesReceived},
      {"braid_dp_cluster_no_healthy_endpoint_total", "counter",
       "Connections closed because the cluster had no healthy endpoint.",
       &ClusterCounters::noHealthyEndpoint},
      {"braid_dp_cluster_upstream_ssl_handshake_errors_total", "counter",
       "Upstream TLS handshakes that failed or met an unexpected server certificate.",
       &ClusterCounters::upstreamSslHandshakeErrors},
      {"braid_dp_cluster_upstream_ssl_session_reused_total", "counter",
       "Upstream TLS handshakes that resumed a session.",
       &ClusterCounters::upstreamSslSessionReused},
      {"braid_dp_cluster_health_check_attempts_total", "counter",
       "Active health check probes (MeshHealthCheck).", &ClusterCounters::healthCheckAttempts},
      {"braid_dp_cluster_health_check_failures_total", "counter",
       "Active health check probes that failed.", &ClusterCounters::healthCheckFailures},
      {"braid_dp_cluster_upstream_rq_1xx_total", "counter",
       "HTTP responses from upstream with a 1xx status.", &ClusterCounters::upstreamRq1xx},
      {"braid_dp_cluster_upstream_rq_2xx_total", "counter",
       "HTTP responses from upstream with a 2xx status.", &ClusterCounters::upstreamRq2xx},
      {"braid_dp_cluster_upstream_rq_3xx_total", "counter",
       "HTTP responses from upstream with a 3xx status.", &ClusterCounters::upstreamRq3xx},
      {"braid_dp_cluster_upstream_rq_4xx_total", "counter",
       "HTTP responses from upstream with a 4xx status.", &ClusterCounters::upstreamRq4xx},
      {"braid_dp_cluster_upstream_rq_5xx_total", "counter",
       "HTTP responses from upstream with a 5xx status.", &ClusterCounters::upstreamRq5xx},
      {"braid_dp_cluster_upstream_rq_retry_total", "counter", "HTTP request retries started.",
       &ClusterCounters::upstreamRqRetry},
      {"braid_dp_cluster_upstream_rq_timeout_total", "counter",
       "HTTP requests that met the route's timeout.", &ClusterCounters::upstreamRqTimeout},
      {"braid_dp_cluster_upstream_rq_active", "gauge", "HTTP requests in progress.",
       &ClusterCounters::upstreamRqActive},
      {"braid_dp_cluster_upstream_cx_overflow_total", "counter",
       "Connections refused because the cluster had its circuit breaker's max connections.",
       &ClusterCounters::upstreamCxOverflow},
      {"braid_dp_cluster_upstream_rq_overflow_total", "counter",
       "HTTP requests answered 503 because the cluster had its circuit breaker's max requests.",
       &ClusterCounters::upstreamRqOverflow},
      {"braid_dp_cluster_upstream_rq_pending_active", "gauge",
       "HTTP requests waiting for a new upstream connection.",
       &ClusterCounters::upstreamRqPendingActive},
      {"braid_dp_cluster_upstream_rq_pending_overflow_total", "counter",
       "HTTP requests answered 503 because the circuit breaker's max pending requests waited.",
       &ClusterCounters::upstreamRqPendingOverflow},
      {"braid_dp_cluster_upstream_rq_mirror_dropped_total", "counter",
       "RequestMirror copies dropped because too many were in flight.",
       &ClusterCounters::upstreamRqMirrorDropped},
      {"braid_dp_cluster_outlier_detection_ejections_total", "counter",
       "Endpoints ejected by outlier detection.", &ClusterCounters::outlierEjections},
      {"braid_dp_cluster_idle_timeouts_total", "counter",
       "TCP connections closed after the idle timeout.", &ClusterCounters::idleTimeouts},
  };
  static const std::vector<Family<RouteCounters>> kRoute = {
      {"braid_dp_route_rq_1xx_total", "counter",
       "HTTP requests of the route answered downstream with a 1xx status.", &RouteCounters::rq1xx},
      {"braid_dp_route_rq_2xx_total", "counter",
       "HTTP requests of the route answered downstream with a 2xx status.", &RouteCounters::rq2xx},
      {"braid_dp_route_rq_3xx_total", "counter",
       "HTTP requests of the route answered downstream with a 3xx status.", &RouteCounters::rq3xx},
      {"braid_dp_route_rq_4xx_total", "counter",
       "HTTP requests of the route answered downstream with a 4xx status.", &RouteCounters::rq4xx},
      {"braid_dp_route_rq_5xx_total", "counter",
       "HTTP requests of the route answered downstream with a 5xx status.", &RouteCounters::rq5xx},
      {"braid_dp_route_rq_retry_total", "counter", "HTTP request retries started on the route.",
       &RouteCounters::rqRetry},
      {"braid_dp_route_rq_timeout_total", "counter",
       "HTTP requests of the route answered 504 by a timeout.", &RouteCounters::rqTimeout},
  };
  static const std::vector<HistogramFamily<ListenerCounters>> kListenerTimes = {
      {"braid_dp_listener_downstream_rq_time_ms",
       "HTTP requests from head received to response complete, in milliseconds.",
       &ListenerCounters::downstreamRqTime},
  };
  static const std::vector<HistogramFamily<ClusterCounters>> kClusterTimes = {
      {"braid_dp_cluster_upstream_rq_time_ms",
       "HTTP tries from request sent to response complete or failure, in milliseconds.",
       &ClusterCounters::upstreamRqTime},
  };
  static const std::vector<HistogramFamily<RouteCounters>> kRouteTimes = {
      {"braid_dp_route_rq_time_ms",
       "HTTP requests of the route from head received to response complete, in milliseconds.",
       &RouteCounters::rqTime},
  };
  std::string out;
  std::lock_guard lock(mutex_);
  renderFamilies(out, "listener", listeners_, kListener);
  renderHistograms(out, listeners_, kListenerTimes, [](const std::string& name) {
    return prometheus::formatLabel("listener", name);
  });
  renderFamilies(out, "cluster", clusters_, kCluster);
  renderHistograms(out, clusters_, kClusterTimes, [](const std::string& name) {
    return prometheus::formatLabel("cluster", name);
  });
  renderRouteFamilies(out, routes_, kRoute);
  renderHistograms(out, routes_, kRouteTimes, routeLabels);
  return out;
}

}  // namespace braid::dataplane
