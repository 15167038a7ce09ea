#include "dataplane/config/proxy_config_compiler.h"

#include <arpa/inet.h>

#include <set>

#include "braid/proxy/v1/config.pb.h"
#include "dataplane/config/cluster_compiler.h"
#include "dataplane/config/health_check_compiler.h"
#include "dataplane/config/route_compiler.h"

namespace braid::dataplane {
namespace pb = braid::proxy::v1;
namespace {

bool isIpLiteral(const std::string& ip) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, ip.c_str(), buf) == 1 || inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

class Problems {
 public:
  void add(const std::string& what) { text_ += (text_.empty() ? "" : "; ") + what; }
  bool any() const { return !text_.empty(); }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

bool compileAddress(const pb::SocketAddress& in, bool portRequired, const std::string& where,
                    SocketAddress& out, Problems& problems) {
  bool ok = true;
  if (!isIpLiteral(in.address())) {
    problems.add(where + ": address '" + in.address() + "' is not an IP address");
    ok = false;
  }
  if (in.port() > 65535 || (portRequired && in.port() == 0)) {
    problems.add(where + ": port " + std::to_string(in.port()) + " is out of range");
    ok = false;
  }
  out.ip = in.address();
  out.port = static_cast<uint16_t>(in.port());
  return ok;
}

void compileCluster(const pb::Cluster& in, Snapshot& snapshot, Problems& problems) {
  std::string where = "cluster " + in.name();
  if (in.name().empty()) problems.add("a cluster has no name");
  if (snapshot.clusters.count(in.name())) {
    problems.add(where + ": defined twice");
    return;
  }
  ClusterConfig cluster;
  cluster.name = in.name();
  cluster.service = in.service();
  std::vector<std::string> policyProblems;
  compileClusterPolicies(in, where, cluster, policyProblems);
  for (const auto& problem : policyProblems) problems.add(problem);
  if (in.connect_timeout_ms() > 0) {
    cluster.connectTimeout = std::chrono::milliseconds(in.connect_timeout_ms());
  }
  for (int i = 0; i < in.endpoints_size(); ++i) {
    const pb::Endpoint& e = in.endpoints(i);
    EndpointConfig endpoint;
    compileAddress(e.address(), true, where + " endpoint[" + std::to_string(i) + "]",
                   endpoint.address, problems);
    endpoint.weight = e.weight() == 0 ? 1 : e.weight();
    endpoint.healthy = e.healthy();
    endpoint.origin = e.origin();
    cluster.endpoints.push_back(std::move(endpoint));
  }
  if (in.has_tls()) {
    if (!snapshot.mtls.enabled) problems.add(where + ": tls is set but the mesh has no mtls");
    if (in.tls().identity().empty() || in.tls().expected_san().empty()) {
      problems.add(where + ": tls needs an identity and an expected_san");
    }
    cluster.tls.enabled = true;
    cluster.tls.identity = in.tls().identity();
    cluster.tls.expectedSan = in.tls().expected_san();
    cluster.tls.sni = in.tls().sni();
  }
  if (in.has_health_check()) {
    cluster.healthCheck.emplace();
    for (const auto& problem : compileHealthCheck(in.health_check(), *cluster.healthCheck)) {
      problems.add(where + " health_check: " + problem);
    }
  }
  snapshot.clusters.emplace(cluster.name, std::move(cluster));
}

bool compileTlsMode(pb::TlsMode in, TlsMode& out) {
  switch (in) {
    case pb::TLS_DISABLED:
      out = TlsMode::kDisabled;
      return true;
    case pb::STRICT:
      out = TlsMode::kStrict;
      return true;
    case pb::PERMISSIVE:
      out = TlsMode::kPermissive;
      return true;
    default:
      return false;
  }
}

bool compilePermission(const pb::Permission& in, PermissionRule& out) {
  switch (in.principal_case()) {
    case pb::Permission::kAny:
      out.match = PermissionRule::Match::kAny;
      break;
    case pb::Permission::kExact:
      out.match = PermissionRule::Match::kExact;
      out.value = in.exact();
      break;
    case pb::Permission::kPrefix:
      out.match = PermissionRule::Match::kPrefix;
      out.value = in.prefix();
      break;
    default:
      return false;
  }
  switch (in.action()) {
    case pb::Permission::ALLOW:
      out.action = PermissionAction::kAllow;
      break;
    case pb::Permission::DENY:
      out.action = PermissionAction::kDeny;
      break;
    case pb::Permission::ALLOW_WITH_SHADOW_DENY:
      out.action = PermissionAction::kAllowWithShadowDeny;
      break;
    default:
      return false;
  }
  out.policy = in.policy();
  return true;
}

void compileSecurity(const pb::InboundSecurity& in, const Snapshot& snapshot,
                     const std::string& where, InboundSecurity& out, Problems& problems) {
  if (!compileTlsMode(in.mode(), out.mode)) {
    problems.add(where + ": unknown tls mode " + std::to_string(in.mode()));
  }
  if (out.mode != TlsMode::kDisabled) {
    if (!snapshot.mtls.enabled) problems.add(where + ": tls is on but the mesh has no mtls");
    if (in.identity().empty()) problems.add(where + ": tls needs an identity");
  }
  out.identity = in.identity();
  out.enforcePermissions = in.enforce_permissions();
  for (int i = 0; i < in.permissions_size(); ++i) {
    PermissionRule rule;
    if (!compilePermission(in.permissions(i), rule)) {
      problems.add(where + ": permission[" + std::to_string(i) +
                   "] has no principal or an unknown action");
      continue;
    }
    out.rules.push_back(std::move(rule));
  }
}

void compileMtls(const pb::ProxyConfig& config, Snapshot& snapshot, Problems& problems) {
  if (!config.has_mtls()) {
    if (config.identities_size() > 0) problems.add("identities are set but the mesh has no mtls");
    return;
  }
  const pb::Mtls& in = config.mtls();
  snapshot.mtls.enabled = true;
  snapshot.mtls.backend = in.backend();
  snapshot.mtls.trustDomain = in.trust_domain();
  snapshot.mtls.trustedRootsPem.assign(in.trusted_roots_pem().begin(),
                                       in.trusted_roots_pem().end());
  if (in.backend().empty()) problems.add("mtls: backend is empty");
  if (in.trust_domain().empty()) problems.add("mtls: trust_domain is empty");
  if (in.trusted_roots_pem_size() == 0) problems.add("mtls: no trusted roots");
  snapshot.identities.assign(config.identities().begin(), config.identities().end());
}

// The one cluster an HTTP listener stands for (Snapshot ListenerConfig::cluster): the one its
// stat prefix names (the CP uses the outbound's own cluster), else the first cluster of its last
// forwarding route (the catch-all). "" when no route forwards.
std::string httpListenerCluster(const pb::HttpConnectionManager& http, const Snapshot& snapshot) {
  if (snapshot.clusters.count(http.stat_prefix())) return http.stat_prefix();
  const auto& routes = http.routes().routes();
  for (int i = routes.size() - 1; i >= 0; --i) {
    const pb::Route& r = routes.Get(i);
    if (r.has_route() && r.route().clusters_size() > 0 &&
        snapshot.clusters.count(r.route().clusters(0).cluster())) {
      return r.route().clusters(0).cluster();
    }
  }
  return "";
}

void compileListener(const pb::Listener& in, Snapshot& snapshot, std::set<std::string>& names,
                     std::set<std::pair<std::string, uint16_t>>& addresses, Problems& problems) {
  std::string where = "listener " + in.name();
  if (in.name().empty()) problems.add("a listener has no name");
  if (!names.insert(in.name()).second) problems.add(where + ": defined twice");
  ListenerConfig listener;
  listener.name = in.name();
  listener.direction =
      in.direction() == pb::Listener::INBOUND ? Direction::kInbound : Direction::kOutbound;
  if (compileAddress(in.address(), true, where, listener.address, problems) &&
      !addresses.insert({listener.address.ip, listener.address.port}).second) {
    problems.add(where + ": " + listener.address.ip + ":" + std::to_string(listener.address.port) +
                 " is used by another listener");
  }
  if (in.filter_chains_size() != 1 ||
      (!in.filter_chains(0).has_tcp_proxy() && !in.filter_chains(0).has_http())) {
    problems.add(where + ": needs exactly one filter chain with a tcp_proxy or http");
    return;
  }
  std::vector<std::string> routeProblems;
  if (in.filter_chains(0).has_http()) {
    const pb::HttpConnectionManager& http = in.filter_chains(0).http();
    listener.http.emplace();
    compileHttpConnectionManager(http, snapshot.clusters, where, *listener.http, routeProblems);
    listener.cluster = httpListenerCluster(http, snapshot);
    if (listener.cluster.empty()) problems.add(where + ": no route forwards to a cluster");
    listener.statPrefix = http.stat_prefix().empty() ? listener.cluster : http.stat_prefix();
  } else {
    const pb::TcpProxy& tcp = in.filter_chains(0).tcp_proxy();
    if (!snapshot.clusters.count(tcp.cluster())) {
      problems.add(where + ": tcp_proxy names cluster '" + tcp.cluster() +
                   "', which is not defined");
    }
    listener.cluster = tcp.cluster();
    listener.statPrefix = tcp.stat_prefix().empty() ? tcp.cluster() : tcp.stat_prefix();
    listener.totalWeight =
        compileWeightedClusters(tcp.weighted_clusters(), snapshot.clusters, where + " tcp_proxy",
                                listener.weightedClusters, routeProblems);
    if (!listener.weightedClusters.empty() && listener.totalWeight == 0) {
      problems.add(where + ": every weighted cluster has weight 0");
    }
  }
  for (const auto& problem : routeProblems) problems.add(problem);
  listener.protocol = in.protocol().empty() ? "tcp" : in.protocol();
  if (in.has_security()) {
    if (listener.direction != Direction::kInbound) {
      problems.add(where + ": security is for inbound listeners only");
    }
    compileSecurity(in.security(), snapshot, where, listener.security, problems);
  }
  snapshot.listeners.push_back(std::move(listener));
}

}  // namespace

CompileResult compileProxyConfig(const pb::ProxyConfig& config, const std::string& version) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->version = version;
  Problems problems;
  compileMtls(config, *snapshot, problems);
  for (const auto& cluster : config.clusters()) compileCluster(cluster, *snapshot, problems);
  std::set<std::string> names;
  std::set<std::pair<std::string, uint16_t>> addresses;
  for (const auto& listener : config.listeners()) {
    compileListener(listener, *snapshot, names, addresses, problems);
  }
  // Every certificate a listener or cluster presents must be one the proxy asks the CP for.
  std::set<std::string> identities(snapshot->identities.begin(), snapshot->identities.end());
  for (const auto& listener : snapshot->listeners) {
    const auto& identity = listener.security.identity;
    if (listener.security.mode != TlsMode::kDisabled && !identities.count(identity)) {
      problems.add("listener " + listener.name + ": identity '" + identity +
                   "' is not among the proxy's identities");
    }
  }
  for (const auto& [name, cluster] : snapshot->clusters) {
    if (cluster.tls.enabled && !identities.count(cluster.tls.identity)) {
      problems.add("cluster " + name + ": identity '" + cluster.tls.identity +
                   "' is not among the proxy's identities");
    }
  }
  if (problems.any()) return {nullptr, problems.text()};
  return {std::move(snapshot), ""};
}

}  // namespace braid::dataplane
