#include "dataplane/filters/tcp_proxy/upstream_tls.h"

#include "dataplane/tls/tls_contexts.h"

namespace braid::dataplane::tcp_proxy {

std::string checkUpstreamServer(SSL* ssl, const tls::TlsContexts& contexts,
                                const std::string& expectedSan) {
  std::string server;
  std::string error;
  if (!tls::verifyPeer(ssl, contexts.trustDomain(), server, error)) return error;
  if (server != expectedSan) return "the server is " + server + ", not " + expectedSan;
  return "";
}

}  // namespace braid::dataplane::tcp_proxy
