#include "dataplane/network/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace braid::dataplane::network {

std::optional<ResolvedAddress> resolve(const SocketAddress& address) {
  ResolvedAddress out;
  if (address.ip.find(':') == std::string::npos) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    if (inet_pton(AF_INET, address.ip.c_str(), &v4->sin_addr) != 1) return std::nullopt;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    out.length = sizeof(sockaddr_in);
    return out;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET6, address.ip.c_str(), &v6->sin6_addr) != 1) return std::nullopt;
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(address.port);
  out.length = sizeof(sockaddr_in6);
  return out;
}

std::string formatAddress(const SocketAddress& address) {
  if (address.ip.find(':') != std::string::npos) {
    return "[" + address.ip + "]:" + std::to_string(address.port);
  }
  return address.ip + ":" + std::to_string(address.port);
}

std::string formatAddress(const ResolvedAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.family() == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address.storage);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address.storage);
  inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
  return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
}

}  // namespace braid::dataplane::network
