#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>

#include "dataplane/config/snapshot.h"

namespace braid::dataplane::network {

// A socket address parsed once (on the main thread), ready for bind() and connect().
struct ResolvedAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};

// Parses an IPv4 or IPv6 literal and a port; nullopt when the ip is not a literal.
std::optional<ResolvedAddress> resolve(const SocketAddress& address);

// "1.2.3.4:80" or "[::1]:80" for an address as written in the configuration.
std::string formatAddress(const SocketAddress& address);

// The canonical form of a parsed address ("127.0.0.1:80", "[::1]:80"), so that two spellings of
// the same address compare equal.
std::string formatAddress(const ResolvedAddress& address);

}  // namespace braid::dataplane::network
