#include "control-plane/xds/generator.h"

#include <arpa/inet.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/duration.h"
#include "control-plane/policy-matching/matched_policies.h"
#include "control-plane/xds/cluster_policies.h"
#include "control-plane/xds/dataplane_fields.h"
#include "control-plane/xds/health_check_policy.h"
#include "control-plane/xds/http_routes.h"

namespace braid::xds {
namespace pb = braid::proxy::v1;

namespace {

// Envoy's default; MeshTimeout's connectionTimeout will override it per outbound.
constexpr uint32_t kDefaultConnectTimeoutMs = 5000;

bool isIpLiteral(const std::string& address) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, address.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, address.c_str(), buf) == 1;
}

void setAddress(pb::SocketAddress* out, const std::string& ip, uint32_t port) {
  out->set_address(ip);
  out->set_port(port);
}

std::string listenerName(const char* direction, const std::string& ip, uint32_t port) {
  return std::string(direction) + ":" + ip + ":" + std::to_string(port);
}

pb::Listener* addTcpListener(pb::ProxyConfig& config, pb::Listener::Direction direction,
                             const std::string& ip, uint32_t port, const std::string& service,
                             const std::string& protocol, const std::string& cluster) {
  pb::Listener* listener = config.add_listeners();
  listener->set_name(
      listenerName(direction == pb::Listener::INBOUND ? "inbound" : "outbound", ip, port));
  setAddress(listener->mutable_address(), ip, port);
  listener->set_direction(direction);
  listener->set_service(service);
  listener->set_protocol(protocol);
  pb::TcpProxy* tcp = listener->add_filter_chains()->mutable_tcp_proxy();
  tcp->set_cluster(cluster);
  tcp->set_stat_prefix(cluster);
  return listener;
}

bool mtlsOn(const GeneratorInput& input) {
  return input.security != nullptr && input.security->mtlsEnabled;
}

void addMtls(const GeneratorInput& input, const Json& networking, pb::ProxyConfig& config) {
  if (!mtlsOn(input)) return;
  pb::Mtls* mtls = config.mutable_mtls();
  mtls->set_backend(input.security->backend);
  mtls->set_trust_domain(input.mesh->mesh());
  for (const auto& root : input.security->trustedRootsPem) mtls->add_trusted_roots_pem(root);
  std::set<std::string> seen;
  for (const auto& inbound : arrayAt(networking, "inbound")) {
    if (stringAt(inbound, "state") == "Ignored") continue;
    auto tags = tagsOf(inbound);
    if (seen.insert(tags[kServiceTag]).second) config.add_identities(tags[kServiceTag]);
  }
}

void secureInbound(const GeneratorInput& input, const policy_matching::MatchedPolicies& matched,
                   size_t inboundIndex, const std::string& service, pb::Listener& listener) {
  if (!mtlsOn(input)) return;
  pb::InboundSecurity* security = listener.mutable_security();
  security->set_mode(input.security->mode);
  security->set_identity(service);
  security->set_enforce_permissions(true);
  compilePermissions(matched, inboundIndex, input.mesh->mesh(), *security);
}

void addInbounds(const GeneratorInput& input, const Json& networking,
                 const policy_matching::MatchedPolicies& matched, pb::ProxyConfig& config,
                 std::set<std::string>& clusters) {
  std::string dataplaneAddress = stringAt(networking, "address");
  const Json& inbounds = arrayAt(networking, "inbound");
  for (size_t index = 0; index < inbounds.size(); ++index) {
    const Json& inbound = inbounds[index];
    if (stringAt(inbound, "state") == "Ignored") continue;
    auto tags = tagsOf(inbound);
    std::string ip = stringAt(inbound, "address", dataplaneAddress);
    uint32_t port = inbound.value("port", 0u);
    uint32_t servicePort = inbound.value("servicePort", port);
    std::string serviceIp = stringAt(inbound, "serviceAddress", ip);
    std::string cluster = "localhost:" + std::to_string(servicePort);
    std::string protocol = lowerCase(tags.count(kProtocolTag) ? tags[kProtocolTag] : "tcp");
    pb::Listener* listener = addTcpListener(config, pb::Listener::INBOUND, ip, port,
                                            tags[kServiceTag], protocol, cluster);
    secureInbound(input, matched, index, tags[kServiceTag], *listener);
    if (!clusters.insert(cluster).second) continue;
    pb::Cluster* c = config.add_clusters();
    c->set_name(cluster);
    c->set_connect_timeout_ms(kDefaultConnectTimeoutMs);
    pb::Endpoint* e = c->add_endpoints();
    setAddress(e->mutable_address(), serviceIp, servicePort);
    e->set_weight(1);
    e->set_healthy(true);
    e->set_origin("local application");
  }
}

// The protocol of an outbound: the one every destination inbound declares, else tcp (Kuma's rule).
std::string outboundProtocol(const std::vector<const InboundEndpoint*>& endpoints) {
  std::set<std::string> protocols;
  for (const auto* e : endpoints) protocols.insert(e->protocol.empty() ? "tcp" : e->protocol);
  return protocols.size() == 1 ? *protocols.begin() : "tcp";
}

// MeshTimeout's connectionTimeout for traffic to `service`, else the default.
uint32_t connectTimeoutMs(const policy_matching::MatchedPolicies& matched,
                          const std::string& service) {
  auto timeouts = matched.find("MeshTimeout");
  if (timeouts == matched.end()) return kDefaultConnectTimeoutMs;
  const Json* conf = timeouts->second.toService(service);
  if (!conf || !conf->contains("connectionTimeout") || !conf->at("connectionTimeout").is_string()) {
    return kDefaultConnectTimeoutMs;
  }
  auto d = parseDuration(conf->at("connectionTimeout").get<std::string>());
  if (!d) return kDefaultConnectTimeoutMs;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
  return static_cast<uint32_t>(std::clamp<int64_t>(ms, 1, UINT32_MAX));
}

// The endpoints and protocol of the outbound to `tags`: what every proxy with that outbound shares.
OutboundCache::Entry outboundEntry(const MeshView& mesh,
                                   const std::map<std::string, std::string>& tags,
                                   const std::string& cluster) {
  OutboundCache::Entry entry;
  auto endpoints = mesh.endpointsMatching(tags);
  entry.protocol = outboundProtocol(endpoints);
  pb::Cluster& c = entry.cluster;
  c.set_name(cluster);
  auto service = tags.find(kServiceTag);
  c.set_service(service == tags.end() ? "" : service->second);
  for (const auto* endpoint : endpoints) {
    // Addresses given as DNS names are not resolved by this version of the generator.
    if (!isIpLiteral(endpoint->address)) continue;
    pb::Endpoint* e = c.add_endpoints();
    setAddress(e->mutable_address(), endpoint->address, endpoint->port);
    e->set_weight(1);
    e->set_healthy(endpoint->healthy);
    e->set_origin(mesh.mesh() + "/" + endpoint->dataplane);
  }
  return entry;
}

// The cluster for `tags` (an outbound's, or one its routes name), once per ProxyConfig.
void addServiceCluster(const GeneratorInput& input, const policy_matching::MatchedPolicies& matched,
                       const Tags& tags, OutboundCache& cache, pb::ProxyConfig& config,
                       std::set<std::string>& clusters) {
  const MeshView& mesh = *input.mesh;
  std::string name = outboundClusterName(tags);
  if (!clusters.insert(name).second) return;
  auto cached = cache.byCluster.find(name);
  if (cached == cache.byCluster.end()) {
    cached = cache.byCluster.emplace(name, outboundEntry(mesh, tags, name)).first;
  }
  std::string service = tags.count(kServiceTag) ? tags.at(kServiceTag) : "";
  pb::Cluster* c = config.add_clusters();
  *c = cached->second.cluster;
  c->set_connect_timeout_ms(connectTimeoutMs(matched, service));
  applyClusterPolicies(matched, service, *c);
  compileHealthCheck(matched, service, cached->second.protocol, *c);
  // A proxy without inbounds has no identity to present; STRICT peers will refuse it.
  if (mtlsOn(input) && config.identities_size() > 0) {
    pb::UpstreamTls* tls = c->mutable_tls();
    tls->set_identity(config.identities(0));
    tls->set_expected_san("spiffe://" + mesh.mesh() + "/" + service);
    tls->set_sni(meshSni(mesh.mesh(), tags));
  }
}

void addOutbounds(const GeneratorInput& input, const Json& networking,
                  const policy_matching::MatchedPolicies& matched, pb::ProxyConfig& config,
                  std::set<std::string>& clusters) {
  OutboundCache local;
  OutboundCache& cache = input.cache ? *input.cache : local;
  for (const auto& outbound : arrayAt(networking, "outbound")) {
    auto tags = tagsOf(outbound);
    std::string ip = stringAt(outbound, "address", "127.0.0.1");
    uint32_t port = outbound.value("port", 0u);
    std::string cluster = outboundClusterName(tags);
    auto cached = cache.byCluster.find(cluster);
    if (cached == cache.byCluster.end()) {
      cached = cache.byCluster.emplace(cluster, outboundEntry(*input.mesh, tags, cluster)).first;
    }
    OutboundRouting routing{tags[kServiceTag], cached->second.protocol, cluster};
    pb::Listener* listener = addTcpListener(config, pb::Listener::OUTBOUND, ip, port,
                                            routing.service, routing.protocol, cluster);
    std::vector<Tags> routed;  // clusters the routes name besides the outbound's own
    if (usesHttpRouting(matched, routing)) {
      pb::FilterChain* chain = listener->mutable_filter_chains(0);
      pb::HttpConnectionManager* http = chain->mutable_http();
      http->set_stat_prefix(cluster);
      *http->mutable_routes() = compileHttpRoutes(matched, routing, routed);
    } else {
      for (auto& weighted : compileTcpRoute(matched, routing, routed)) {
        *listener->mutable_filter_chains(0)->mutable_tcp_proxy()->add_weighted_clusters() =
            std::move(weighted);
      }
    }
    addServiceCluster(input, matched, tags, cache, config, clusters);
    for (const auto& extra : routed)
      addServiceCluster(input, matched, extra, cache, config, clusters);
  }
}

}  // namespace

std::string outboundClusterName(const std::map<std::string, std::string>& tags) {
  auto service = tags.find(kServiceTag);
  std::string name = service == tags.end() ? "" : service->second;
  std::string extra;
  for (const auto& [k, v] : tags) {
    if (k == kServiceTag) continue;
    extra += (extra.empty() ? "" : ",") + k + "=" + v;
  }
  return extra.empty() ? name : name + "{" + extra + "}";
}

pb::ProxyConfig generateProxyConfig(const GeneratorInput& input) {
  pb::ProxyConfig config;
  config.set_mesh(input.mesh->mesh());
  config.set_dataplane(input.name);
  const Json& networking = networkingOf(*input.dataplane);
  std::set<std::string> clusters;
  policy_matching::MatchedPolicies matched;
  if (input.policies && !input.policies->empty()) {
    matched = policy_matching::matchPolicies(
        policy_matching::makeDataplaneView(input.name, *input.dataplane), *input.policies);
  }
  addMtls(input, networking, config);
  addInbounds(input, networking, matched, config, clusters);
  addOutbounds(input, networking, matched, config, clusters);
  return config;
}

std::string configVersion(const pb::ProxyConfig& config) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    config.SerializeToCodedStream(&coded);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  char hex[17];
  for (int i = 0; i < 8; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return std::string(hex, 16);
}

std::string configToJson(const pb::ProxyConfig& config) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  options.add_whitespace = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(config, &out, options);
  return out;
}

}  // namespace braid::xds
