#pragma once

// The TLS contexts of the data path (CONTRACT §6), built on the main thread from the mesh's mTLS
// settings and the proxy's workload identity, then shared read-only with the workers through the
// RuntimeConfig: a connection keeps the contexts it started with, a new identity or new trusted
// roots build new ones. Per service of the identity: a server context (an inbound presents that
// service's certificate and requires a client certificate) and a client context (an outbound
// presents it to the other proxy). Both trust every root the mesh lists, so a CA rotation does
// not break connections while certificates of both CAs are in use.

#include <openssl/ssl.h>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "dataplane/config/snapshot.h"
#include "dataplane/tls/workload_identity.h"

namespace braid::dataplane::tls {

// Client sessions for resumption, by "<context>|<endpoint>|<sni>": the newest tickets upstreams
// handed out, a few per endpoint; every new connection offers (a copy of) the newest, so
// concurrent connections all resume. Inside the mesh a reused ticket links nothing an observer
// does not already know (the peers are fixed), so RFC 8446's single-use advice, a privacy measure,
// is traded for fewer full handshakes. A connection's ending (clean or not) cannot spoil a cached
// ticket: the cache keeps its own copies. Thread-safe (workers share it).
class ClientSessionCache {
 public:
  ClientSessionCache() = default;
  ~ClientSessionCache();
  ClientSessionCache(const ClientSessionCache&) = delete;
  ClientSessionCache& operator=(const ClientSessionCache&) = delete;

  // Keeps a copy of `session` (the caller keeps its reference).
  void put(const std::string& key, SSL_SESSION* session);
  // A copy of the newest ticket for `key` (the caller owns it), or nullptr.
  SSL_SESSION* take(const std::string& key);
  void erase(const std::string& key);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<SSL_SESSION*>> sessions_;
  size_t count_ = 0;
};

class TlsContexts {
 public:
  // Builds the contexts; nullptr with `error` naming the problem ("private key: …", "certificate
  // of service 'web': …", "trusted root 2: …") — never key material. With mTLS disabled the roots
  // may be empty (an identity can be checked before the first configuration arrives).
  static std::shared_ptr<const TlsContexts> build(const MtlsConfig& mtls,
                                                  const WorkloadIdentity& identity,
                                                  std::string& error);
  ~TlsContexts();
  TlsContexts(const TlsContexts&) = delete;
  TlsContexts& operator=(const TlsContexts&) = delete;

  // nullptr when the identity holds no certificate for `service`.
  SSL_CTX* server(const std::string& service) const;
  SSL_CTX* client(const std::string& service) const;
  const std::string& trustDomain() const { return trustDomain_; }

  // A server-side SSL for an accepted connection; nullptr when out of memory.
  static SSL* newServerSsl(SSL_CTX* context);
  // A client-side SSL: SNI `sni`, offering the session cached for (context, endpoint, sni); the
  // sessions the server hands out on it are cached. nullptr when out of memory.
  SSL* newClientSsl(SSL_CTX* context, const std::string& endpoint, const std::string& sni) const;
  // Forgets the cached session an SSL offered (its handshake failed).
  void forgetSession(SSL* ssl) const;

 private:
  TlsContexts() = default;

  struct ServiceContexts {
    SSL_CTX* server = nullptr;
    SSL_CTX* client = nullptr;
  };
  std::string trustDomain_;
  std::map<std::string, ServiceContexts> services_;
  std::unique_ptr<ClientSessionCache> sessions_ = std::make_unique<ClientSessionCache>();
};

using TlsContextsPtr = std::shared_ptr<const TlsContexts>;

// What the peer of a finished handshake proved: its chain verified against the trusted roots
// (OpenSSL) and its leaf is a SPIFFE X.509-SVID of `trustDomain` (braid::spiffe::checkSvid).
// true with `spiffeId` set; false with `error` ("no peer certificate", "chain: certificate has
// expired", "certificate has 2 URI SANs", …).
bool verifyPeer(SSL* ssl, const std::string& trustDomain, std::string& spiffeId,
                std::string& error);

}  // namespace braid::dataplane::tls
