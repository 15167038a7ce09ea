#include "dataplane/tls/tls_contexts.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <vector>

#include "common/spiffe/svid.h"

namespace braid::dataplane::tls {
namespace {

// TLS 1.2 suites: ECDHE (forward secrecy) with AEAD only. TLS 1.3 keeps OpenSSL's default suites,
// all of which qualify.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr size_t kMaxCachedSessions = 4096;
constexpr long kSessionLifetimeSeconds = 300;
// Tickets kept per endpoint: a TLS 1.3 server sends two per full handshake and one per resumption,
// so a few cover the connections a busy outbound opens at once.
constexpr size_t kTicketsPerEndpoint = 8;

// The reason of the first queued OpenSSL error (library reason text, never data), and clears the
// queue.
std::string opensslReason(const char* fallback) {
  unsigned long code = ERR_peek_error();
  std::string reason = fallback;
  if (code != 0) {
    const char* text = ERR_reason_error_string(code);
    if (text != nullptr) reason = text;
  }
  ERR_clear_error();
  return reason;
}

// Never prompts for a passphrase: an encrypted key is an error.
int noPassphrase(char*, int, int, void*) { return 0; }

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using UniqueX509 = std::unique_ptr<X509, X509Deleter>;

// Every certificate of a PEM text, in order.
bool parseCertificates(const std::string& pem, std::vector<UniqueX509>& out, std::string& error) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) {
    error = "out of memory";
    return false;
  }
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, noPassphrase, nullptr)) {
    out.emplace_back(cert);
  }
  // The loop ends with "no start line" at the end of the text; anything else is a broken block.
  unsigned long code = ERR_peek_last_error();
  if (code != 0 && ERR_GET_REASON(code) != PEM_R_NO_START_LINE) {
    error = "cannot parse PEM: " + opensslReason("error");
    return false;
  }
  ERR_clear_error();
  if (out.empty()) {
    error = "no certificate in PEM";
    return false;
  }
  return true;
}

// The index of the per-SSL cache key (a heap std::string, freed with the SSL).
void freeKey(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::string*>(ptr);
}
int sessionKeyIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, freeKey);
  return index;
}

// A server handed out a session (TLS 1.3: a ticket after the handshake): keep it for the next
// connection to the same endpoint.
int onNewClientSession(SSL* ssl, SSL_SESSION* session) {
  auto* key = static_cast<std::string*>(SSL_get_ex_data(ssl, sessionKeyIndex()));
  auto* cache = static_cast<ClientSessionCache*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (key == nullptr || cache == nullptr || !SSL_SESSION_is_resumable(session)) return 0;
  cache->put(*key, session);
  return 0;  // the cache keeps its own copy; OpenSSL releases this one
}

// Settings both directions share: versions, suites, groups, the trust store, peer verification.
SSL_CTX* newContext(const SSL_METHOD* method, X509_STORE* store, X509* leaf,
                    const std::vector<UniqueX509>& chain, EVP_PKEY* key, std::string& error) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (ctx == nullptr) {
    error = "cannot create a TLS context: " + opensslReason("out of memory");
    return nullptr;
  }
  auto fail = [&](const char* what) {
    error = std::string(what) + ": " + opensslReason("error");
    SSL_CTX_free(ctx);
    return nullptr;
  };
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) return fail("TLS versions");
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) return fail("cipher list");
  if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1) return fail("groups");
  // No renegotiation (TLS 1.2); a peer closing without close_notify is an EOF, as for plain TCP
  // (the byte stream has its own framing, and an L4 proxy must pass such closes on).
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
  // Writes straight out of the evbuffer's chains, which may move and are written in parts; idle
  // connections give their 16 KiB read/write buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // One recv per burst of records: without read-ahead OpenSSL reads each record's 5-byte header
  // and its body in two system calls.
  SSL_CTX_set_read_ahead(ctx, 1);
  X509_STORE_up_ref(store);
  SSL_CTX_set_cert_store(ctx, store);
  if (SSL_CTX_use_certificate(ctx, leaf) != 1) return fail("certificate");
  for (size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) return fail("certificate chain");
  }
  if (SSL_CTX_use_PrivateKey(ctx, key) != 1) return fail("private key");
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return fail("the certificate does not match the private key");
  }
  return ctx;
}

}  // namespace

ClientSessionCache::~ClientSessionCache() {
  for (auto& [key, tickets] : sessions_) {
    for (SSL_SESSION* session : tickets) SSL_SESSION_free(session);
  }
}

void ClientSessionCache::put(const std::string& key, SSL_SESSION* session) {
  SSL_SESSION* copy = SSL_SESSION_dup(session);
  if (copy == nullptr) {
    ERR_clear_error();
    return;
  }
  std::lock_guard lock(mutex_);
  // Bounded: endpoints come and go; starting over costs one full handshake per endpoint.
  if (count_ >= kMaxCachedSessions) {
    for (auto& [old, tickets] : sessions_) {
      for (SSL_SESSION* cached : tickets) SSL_SESSION_free(cached);
    }
    sessions_.clear();
    count_ = 0;
  }
  auto& tickets = sessions_[key];
  tickets.push_back(copy);
  ++count_;
  if (tickets.size() > kTicketsPerEndpoint) {
    SSL_SESSION_free(tickets.front());
    tickets.pop_front();
    --count_;
  }
}

SSL_SESSION* ClientSessionCache::take(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end() || it->second.empty()) return nullptr;
  // A copy: OpenSSL marks the session of a connection freed without close_notify as not
  // resumable, which must not spoil the cached one for the connections after it.
  SSL_SESSION* copy = SSL_SESSION_dup(it->second.back());
  if (copy == nullptr) ERR_clear_error();
  return copy;
}

void ClientSessionCache::erase(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  for (SSL_SESSION* session : it->second) SSL_SESSION_free(session);
  count_ -= it->second.size();
  sessions_.erase(it);
}

std::shared_ptr<const TlsContexts> TlsContexts::build(const MtlsConfig& mtls,
                                                      const WorkloadIdentity& identity,
                                                      std::string& error) {
  ERR_clear_error();
  std::shared_ptr<TlsContexts> contexts(new TlsContexts());
  contexts->trustDomain_ = mtls.trustDomain;

  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
  if (!store) {
    error = "out of memory";
    return nullptr;
  }
  // A root may be an intermediate CA the mesh was given: it is a trust anchor by itself.
  X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN);
  for (size_t i = 0; i < mtls.trustedRootsPem.size(); ++i) {
    std::vector<UniqueX509> roots;
    if (!parseCertificates(mtls.trustedRootsPem[i], roots, error)) {
      error = "trusted root " + std::to_string(i + 1) + ": " + error;
      return nullptr;
    }
    for (auto& root : roots) {
      if (X509_STORE_add_cert(store.get(), root.get()) != 1) {
        unsigned long code = ERR_peek_last_error();
        // The same root listed twice (two backends sharing a CA) is fine.
        if (ERR_GET_REASON(code) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
          ERR_clear_error();
          continue;
        }
        error = "trusted root " + std::to_string(i + 1) + ": " + opensslReason("error");
        return nullptr;
      }
    }
  }
  if (mtls.enabled && mtls.trustedRootsPem.empty()) {
    error = "mTLS is enabled but no trusted root is configured";
    return nullptr;
  }

  std::unique_ptr<BIO, BioDeleter> keyBio(BIO_new_mem_buf(
      identity.privateKeyPem.data(), static_cast<int>(identity.privateKeyPem.size())));
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      keyBio ? PEM_read_bio_PrivateKey(keyBio.get(), nullptr, noPassphrase, nullptr) : nullptr,
      &EVP_PKEY_free);
  if (!key) {
    error = "private key: cannot parse PEM (" + opensslReason("error") + ")";
    return nullptr;
  }

  for (const auto& [service, pem] : identity.certChainPemByService) {
    std::string prefix = "certificate of service '" + service + "': ";
    std::vector<UniqueX509> chain;
    if (!parseCertificates(pem, chain, error)) {
      error = prefix + error;
      return nullptr;
    }
    if (X509_check_private_key(chain[0].get(), key.get()) != 1) {
      ERR_clear_error();
      error = prefix + "the certificate does not match the private key";
      return nullptr;
    }
    ServiceContexts pair;
    pair.server =
        newContext(TLS_server_method(), store.get(), chain[0].get(), chain, key.get(), error);
    if (pair.server == nullptr) {
      error = prefix + error;
      return nullptr;
    }
    contexts->services_[service] = pair;  // owned from here: freed by ~TlsContexts
    pair.client =
        newContext(TLS_client_method(), store.get(), chain[0].get(), chain, key.get(), error);
    if (pair.client == nullptr) {
      error = prefix + error;
      return nullptr;
    }
    contexts->services_[service] = pair;

    // Server: a client certificate is required; sessions resume by ID (cache) or by ticket, and
    // only within this service's context (the session ID context).
    SSL_CTX_set_verify(pair.server, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_options(pair.server, SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(pair.server, SSL_SESS_CACHE_SERVER);
    // Sessions (and tickets) live minutes, not OpenSSL's default two hours: a resumption skips
    // the chain check against the current roots, so a removed CA must stop being honoured soon.
    SSL_CTX_set_timeout(pair.server, kSessionLifetimeSeconds);
    unsigned char sidContext[SSL_MAX_SID_CTX_LENGTH];
    unsigned int sidLength = 0;
    std::string sidInput = "braid-inbound:" + service;
    EVP_Digest(sidInput.data(), sidInput.size(), sidContext, &sidLength, EVP_sha256(), nullptr);
    if (SSL_CTX_set_session_id_context(
            pair.server, sidContext, std::min<unsigned int>(sidLength, sizeof(sidContext))) != 1) {
      error = prefix + "session id context: " + opensslReason("error");
      return nullptr;
    }

    // Client: the server's chain is verified during the handshake; its SPIFFE ID afterwards.
    SSL_CTX_set_verify(pair.client, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_session_cache_mode(pair.client,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(pair.client, onNewClientSession);
    SSL_CTX_set_app_data(pair.client, contexts->sessions_.get());
  }
  return contexts;
}

TlsContexts::~TlsContexts() {
  for (auto& [service, pair] : services_) {
    if (pair.server != nullptr) SSL_CTX_free(pair.server);
    if (pair.client != nullptr) SSL_CTX_free(pair.client);
  }
}

SSL_CTX* TlsContexts::server(const std::string& service) const {
  auto it = services_.find(service);
  return it == services_.end() ? nullptr : it->second.server;
}

SSL_CTX* TlsContexts::client(const std::string& service) const {
  auto it = services_.find(service);
  return it == services_.end() ? nullptr : it->second.client;
}

SSL* TlsContexts::newServerSsl(SSL_CTX* context) {
  SSL* ssl = SSL_new(context);
  if (ssl == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return ssl;
}

SSL* TlsContexts::newClientSsl(SSL_CTX* context, const std::string& endpoint,
                               const std::string& sni) const {
  SSL* ssl = SSL_new(context);
  if (ssl == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_connect_state(ssl);
  // SSL_set_tlsext_host_name() without its C cast.
  if (!sni.empty() && SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                               const_cast<char*>(sni.c_str())) != 1) {
    ERR_clear_error();
  }
  // One cache for all services: the context's address tells them apart.
  auto key = std::make_unique<std::string>(std::to_string(reinterpret_cast<uintptr_t>(context)) +
                                           "|" + endpoint + "|" + sni);
  if (SSL_SESSION* session = sessions_->take(*key)) {
    SSL_set_session(ssl, session);  // takes its own reference
    SSL_SESSION_free(session);
  }
  if (SSL_set_ex_data(ssl, sessionKeyIndex(), key.get()) == 1) key.release();
  ERR_clear_error();
  return ssl;
}

void TlsContexts::forgetSession(SSL* ssl) const {
  auto* key = static_cast<std::string*>(SSL_get_ex_data(ssl, sessionKeyIndex()));
  if (key != nullptr) sessions_->erase(*key);
}

bool verifyPeer(SSL* ssl, const std::string& trustDomain, std::string& spiffeId,
                std::string& error) {
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) {
    error = "no peer certificate";
    return false;
  }
  long result = SSL_get_verify_result(ssl);
  if (result != X509_V_OK) {
    error = std::string("chain: ") + X509_verify_cert_error_string(result);
    return false;
  }
  // A resumed session carries the verdict of the handshake that created it, hours old perhaps:
  // the certificate's dates are checked again, so an expired identity cannot resume its way in.
  if (SSL_session_reused(ssl) == 1) {
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
      error = "resumed session: the peer's certificate has expired";
      return false;
    }
    if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0) {
      error = "resumed session: the peer's certificate is not valid yet";
      return false;
    }
  }
  spiffe::SpiffeId id;
  if (!spiffe::checkSvid(leaf, trustDomain, id, error)) return false;
  spiffeId = id.str();
  return true;
}

}  // namespace braid::dataplane::tls
