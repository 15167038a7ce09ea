#pragma once

#include <string>

#include "dataplane/network/address.h"
#include "dataplane/network/unique_fd.h"

namespace braid::dataplane::network {

// Opens a non-blocking SO_REUSEPORT listening socket (IPv6 sockets are v6-only, so [::]:p and
// 0.0.0.0:p can coexist). Returns "" or "bind <addr>: <strerror>" / "listen <addr>: <strerror>".
std::string openListenSocket(const ResolvedAddress& address, int backlog, UniqueFd& out);

// Checks that nobody else holds `address`: binds (and closes) a socket without SO_REUSEPORT.
// SO_REUSEPORT alone would let this proxy share a port that another process of the same user
// opened with SO_REUSEPORT, silently splitting that port's connections between the two.
// Returns "" or "bind <addr>: <strerror>".
std::string probeAddressFree(const ResolvedAddress& address);

// Disables Nagle: the proxy forwards whatever it has as soon as it has it.
void setNoDelay(int fd);

// TCP keepalive (probes after 60 s idle, every 10 s, 3 misses): a peer that vanished without a
// FIN or RST (host lost, NAT state expired) releases its connection within about 90 s instead of
// holding it forever.
void setKeepAlive(int fd);

// Creates a non-blocking TCP socket and starts connecting it. Returns 0 when the connect is under
// way (or already done: the socket then reports writable at once), else the errno that ended it.
int startConnect(const ResolvedAddress& address, UniqueFd& out);

// The pending error of a socket (SO_ERROR), 0 when none.
int socketError(int fd);

// The IP address of a connected socket's peer ("127.0.0.1", "::1"), "" when it has none.
std::string peerIp(int fd);

}  // namespace braid::dataplane::network
