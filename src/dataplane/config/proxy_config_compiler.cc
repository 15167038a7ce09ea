#include "dataplane/config/proxy_config_compiler.h"

#include <arpa/inet.h>

#include <set>

#include "braid/proxy/v1/config.pb.h"

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
  switch (in.lb_policy()) {
    case pb::Cluster::LEAST_REQUEST:
      cluster.lbPolicy = LbPolicy::kLeastRequest;
      break;
    case pb::Cluster::ROUND_ROBIN:
      cluster.lbPolicy = LbPolicy::kRoundRobin;
      break;
    default:
      problems.add(where + ": unknown lb_policy " + std::to_string(in.lb_policy()));
  }
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
  snapshot.clusters.emplace(cluster.name, std::move(cluster));
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
  if (in.filter_chains_size() != 1 || !in.filter_chains(0).has_tcp_proxy()) {
    problems.add(where + ": needs exactly one filter chain with a tcp_proxy");
    return;
  }
  const pb::TcpProxy& tcp = in.filter_chains(0).tcp_proxy();
  if (!snapshot.clusters.count(tcp.cluster())) {
    problems.add(where + ": tcp_proxy names cluster '" + tcp.cluster() + "', which is not defined");
  }
  listener.cluster = tcp.cluster();
  listener.statPrefix = tcp.stat_prefix().empty() ? tcp.cluster() : tcp.stat_prefix();
  snapshot.listeners.push_back(std::move(listener));
}

}  // namespace

CompileResult compileProxyConfig(const pb::ProxyConfig& config, const std::string& version) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->version = version;
  Problems problems;
  for (const auto& cluster : config.clusters()) compileCluster(cluster, *snapshot, problems);
  std::set<std::string> names;
  std::set<std::pair<std::string, uint16_t>> addresses;
  for (const auto& listener : config.listeners()) {
    compileListener(listener, *snapshot, names, addresses, problems);
  }
  if (problems.any()) return {nullptr, problems.text()};
  return {std::move(snapshot), ""};
}

}  // namespace braid::dataplane
