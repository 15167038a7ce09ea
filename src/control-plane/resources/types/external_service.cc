// ExternalService (legacy layout): a service outside the mesh, reached at host:port, optionally
// over TLS (POLICY_FIELDS §16).
#include <charconv>

#include "control-plane/resources/common_rules.h"
#include "control-plane/resources/types/proxy_rules.h"
#include "control-plane/resources/types/types.h"

namespace braid {
namespace {

using proxy_rules::stringMember;
using schema::member;
using schema::opt;
using schema::req;
using schema::S;

struct HostPort {
  std::string host;
  std::string port;
};

// Splits "host:port" or "[ipv6]:port"; nullopt when there is no port separator.
std::optional<HostPort> splitHostPort(const std::string& s) {
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return std::nullopt;
    }
    return HostPort{s.substr(1, close - 1), s.substr(close + 2)};
  }
  size_t colon = s.rfind(':');
  // A bare IPv6 address has several colons and no brackets: its last group is not a port.
  if (colon == std::string::npos || s.find(':') != colon) return std::nullopt;
  return HostPort{s.substr(0, colon), s.substr(colon + 1)};
}

S address() {
  return S::string().check([](const Json& v, const std::string& path, FieldErrors& errors) {
    auto hp = splitHostPort(v.get<std::string>());
    if (!hp) {
      errors.add(path, "must be host:port (an IPv6 host in brackets: [::1]:443)");
      return;
    }
    if (hp->host.empty() || !proxy_rules::isIpOrDnsName(hp->host)) {
      errors.add(path, "host must be a valid IP address or DNS name");
    }
    int port = 0;
    const char* end = hp->port.data() + hp->port.size();
    auto [ptr, ec] = std::from_chars(hp->port.data(), end, port);
    if (hp->port.empty() || ec != std::errc() || ptr != end || port < 1 || port > 65535) {
      errors.add(path, "port must be a number between 1 and 65535");
    }
  });
}

S tls() {
  return S::object({
                       opt("enabled", S::boolean()),
                       opt("caCert", rules::dataSource()),
                       opt("clientCert", rules::dataSource()),
                       opt("clientKey", rules::dataSource()),
                       opt("allowRenegotiation", S::boolean()),
                       opt("serverName", S::string().notEmpty()),
                       opt("skipHostnameVerification", S::boolean()),
                   })
      .check([](const Json& t, const std::string& path, FieldErrors& errors) {
        // A client certificate is useless without its key, and the other way round.
        bool cert = member(t, "clientCert") != nullptr, key = member(t, "clientKey") != nullptr;
        if (cert != key) {
          errors.add(joinPath(path, cert ? "clientKey" : "clientCert"),
                     cert ? "must be defined when clientCert is set"
                          : "must be defined when clientKey is set");
        }
      });
}

S externalServiceBody() {
  return S::object({
                       req("tags", proxy_rules::serviceTags()),
                       req("networking", S::object({
                                             req("address", address()),
                                             opt("disableHostDNSEntry", S::boolean()),
                                             opt("tls", tls()),
                                         })),
                   })
      .check([](const Json& es, const std::string&, FieldErrors& errors) {
        // The service name becomes a DNS name inside the mesh; naming it after the real host
        // would shadow that host for every sidecar.
        const Json* tags = member(es, "tags");
        const Json* net = member(es, "networking");
        auto service = tags ? stringMember(*tags, rules::kServiceTag) : std::nullopt;
        auto addr = net ? stringMember(*net, "address") : std::nullopt;
        auto hp = addr ? splitHostPort(*addr) : std::nullopt;
        if (service && hp && proxy_rules::sameAddress(*service, hp->host)) {
          errors.add(joinPath("tags", rules::kServiceTag),
                     "must differ from the host of networking.address");
        }
      });
}

}  // namespace

const ResourceType& externalServiceType() {
  static const ResourceType kType{
      .name = "ExternalService",
      .plural = "external-services",
      .singular = "external-service",
      .scope = Scope::kMesh,
      .layout = Layout::kLegacy,
      .readOnly = false,
      .body = externalServiceBody(),
  };
  return kType;
}

}  // namespace braid
