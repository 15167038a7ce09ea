// Mutual TLS and MeshTrafficPermission on the data path (CONTRACT §6), end to end through
// WorkerPools on 127.0.0.1 with certificates made by the test.

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <thread>

#include "dataplane/filters/tcp_proxy/deny_response.h"
#include "dataplane/filters/tcp_proxy/permissions.h"
#include "dataplane/server/worker_pool.h"
#include "dataplane/stats/stats.h"
#include "dataplane/tls/tls_contexts.h"
#include "test_pki.h"
#include "test_support.h"

namespace braid::dataplane {
namespace {

using namespace test_support;  // NOLINT: the test helpers
using test_pki::Ca;
using test_pki::Leaf;

// Test clients write to connections the proxy closed.
const bool kSigpipeIgnored = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();

// A blocking TLS client (5 s socket timeouts from connectTo).
class TlsClient {
 public:
  // `leaf` null: no client certificate.
  TlsClient(uint16_t port, const Leaf* leaf, const std::string& rootPem,
            SSL_SESSION* session = nullptr, int maxVersion = 0) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (maxVersion != 0) SSL_CTX_set_max_proto_version(ctx_, maxVersion);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
    BIO* bio = BIO_new_mem_buf(rootPem.data(), static_cast<int>(rootPem.size()));
    X509* root = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    X509_STORE_add_cert(store, root);
    X509_free(root);
    BIO_free(bio);
    if (leaf != nullptr) {
      bio = BIO_new_mem_buf(leaf->certPem.data(), static_cast<int>(leaf->certPem.size()));
      X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
      BIO_free(bio);
      bio = BIO_new_mem_buf(leaf->keyPem.data(), static_cast<int>(leaf->keyPem.size()));
      EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
      BIO_free(bio);
      SSL_CTX_use_certificate(ctx_, cert);
      SSL_CTX_use_PrivateKey(ctx_, key);
      X509_free(cert);
      EVP_PKEY_free(key);
    }
    fd_ = connectTo(port);
    if (fd_ < 0) return;
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (session != nullptr) SSL_set_session(ssl_, session);
    handshakeOk_ = SSL_connect(ssl_) == 1;
    ERR_clear_error();
  }
  ~TlsClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) close(fd_);
    SSL_CTX_free(ctx_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  bool handshakeOk() const { return handshakeOk_; }
  SSL* ssl() const { return ssl_; }
  bool write(const std::string& data) {
    size_t written = 0;
    bool ok = handshakeOk_ && SSL_write_ex(ssl_, data.data(), data.size(), &written) == 1;
    ERR_clear_error();
    return ok && written == data.size();
  }
  // Exactly `size` bytes, or fewer on EOF, error, timeout.
  std::string read(size_t size) {
    std::string out(size, '\0');
    size_t got = 0;
    while (handshakeOk_ && got < size) {
      size_t n = 0;
      if (SSL_read_ex(ssl_, out.data() + got, size - got, &n) != 1) break;
      got += n;
    }
    ERR_clear_error();
    out.resize(got);
    return out;
  }
  std::string readToEof() {
    std::string out;
    char buffer[16384];
    size_t n = 0;
    while (handshakeOk_ && SSL_read_ex(ssl_, buffer, sizeof(buffer), &n) == 1)
      out.append(buffer, n);
    ERR_clear_error();
    return out;
  }
  // The bytes come back through the echo app.
  bool echoes(const std::string& data) { return write(data) && read(data.size()) == data; }
  void closeNotify() { SSL_shutdown(ssl_); }

 private:
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool handshakeOk_ = false;
};

struct InboundOptions {
  TlsMode mode = TlsMode::kStrict;
  bool enforce = false;
  std::vector<PermissionRule> rules;
  std::string protocol = "tcp";
  std::vector<std::string> roots;
  std::vector<std::string> identities = {"backend"};
};

MtlsConfig mtlsWith(const std::vector<std::string>& roots) {
  MtlsConfig mtls;
  mtls.enabled = true;
  mtls.backend = "ca-1";
  mtls.trustDomain = "default";
  mtls.trustedRootsPem = roots;
  return mtls;
}

// An inbound on `port` for service "backend" in front of the app on `appPort`.
SnapshotPtr inboundSnapshot(uint16_t port, uint16_t appPort, const InboundOptions& options) {
  auto listener = makeListener("inbound:127.0.0.1:" + std::to_string(port), port, "localhost:app");
  listener.direction = Direction::kInbound;
  listener.protocol = options.protocol;
  listener.security.mode = options.mode;
  listener.security.identity = "backend";
  listener.security.enforcePermissions = options.enforce;
  listener.security.rules = options.rules;
  auto cluster = makeCluster("localhost:app", {appPort});
  cluster.service = "";
  auto snapshot = std::make_shared<Snapshot>(*makeSnapshot("1", {listener}, {cluster}));
  snapshot->mtls = mtlsWith(options.roots);
  snapshot->identities = options.identities;
  return snapshot;
}

PermissionRule rule(PermissionRule::Match match, const std::string& value, PermissionAction action,
                    const std::string& policy) {
  PermissionRule out;
  out.match = match;
  out.value = value;
  out.action = action;
  out.policy = policy;
  return out;
}

std::vector<std::string> presentedSans(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  return cert == nullptr ? std::vector<std::string>{} : test_pki::uriSans(cert);
}

uint64_t value(const std::atomic<uint64_t>& counter) { return counter.load(); }

class MtlsTest : public ::testing::Test {
 protected:
  MtlsTest() : ca_("mesh root"), identity_(test_pki::makeIdentity(ca_, {"backend", "web"})) {}

  // A pool with the identity and an inbound in front of `app`.
  void startInbound(const InboundOptions& given, Backend& app) {
    InboundOptions options = given;
    if (options.roots.empty()) options.roots = {ca_.certPem()};
    port_ = freePort();
    ASSERT_EQ(pool_.setIdentity(identity_), "");
    ASSERT_EQ(pool_.apply(inboundSnapshot(port_, app.port(), options)), "");
    counters_ = stats_.listener("inbound:127.0.0.1:" + std::to_string(port_));
  }

  Ca ca_;
  WorkloadIdentityPtr identity_;
  Stats stats_;
  WorkerPool pool_{2, stats_};
  uint16_t port_ = 0;
  std::shared_ptr<ListenerCounters> counters_;
};

TEST_F(MtlsTest, StrictInboundAcceptsAValidSvidAndPresentsItsOwn) {
  Backend app;
  startInbound({}, app);
  Leaf web = ca_.svid("web");
  TlsClient client(port_, &web, ca_.certPem());
  ASSERT_TRUE(client.handshakeOk());
  EXPECT_EQ(presentedSans(client.ssl()), std::vector<std::string>{"spiffe://default/backend"});
  EXPECT_GE(SSL_version(client.ssl()), TLS1_2_VERSION);
  EXPECT_TRUE(client.echoes("hello through mTLS"));
  EXPECT_TRUE(waitFor([&] { return value(counters_->sslHandshakes) == 1; }));
  EXPECT_EQ(value(counters_->sslHandshakeErrors), 0u);
  EXPECT_EQ(app.accepted(), 1);
}

TEST_F(MtlsTest, StrictInboundRefusesPlaintext) {
  Backend app;
  startInbound({}, app);
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  sendAll(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  bool eof = false;
  std::string answer = readToEof(fd, &eof);
  close(fd);
  EXPECT_EQ(answer.find("HTTP"), std::string::npos);  // at most a TLS alert
  EXPECT_TRUE(waitFor([&] { return value(counters_->sslHandshakeErrors) == 1; }));
  EXPECT_EQ(app.accepted(), 0);
  EXPECT_EQ(app.bytesRead(), 0u);
}

TEST_F(MtlsTest, StrictInboundRefusesBadClientCertificates) {
  Backend app;
  startInbound({}, app);
  Ca foreign("another mesh");
  test_pki::LeafOptions expired;
  expired.uris = {"spiffe://default/web"};
  expired.notBeforeSeconds = -7200;
  expired.notAfterSeconds = -3600;
  test_pki::LeafOptions twoSans;
  twoSans.uris = {"spiffe://default/web", "spiffe://default/admin"};
  test_pki::LeafOptions isCa;
  isCa.uris = {"spiffe://default/web"};
  isCa.ca = true;
  std::vector<std::pair<std::string, Leaf>> cases = {
      {"foreign CA", foreign.svid("web")},
      {"expired", ca_.issue(expired)},
      {"two URI SANs", ca_.issue(twoSans)},
      {"CA=true", ca_.issue(isCa)},
      {"other trust domain", ca_.svid("web", "elsewhere")},
  };
  for (const auto& [name, leaf] : cases) {
    TlsClient client(port_, &leaf, ca_.certPem());
    // TLS 1.3: the client may finish its side before the server has looked at its certificate;
    // no byte may come back either way.
    EXPECT_FALSE(client.handshakeOk() && client.echoes("x")) << name;
  }
  {
    TlsClient anonymous(port_, nullptr, ca_.certPem());
    EXPECT_FALSE(anonymous.handshakeOk() && anonymous.echoes("x"));
  }
  EXPECT_TRUE(waitFor([&] { return value(counters_->sslHandshakeErrors) == cases.size() + 1; }))
      << value(counters_->sslHandshakeErrors);
  EXPECT_EQ(value(counters_->sslNoCertificate), 1u);
  EXPECT_EQ(value(counters_->sslHandshakes), 0u);
  EXPECT_EQ(app.accepted(), 0);
}

TEST_F(MtlsTest, PermissiveInboundAcceptsTlsAndPlaintext) {
  Backend app;
  InboundOptions options;
  options.mode = TlsMode::kPermissive;
  startInbound(options, app);
  Leaf web = ca_.svid("web");
  TlsClient client(port_, &web, ca_.certPem());
  ASSERT_TRUE(client.handshakeOk());
  EXPECT_TRUE(client.echoes("over TLS"));

  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendAll(fd, "plain"));
  EXPECT_EQ(readExactly(fd, 5), "plain");
  close(fd);
  EXPECT_EQ(app.accepted(), 2);
  EXPECT_EQ(value(counters_->sslHandshakes), 1u);
}

// A server-first protocol: the caller sends nothing; after the peek timeout it is plaintext.
TEST_F(MtlsTest, PermissiveTreatsASilentCallerAsPlaintext) {
  Backend app(Backend::Mode::kEcho, "hello-first");
  InboundOptions options;
  options.mode = TlsMode::kPermissive;
  startInbound(options, app);
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(readExactly(fd, 11), "hello-first");
  close(fd);
}

TEST_F(MtlsTest, PermissionsAllowDenyAndShadowDeny) {
  Backend app;
  InboundOptions options;
  options.enforce = true;
  options.rules = {
      rule(PermissionRule::Match::kExact, "spiffe://default/web", PermissionAction::kAllow,
           "allow-web"),
      rule(PermissionRule::Match::kPrefix, "spiffe://default/shadow",
           PermissionAction::kAllowWithShadowDeny, "shadow-policy"),
      rule(PermissionRule::Match::kExact, "spiffe://default/evil", PermissionAction::kDeny,
           "deny-evil"),
  };
  startInbound(options, app);
  Leaf web = ca_.svid("web");
  Leaf shadow = ca_.svid("shadow-client");
  Leaf evil = ca_.svid("evil");
  Leaf stranger = ca_.svid("stranger");
  {
    TlsClient client(port_, &web, ca_.certPem());
    EXPECT_TRUE(client.echoes("web"));
  }
  {
    TlsClient client(port_, &shadow, ca_.certPem());
    EXPECT_TRUE(client.echoes("shadow"));
  }
  for (const Leaf* denied : {&evil, &stranger}) {
    TlsClient client(port_, denied, ca_.certPem());
    ASSERT_TRUE(client.handshakeOk());
    client.write("must not arrive");
    EXPECT_EQ(client.readToEof(), "");
  }
  EXPECT_TRUE(waitFor([&] { return value(counters_->rbacDenied) == 2; }));
  EXPECT_EQ(value(counters_->rbacAllowed), 2u);
  EXPECT_EQ(value(counters_->rbacShadowDenied), 1u);
  EXPECT_EQ(app.accepted(), 2);
  EXPECT_EQ(app.bytesRead(), std::string("webshadow").size());
}

TEST_F(MtlsTest, DeniedTcpCallerIsClosedBeforeAnyByteReachesTheApp) {
  Backend app;
  InboundOptions options;
  options.enforce = true;  // no rule: everything is denied
  startInbound(options, app);
  Leaf web = ca_.svid("web");
  TlsClient client(port_, &web, ca_.certPem());
  ASSERT_TRUE(client.handshakeOk());
  client.write(std::string(10000, 'x'));
  EXPECT_EQ(client.readToEof(), "");
  EXPECT_TRUE(waitFor([&] { return value(counters_->rbacDenied) == 1; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(app.accepted(), 0);
  EXPECT_EQ(app.bytesRead(), 0u);
}

TEST_F(MtlsTest, DeniedHttpCallerGets403) {
  Backend app;
  InboundOptions options;
  options.enforce = true;
  options.protocol = "http";
  options.rules = {rule(PermissionRule::Match::kExact, "spiffe://default/other",
                        PermissionAction::kAllow, "allow-other")};
  startInbound(options, app);
  Leaf web = ca_.svid("web");
  TlsClient client(port_, &web, ca_.certPem());
  ASSERT_TRUE(client.handshakeOk());
  ASSERT_TRUE(client.write("GET / HTTP/1.1\r\nHost: backend\r\n\r\n"));
  EXPECT_EQ(client.readToEof(),
            "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 19\r\n"
            "connection: close\r\n\r\nRBAC: access denied");
  EXPECT_EQ(app.accepted(), 0);
}

// h2c with prior knowledge from a plaintext caller on a PERMISSIVE inbound (the empty caller ID
// matches no exact rule).
TEST_F(MtlsTest, DeniedHttp2CallerGets403) {
  Backend app;
  InboundOptions options;
  options.mode = TlsMode::kPermissive;
  options.enforce = true;
  options.protocol = "http2";
  options.rules = {rule(PermissionRule::Match::kExact, "spiffe://default/web",
                        PermissionAction::kAllow, "allow-web")};
  startInbound(options, app);
  int fd = connectTo(port_);
  ASSERT_GE(fd, 0);
  std::string request("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
  request += std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);  // SETTINGS
  std::string block = std::string("\x82\x84\x86\x41\x07", 5) + "backend";
  request += std::string("\x00\x00", 2) + static_cast<char>(block.size()) +
             std::string("\x01\x05\x00\x00\x00\x01", 6) + block;  // HEADERS, stream 1
  ASSERT_TRUE(sendAll(fd, request));
  bool eof = false;
  std::string answer = readToEof(fd, &eof);
  close(fd);
  EXPECT_TRUE(eof);
  std::string expected;
  expected += std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);  // SETTINGS
  expected += std::string("\x00\x00\x00\x04\x01\x00\x00\x00\x00", 9);  // SETTINGS ack
  expected += std::string("\x00\x00\x17\x01\x04\x00\x00\x00\x01", 9);  // HEADERS, END_HEADERS
  expected += std::string("\x08\x03", 2) + "403";
  expected += std::string("\x0f\x10\x0a", 3) + "text/plain";
  expected += std::string("\x0f\x0d\x02", 3) + "19";
  expected += std::string("\x00\x00\x13\x00\x01\x00\x00\x00\x01", 9) + "RBAC: access denied";
  expected += std::string("\x00\x00\x08\x07\x00\x00\x00\x00\x00", 9);  // GOAWAY
  expected += std::string("\x00\x00\x00\x01\x00\x00\x00\x00", 8);
  EXPECT_EQ(answer, expected);
  EXPECT_EQ(app.accepted(), 0);
  EXPECT_EQ(value(counters_->rbacDenied), 1u);
}

// What a real HTTP/2 client makes of the answer (skipped where curl is missing).
TEST_F(MtlsTest, CurlSeesTheHttp2Denial) {
  if (access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/curl";
  Backend app;
  InboundOptions options;
  options.mode = TlsMode::kPermissive;
  options.enforce = true;
  options.protocol = "grpc";
  startInbound(options, app);
  std::string command =
      "/usr/bin/curl -s -m 5 --http2-prior-knowledge -w ' %{http_code}' "
      "http://127.0.0.1:" +
      std::to_string(port_) + "/ 2>&1";
  FILE* curl = popen(command.c_str(), "r");
  ASSERT_NE(curl, nullptr);
  std::string output;
  char buffer[256];
  while (size_t n = fread(buffer, 1, sizeof(buffer), curl)) output.append(buffer, n);
  pclose(curl);
  EXPECT_EQ(output, "RBAC: access denied 403");
  EXPECT_EQ(app.accepted(), 0);
}

TEST_F(MtlsTest, MissingServiceCertificateClosesAndCounts) {
  Backend app;
  startInbound({}, app);
  auto webOnly = test_pki::makeIdentity(ca_, {"web"});
  ASSERT_EQ(pool_.setIdentity(webOnly), "");
  EXPECT_FALSE(pool_.identityReady());
  Leaf web = ca_.svid("web");
  TlsClient client(port_, &web, ca_.certPem());
  EXPECT_FALSE(client.handshakeOk());
  EXPECT_TRUE(waitFor([&] { return value(counters_->sslIdentityMissing) == 1; }));
  EXPECT_EQ(app.accepted(), 0);
}

TEST_F(MtlsTest, IdentityReadiness) {
  EXPECT_FALSE(pool_.identityReady());  // no snapshot yet
  EXPECT_NE(pool_.setIdentity(nullptr), "");
  Backend app;
  uint16_t port = freePort();
  InboundOptions options;
  options.roots = {ca_.certPem()};
  options.identities = {"backend", "web"};
  ASSERT_EQ(pool_.apply(inboundSnapshot(port, app.port(), options)), "");
  EXPECT_FALSE(pool_.identityReady());
  ASSERT_EQ(pool_.setIdentity(test_pki::makeIdentity(ca_, {"backend"})), "");
  EXPECT_FALSE(pool_.identityReady());
  // Another backend's identity counts too (CA rotation: the old one serves until renewed).
  ASSERT_EQ(pool_.setIdentity(test_pki::makeIdentity(ca_, {"backend", "web"}, "ca-old")), "");
  EXPECT_TRUE(pool_.identityReady());

  auto plain = makeSnapshot("2", {makeListener("out", freePort(), "app")},
                            {makeCluster("app", {app.port()})});
  ASSERT_EQ(pool_.apply(plain), "");
  EXPECT_TRUE(pool_.identityReady());
}

TEST_F(MtlsTest, BadPemIsRefusedAndTheOldIdentityKeepsServing) {
  Backend app;
  startInbound({}, app);
  auto broken = std::make_shared<WorkloadIdentity>(*identity_);
  broken->privateKeyPem = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  std::string error = pool_.setIdentity(broken);
  EXPECT_NE(error.find("private key"), std::string::npos) << error;
  EXPECT_EQ(error.find("not a key"), std::string::npos);

  auto mismatched = std::make_shared<WorkloadIdentity>(*identity_);
  mismatched->privateKeyPem = test_pki::makeIdentity(ca_, {})->privateKeyPem;
  error = pool_.setIdentity(mismatched);
  EXPECT_NE(error.find("does not match the private key"), std::string::npos) << error;

  auto badChain = std::make_shared<WorkloadIdentity>(*identity_);
  badChain->certChainPemByService["backend"] = "garbage";
  error = pool_.setIdentity(badChain);
  EXPECT_NE(error.find("service 'backend'"), std::string::npos) << error;

  Leaf web = ca_.svid("web");
  TlsClient client(port_, &web, ca_.certPem());
  ASSERT_TRUE(client.handshakeOk());
  EXPECT_TRUE(client.echoes("still served"));

  // A snapshot whose root does not parse is refused.
  InboundOptions options;
  options.roots = {"nonsense"};
  error = pool_.apply(inboundSnapshot(port_, app.port(), options));
  EXPECT_NE(error.find("trusted root 1"), std::string::npos) << error;
}

TEST_F(MtlsTest, SetIdentitySwitchesNewConnectionsAndOpenOnesCarryOn) {
  Backend app;
  startInbound({}, app);
  Leaf web = ca_.svid("web");
  TlsClient first(port_, &web, ca_.certPem());
  ASSERT_TRUE(first.handshakeOk());
  ASSERT_TRUE(first.echoes("before"));
  X509* firstCert = SSL_get0_peer_certificate(first.ssl());

  auto renewed = test_pki::makeIdentity(ca_, {"backend", "web"});
  ASSERT_EQ(pool_.setIdentity(renewed), "");
  TlsClient second(port_, &web, ca_.certPem());
  ASSERT_TRUE(second.handshakeOk());
  X509* secondCert = SSL_get0_peer_certificate(second.ssl());
  EXPECT_NE(X509_cmp(firstCert, secondCert), 0);
  EXPECT_EQ(presentedSans(second.ssl()), std::vector<std::string>{"spiffe://default/backend"});
  EXPECT_TRUE(second.echoes("after"));
  EXPECT_TRUE(first.echoes("still open"));
}

TEST_F(MtlsTest, InboundSessionsResume) {
  Backend app;
  startInbound({}, app);
  Leaf web = ca_.svid("web");
  SSL_SESSION* session = nullptr;
  {
    TlsClient first(port_, &web, ca_.certPem());
    ASSERT_TRUE(first.echoes("one"));  // TLS 1.3 tickets arrive after the handshake
    session = SSL_get1_session(first.ssl());
    EXPECT_FALSE(SSL_session_reused(first.ssl()));
    // A connection freed without close_notify makes OpenSSL drop its session.
    first.closeNotify();
  }
  ASSERT_NE(session, nullptr);
  // A configuration change with the same identity and roots keeps the TLS contexts (and so the
  // ticket keys).
  InboundOptions changed;
  changed.roots = {ca_.certPem()};
  changed.enforce = true;
  changed.rules = {rule(PermissionRule::Match::kAny, "", PermissionAction::kAllow, "all")};
  ASSERT_EQ(pool_.apply(inboundSnapshot(port_, app.port(), changed)), "");
  TlsClient second(port_, &web, ca_.certPem(), session);
  SSL_SESSION_free(session);
  ASSERT_TRUE(second.handshakeOk());
  EXPECT_TRUE(SSL_session_reused(second.ssl()));
  EXPECT_TRUE(second.echoes("two"));
  EXPECT_TRUE(waitFor([&] { return value(counters_->sslHandshakes) == 2; }));
}

TEST_F(MtlsTest, Tls12ClientsAreServedAndResume) {
  Backend app;
  startInbound({}, app);
  Leaf web = ca_.svid("web");
  SSL_SESSION* session = nullptr;
  {
    TlsClient first(port_, &web, ca_.certPem(), nullptr, TLS1_2_VERSION);
    ASSERT_TRUE(first.handshakeOk());
    EXPECT_EQ(SSL_version(first.ssl()), TLS1_2_VERSION);
    EXPECT_TRUE(first.echoes("tls 1.2"));
    first.closeNotify();
    session = SSL_get1_session(first.ssl());
  }
  TlsClient second(port_, &web, ca_.certPem(), session, TLS1_2_VERSION);
  SSL_SESSION_free(session);
  ASSERT_TRUE(second.handshakeOk());
  EXPECT_TRUE(SSL_session_reused(second.ssl()));
  EXPECT_TRUE(second.echoes("resumed"));
  // Forward secrecy: the TLS 1.2 suite is an ECDHE one.
  EXPECT_NE(std::string(SSL_get_cipher_name(second.ssl())).find("ECDHE"), std::string::npos);
}

// Outbound proxy A (identity "web") → inbound proxy B (identity "backend") → echo app.
class ProxyToProxyTest : public MtlsTest {
 protected:
  void start(const std::string& expectedSan, Backend& app) {
    InboundOptions options;
    options.enforce = true;
    options.rules = {rule(PermissionRule::Match::kExact, "spiffe://default/web",
                          PermissionAction::kAllow, "allow-web")};
    startInbound(options, app);
    auto cluster = makeCluster("backend", {port_});
    cluster.tls.enabled = true;
    cluster.tls.identity = "web";
    cluster.tls.expectedSan = expectedSan;
    cluster.tls.sni = "backend{mesh=default}";
    outboundPort_ = freePort();
    auto snapshot = std::make_shared<Snapshot>(*makeSnapshot(
        "1", {makeListener("outbound:backend", outboundPort_, "backend")}, {cluster}));
    snapshot->mtls = mtlsWith({ca_.certPem()});
    snapshot->identities = {"web"};
    ASSERT_EQ(outbound_.setIdentity(test_pki::makeIdentity(ca_, {"web"})), "");
    ASSERT_EQ(outbound_.apply(snapshot), "");
    cluster_ = outboundStats_.cluster("backend");
  }

  Stats outboundStats_;
  WorkerPool outbound_{2, outboundStats_};
  uint16_t outboundPort_ = 0;
  std::shared_ptr<ClusterCounters> cluster_;
};

TEST_F(ProxyToProxyTest, MutualTlsBetweenProxiesWithHalfCloseAndResumption) {
  Backend app;
  start("spiffe://default/backend", app);
  for (int i = 0; i < 3; ++i) {
    int fd = connectTo(outboundPort_);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(sendAll(fd, "abc"));
    EXPECT_EQ(readExactly(fd, 3), "abc");
    // EOF from the app side goes through as close_notify and back as the app's EOF.
    shutdown(fd, SHUT_WR);
    bool eof = false;
    EXPECT_EQ(readToEof(fd, &eof), "bye");
    EXPECT_TRUE(eof);
    close(fd);
  }
  EXPECT_EQ(app.accepted(), 3);
  EXPECT_EQ(value(counters_->rbacAllowed), 3u);
  EXPECT_EQ(value(cluster_->upstreamSslHandshakeErrors), 0u);
  // The second and third connections resumed the session the first one got.
  EXPECT_EQ(value(cluster_->upstreamSslSessionReused), 2u);
  EXPECT_TRUE(waitFor([&] { return pool_.activeConnections() == 0; }));
}

TEST_F(ProxyToProxyTest, BulkTransferBothWays) {
  Backend app;
  start("spiffe://default/backend", app);
  int fd = connectTo(outboundPort_);
  ASSERT_GE(fd, 0);
  const std::string data = pattern(8 * 1024 * 1024 + 123);
  std::thread writer([&] {
    sendAll(fd, data);
    shutdown(fd, SHUT_WR);
  });
  bool eof = false;
  std::string back = readToEof(fd, &eof);
  writer.join();
  close(fd);
  EXPECT_TRUE(eof);
  ASSERT_EQ(back.size(), data.size() + 3);
  EXPECT_TRUE(back.compare(0, data.size(), data) == 0);
  EXPECT_EQ(back.substr(data.size()), "bye");
  EXPECT_EQ(outbound_.pipesInUse(), 0u);
}

TEST_F(ProxyToProxyTest, AnUnexpectedServerIdentityFailsTheAttempt) {
  Backend app;
  start("spiffe://default/somebody-else", app);
  int fd = connectTo(outboundPort_);
  ASSERT_GE(fd, 0);
  sendAll(fd, "x");
  bool eof = false;
  EXPECT_EQ(readToEof(fd, &eof), "");
  close(fd);
  EXPECT_TRUE(waitFor([&] { return value(cluster_->upstreamSslHandshakeErrors) >= 1; }));
  EXPECT_GE(value(cluster_->connectFailures), 1u);
  EXPECT_EQ(app.bytesRead(), 0u);
}

TEST_F(ProxyToProxyTest, AClusterWithoutItsCertificateClosesConnections) {
  Backend app;
  start("spiffe://default/backend", app);
  // Renewed without the "web" certificate the cluster presents.
  ASSERT_EQ(outbound_.setIdentity(test_pki::makeIdentity(ca_, {"other"})), "");
  EXPECT_FALSE(outbound_.identityReady());
  int fd = connectTo(outboundPort_);
  ASSERT_GE(fd, 0);
  sendAll(fd, "x");
  EXPECT_EQ(readToEof(fd), "");
  close(fd);
  EXPECT_TRUE(waitFor([&] { return value(cluster_->upstreamSslHandshakeErrors) == 1; }));
  EXPECT_EQ(app.accepted(), 0);
}

TEST(PermissionsTest, FirstMatchDecidesAndPlaintextMatchesOnlyAny) {
  using Match = PermissionRule::Match;
  std::vector<PermissionRule> rules = {
      rule(Match::kExact, "spiffe://default/a", PermissionAction::kDeny, "p1"),
      rule(Match::kPrefix, "spiffe://default/", PermissionAction::kAllow, "p2"),
      rule(Match::kAny, "", PermissionAction::kAllowWithShadowDeny, "p3"),
  };
  auto decide = [&](const std::string& caller) {
    return tcp_proxy::evaluatePermissions(rules, caller);
  };
  EXPECT_EQ(decide("spiffe://default/a").action, PermissionAction::kDeny);
  EXPECT_EQ(decide("spiffe://default/b").action, PermissionAction::kAllow);
  EXPECT_EQ(decide("spiffe://other/b").rule->policy, "p3");
  EXPECT_EQ(decide("").rule->policy, "p3");
  rules.pop_back();
  EXPECT_EQ(decide("").action, PermissionAction::kDeny);
  EXPECT_EQ(decide("").rule, nullptr);
  EXPECT_EQ(tcp_proxy::evaluatePermissions({}, "spiffe://default/a").action,
            PermissionAction::kDeny);
}

TEST(DenyResponseTest, WaitsForTheRequestHead) {
  EXPECT_FALSE(tcp_proxy::httpDenyAnswer("", false));
  EXPECT_FALSE(tcp_proxy::httpDenyAnswer("GET / HTTP/1.1\r\nHost: x\r\n", false));
  EXPECT_EQ(tcp_proxy::httpDenyAnswer("GET / HTTP/1.1\r\nHost: x\r\n\r\n", false),
            tcp_proxy::http1Forbidden());
  EXPECT_EQ(tcp_proxy::httpDenyAnswer("GET / HT", true), tcp_proxy::http1Forbidden());
  // HTTP/2: the preface alone is not enough; a HEADERS frame names the stream.
  EXPECT_FALSE(tcp_proxy::httpDenyAnswer("PRI * HTTP/2.0\r\n", false));
  EXPECT_EQ(tcp_proxy::httpDenyAnswer("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", true),
            tcp_proxy::http2Forbidden(0));
  // Once the server's SETTINGS went out ahead, the answer leaves them out.
  EXPECT_TRUE(tcp_proxy::http2PrefaceComplete("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
  EXPECT_FALSE(tcp_proxy::http2PrefaceComplete("PRI * HTTP/2.0\r\n"));
  EXPECT_EQ(tcp_proxy::httpDenyAnswer("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", true, true),
            tcp_proxy::http2Forbidden(0, false));
  EXPECT_EQ(tcp_proxy::http2ServerSettings() + tcp_proxy::http2Forbidden(1, false),
            tcp_proxy::http2Forbidden(1));
}

}  // namespace
}  // namespace braid::dataplane
