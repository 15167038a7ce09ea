#pragma once

// The server check after an upstream mTLS handshake, shared by the TCP proxy and the HTTP
// connection manager's upstream connections: both trust another proxy only as the cluster's
// service.

#include <string>

typedef struct ssl_st SSL;

namespace braid::dataplane::tls {
class TlsContexts;
}

namespace braid::dataplane::tcp_proxy {

// "" when the server of the completed handshake on `ssl` presented an SVID of the mesh's trust
// domain (tls::verifyPeer) whose SPIFFE ID is `expectedSan`; otherwise why not.
std::string checkUpstreamServer(SSL* ssl, const tls::TlsContexts& contexts,
                                const std::string& expectedSan);

}  // namespace braid::dataplane::tcp_proxy
