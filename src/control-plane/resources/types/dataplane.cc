// Dataplane (legacy layout): a sidecar's address, inbounds, outbounds, transparent proxying and
// admin port (POLICY_FIELDS §15). Gateways, listeners, probes, outbound backendRefs and
// reachableBackends are Kuma features Braid refuses for now (CONTRACT §4).
#include <algorithm>
#include <cctype>
#include <limits>

#include "common/duration.h"
#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/proxy_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using proxy_rules::intMember;
using proxy_rules::stringMember;
using schema::member;
using schema::opt;
using schema::req;
using schema::S;

constexpr const char* kLoopback = "127.0.0.1";

std::string hostPort(const std::string& host, int64_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

S positiveDuration() {
  return S::duration().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    auto d = parseDuration(v.get<std::string>());
    if (d && d->count() <= 0) errors.add(path, "must be greater than 0");
  });
}

S threshold() { return S::integer().min(1).max(std::numeric_limits<uint32_t>::max()); }

S protocol() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    std::string s = v.get<std::string>();
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    const auto& known = rules::protocols();
    if (std::find(known.begin(), known.end(), s) == known.end()) {
      errors.add(path, schema::msg::oneOf(known));
    }
  });
}

S inbound() {
  S serviceProbe = S::object({
      opt("interval", positiveDuration()),
      opt("timeout", positiveDuration()),
      opt("unhealthyThreshold", threshold()),
      opt("healthyThreshold", threshold()),
      opt("tcp", S::object({})),
  });
  return S::object({
      req("port", S::port()),
      opt("servicePort", S::port()),
      opt("serviceAddress", proxy_rules::ipAddress()),
      opt("address", proxy_rules::ipAddress()),
      req("tags", proxy_rules::serviceTags()),
      opt("health", S::object({opt("ready", S::boolean())})),
      opt("serviceProbe", serviceProbe),
      opt("state", S::enumOf({"Ready", "NotReady", "Ignored"})),
      opt("name", S::string().notEmpty()),
      opt("protocol", protocol()),
  });
}

S outbound() {
  return S::object({
      req("port", S::port()),
      opt("address", proxy_rules::ipAddress()),
      req("tags", proxy_rules::serviceTags()),
      opt("backendRef",
          proxy_rules::unsupported("select the destination with tags (braid.io/service)")),
  });
}

S transparentProxying() {
  return S::object({
      opt("redirectPortInbound", S::port()),
      opt("redirectPortOutbound", S::port()),
      opt("directAccessServices", S::array(S::string().notEmpty())),
      opt("reachableServices", S::array(S::string().notEmpty())),
      opt("ipFamilyMode", S::enumOf({"UnSpecified", "DualStack", "IPv4", "IPv6"})),
      opt("reachableBackends", proxy_rules::unsupported("use reachableServices")),
  });
}

// The inbound's application must listen somewhere other than the sidecar's own listener, or the
// sidecar would forward to itself. Defaults (CONTRACT §4): address = networking.address,
// serviceAddress = the inbound's address, servicePort = port. With transparent proxying and
// neither service field set, the application legitimately shares address:port (traffic reaches
// the sidecar through the redirect port), so that case is allowed.
void checkInboundTargets(const Json& net, const std::string& path, FieldErrors& errors) {
  const Json* inbounds = member(net, "inbound");
  if (!inbounds || !inbounds->is_array()) return;
  auto address = stringMember(net, "address");
  bool transparent = member(net, "transparentProxying") != nullptr;
  for (size_t i = 0; i < inbounds->size(); ++i) {
    const Json& in = (*inbounds)[i];
    auto port = intMember(in, "port");
    auto inAddress = stringMember(in, "address");
    if (!inAddress) inAddress = address;
    if (!port || !inAddress) continue;
    auto serviceAddress = stringMember(in, "serviceAddress");
    auto servicePort = intMember(in, "servicePort");
    if (transparent && !serviceAddress && !servicePort) continue;
    if (proxy_rules::sameAddress(serviceAddress.value_or(*inAddress), *inAddress) &&
        servicePort.value_or(*port) == *port) {
      errors.add(indexPath(joinPath(path, "inbound"), i),
                 "serviceAddress:servicePort must differ from address:port (both are " +
                     hostPort(*inAddress, *port) +
                     "); set servicePort to the port the application listens on");
    }
  }
}

// Inbound names are usable as a targetRef's sectionName, so they must be unique.
void checkInboundNames(const Json& net, const std::string& path, FieldErrors& errors) {
  const Json* inbounds = member(net, "inbound");
  if (!inbounds || !inbounds->is_array()) return;
  for (size_t i = 0; i < inbounds->size(); ++i) {
    auto name = stringMember((*inbounds)[i], "name");
    if (!name) continue;
    for (size_t j = 0; j < i; ++j) {
      if (stringMember((*inbounds)[j], "name") == name) {
        errors.add(joinPath(indexPath(joinPath(path, "inbound"), i), "name"), "must be unique");
        break;
      }
    }
  }
}

// The admin endpoint listens on 127.0.0.1; no inbound or outbound listener may take its port
// there (a wildcard address includes 127.0.0.1).
void checkAdminPort(const Json& net, const std::string& path, FieldErrors& errors) {
  const Json* admin = member(net, "admin");
  auto adminPort = admin ? intMember(*admin, "port") : std::nullopt;
  if (!adminPort) return;
  auto address = stringMember(net, "address");
  auto clashes = [&](const char* list, std::optional<std::string> fallback) {
    const Json* items = member(net, list);
    if (!items || !items->is_array()) return;
    for (size_t i = 0; i < items->size(); ++i) {
      const Json& item = (*items)[i];
      auto itemAddress = stringMember(item, "address");
      if (!itemAddress) itemAddress = fallback;
      if (!itemAddress || intMember(item, "port") != adminPort) continue;
      if (proxy_rules::sameAddress(*itemAddress, kLoopback) ||
          proxy_rules::isWildcardAddress(*itemAddress)) {
        errors.add(joinPath(joinPath(path, "admin"), "port"),
                   "must differ from the port of " + indexPath(joinPath(path, list), i) +
                       ", which also listens on " + kLoopback);
      }
    }
  };
  clashes("inbound", address);
  clashes("outbound", std::string(kLoopback));
}

S networking() {
  return S::object({
                       req("address", proxy_rules::proxyAddress()),
                       opt("advertisedAddress", proxy_rules::proxyAddress()),
                       opt("inbound", S::array(inbound())),
                       opt("outbound", S::array(outbound())),
                       opt("gateway", proxy_rules::unsupported("gateway Dataplanes are not "
                                                               "available")),
                       opt("transparentProxying", transparentProxying()),
                       opt("admin", S::object({opt("port", S::port())})),
                       opt("listeners", proxy_rules::unsupported(
                                            "run a ZoneIngress or ZoneEgress proxy instead")),
                   })
      .check(checkInboundTargets)
      .check(checkInboundNames)
      .check(checkAdminPort);
}

S dataplaneBody() {
  return S::object({
      req("networking", networking()),
      opt("probes", proxy_rules::unsupported("use inbound[].serviceProbe")),
      opt("metrics", proxy_rules::unsupported("configure metrics with a MeshMetric policy")),
  });
}

}  // namespace

const ResourceType& dataplaneType() {
  static const ResourceType kType{
      .name = "Dataplane",
      .plural = "dataplanes",
      .singular = "dataplane",
      .scope = Scope::kMesh,
      .layout = Layout::kLegacy,
      .readOnly = false,
      .body = dataplaneBody(),
  };
  return kType;
}

}  // namespace braid
