#include "control-plane/ca/mesh_ca.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/spiffe/svid.h"

namespace braid::ca {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::seconds;
using std::chrono::system_clock;

struct ReqDeleter {
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
};
struct StoreDeleter {
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
};
struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};

// Whole seconds, as certificates keep them.
TimePoint nowSeconds() { return std::chrono::time_point_cast<seconds>(system_clock::now()); }

struct TestCa {
  std::string certPem, keyPem;
};

TestCa makeRoot(TimePoint notBefore, TimePoint notAfter, const std::string& cn = "test root") {
  std::string error;
  PkeyPtr key = generateP256Key(error);
  CertSpec spec{
      .commonName = cn, .isCa = true, .sans = {}, .notBefore = notBefore, .notAfter = notAfter};
  X509Ptr cert = issueCert(spec, key.get(), nullptr, nullptr, error);
  EXPECT_TRUE(cert) << error;
  return {certToPem(cert.get()), privateKeyToPem(key.get())};
}

TestCa makeRoot() { return makeRoot(nowSeconds() - hours(1), nowSeconds() + hours(24 * 365)); }

// A CA signed by `issuer` (self-signed when null) with the given basicConstraints; unlike
// issueCert's roots (pathlen:0), a root made here can sign an intermediate.
TestCa makeCa(const TestCa* issuer, const char* basicConstraints, const char* cn) {
  std::string error;
  PkeyPtr key = generateP256Key(error);
  X509Ptr issuerCert = issuer ? parseCertPem(issuer->certPem, error) : nullptr;
  PkeyPtr issuerKey = issuer ? parsePrivateKeyPem(issuer->keyPem, error) : nullptr;
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  EXPECT_TRUE(setRandomSerial(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600L * 24 * 30);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* signerCert = issuer ? issuerCert.get() : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signerCert));
  X509_set_pubkey(cert.get(), key.get());
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, signerCert, cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, basicConstraints},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                            std::pair{NID_subject_key_identifier, "hash"},
                            std::pair{NID_authority_key_identifier, "keyid:always"}}) {
    X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
    EXPECT_NE(ext, nullptr) << value;
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  EXPECT_GT(X509_sign(cert.get(), issuer ? issuerKey.get() : key.get(), EVP_sha256()), 0);
  return {certToPem(cert.get()), privateKeyToPem(key.get())};
}

// A PEM CSR for `key` that asks for things the CA must ignore. `signer` (default: `key`) signs it.
std::string makeCsr(EVP_PKEY* key, EVP_PKEY* signer = nullptr) {
  std::unique_ptr<X509_REQ, ReqDeleter> req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), key);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("admin"), -1, -1, 0);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, nullptr, nullptr, req.get(), nullptr, 0);
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(
      exts, X509V3_EXT_nconf_nid(nullptr, &ctx, NID_subject_alt_name,
                                 "URI:spiffe://default/admin,DNS:evil.example.com,DNS:backend"));
  sk_X509_EXTENSION_push(
      exts, X509V3_EXT_nconf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE"));
  X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  EXPECT_GT(X509_REQ_sign(req.get(), signer != nullptr ? signer : key, EVP_sha256()), 0);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(bio, req.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

Json builtinBackend(const std::string& name, const std::string& expiration = "") {
  Json b = {{"name", name}, {"type", "builtin"}, {"mode", "STRICT"}};
  if (!expiration.empty()) b["dpCert"] = {{"rotation", {{"expiration", expiration}}}};
  return b;
}

Json providedBackend(const std::string& name, const Json& cert, const Json& key) {
  return {{"name", name}, {"type", "provided"}, {"conf", {{"cert", cert}, {"key", key}}}};
}

Json mesh(const std::vector<Json>& backends, const std::string& enabled = "",
          const std::string& name = "default") {
  Json m = {{"type", "Mesh"}, {"name", name}, {"mtls", {{"backends", Json(backends)}}}};
  if (!enabled.empty()) m["mtls"]["enabledBackend"] = enabled;
  return m;
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// All certificates in a PEM chain.
std::vector<X509Ptr> parseChain(const std::string& pem) {
  std::vector<X509Ptr> out;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) out.emplace_back(cert);
  BIO_free(bio);
  return out;
}

// X509_verify_cert of the chain's leaf (rest of the chain untrusted) against `rootPem`.
bool verifies(const std::string& chainPem, const std::string& rootPem, std::string& why) {
  std::vector<X509Ptr> chain = parseChain(chainPem);
  std::string error;
  X509Ptr root = parseCertPem(rootPem, error);
  if (chain.empty() || !root) return false;
  std::unique_ptr<X509_STORE, StoreDeleter> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), root.get());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted, chain[i].get());
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get(), untrusted);
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_X509_STRICT);
  bool ok = X509_verify_cert(ctx.get()) == 1;
  why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  sk_X509_free(untrusted);
  return ok;
}

std::vector<std::string> uriSans(X509* cert) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) {
      out.push_back("non-URI");
      continue;
    }
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                     static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

bool isCritical(X509* cert, int nid) {
  int at = X509_get_ext_by_NID(cert, nid, -1);
  return at >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, at)) == 1;
}

std::string nameEntry(X509* cert, int nid) {
  char text[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), nid, text, sizeof text);
  return text;
}

class MeshCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::OpenResult opened = store::openStore("memory");
    ASSERT_TRUE(opened.store) << opened.error;
    store_ = std::move(opened.store);
    ca_ = std::make_unique<MeshCa>(*store_);
    std::string error;
    workloadKey_ = generateP256Key(error);
    ASSERT_TRUE(workloadKey_) << error;
    csr_ = makeCsr(workloadKey_.get());
    char tmpl[] = "/tmp/braid-mesh-ca-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> roots(const Json& meshJson) {
    std::vector<std::string> out;
    std::string error;
    EXPECT_TRUE(ca_->trustedRoots(meshJson, out, error)) << error;
    return out;
  }

  std::string rootsError(const Json& meshJson) {
    std::vector<std::string> out;
    std::string error;
    EXPECT_FALSE(ca_->trustedRoots(meshJson, out, error));
    EXPECT_TRUE(out.empty());
    return error;
  }

  std::vector<IssuedSvid> issue(const Json& meshJson, const std::vector<std::string>& services,
                                std::string* backend = nullptr,
                                std::optional<TimePoint> now = std::nullopt) {
    std::vector<IssuedSvid> out;
    std::string error, used;
    bool ok = now ? ca_->issue(meshJson, csr_, services, out, used, error, *now)
                  : ca_->issue(meshJson, csr_, services, out, used, error);
    EXPECT_TRUE(ok) << error;
    if (backend != nullptr) *backend = used;
    return out;
  }

  std::string issueError(const Json& meshJson, const std::string& csr,
                         const std::vector<std::string>& services = {"backend"}) {
    std::vector<IssuedSvid> out;
    std::string error, used;
    EXPECT_FALSE(ca_->issue(meshJson, csr, services, out, used, error));
    EXPECT_TRUE(out.empty());
    return error;
  }

  std::string writeFile(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    return path;
  }

  std::unique_ptr<store::Store> store_;
  std::unique_ptr<MeshCa> ca_;
  PkeyPtr workloadKey_;
  std::string csr_;
  std::string dir_;
};

TEST_F(MeshCaTest, BuiltinRootIsCreatedOnceStoredAndReused) {
  Json m = mesh({builtinBackend("ca-1")}, "ca-1");
  std::vector<std::string> first = roots(m);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(roots(m), first);
  MeshCa other(*store_);
  std::vector<std::string> fromOther;
  std::string error;
  ASSERT_TRUE(other.trustedRoots(m, fromOther, error)) << error;
  EXPECT_EQ(fromOther, first);

  store::GetResult record = store_->get({"MeshCaRoot", "default", "ca-builtin-cert-ca-1"});
  ASSERT_TRUE(record.record);
  Json content = Json::parse(record.record->content);
  EXPECT_EQ(content.at("cert").get<std::string>(), first[0]);
  EXPECT_TRUE(parsePrivateKeyPem(content.at("key").get<std::string>(), error)) << error;

  X509Ptr root = parseCertPem(first[0], error);
  ASSERT_TRUE(root);
  EXPECT_EQ(nameEntry(root.get(), NID_commonName), "default ca-1 CA");
  EXPECT_EQ(X509_self_signed(root.get(), 1), 1);
  X509_check_purpose(root.get(), -1, 0);
  EXPECT_TRUE(X509_get_extension_flags(root.get()) & EXFLAG_CA);
  EXPECT_TRUE(isCritical(root.get(), NID_basic_constraints));
  EXPECT_TRUE(isCritical(root.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(root.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_NE(X509_get0_subject_key_id(root.get()), nullptr);
  EVP_PKEY* key = X509_get0_pubkey(root.get());
  char group[64] = {};
  size_t len = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(key, group, sizeof group, &len), 1);
  EXPECT_STREQ(group, "prime256v1");
  TimePoint notBefore, notAfter;
  ASSERT_TRUE(certValidity(root.get(), notBefore, notAfter));
  EXPECT_GT(notAfter - system_clock::now(), hours(24 * 365 * 10 - 48));
}

TEST_F(MeshCaTest, BuiltinRootPersistsInSqlite) {
  std::string path = "sqlite:" + dir_ + "/store.db";
  Json m = mesh({builtinBackend("ca-1")}, "ca-1");
  std::vector<std::string> first, second;
  std::string error;
  {
    store::OpenResult opened = store::openStore(path);
    ASSERT_TRUE(opened.store) << opened.error;
    MeshCa ca(*opened.store);
    ASSERT_TRUE(ca.trustedRoots(m, first, error)) << error;
  }
  store::OpenResult reopened = store::openStore(path);
  ASSERT_TRUE(reopened.store) << reopened.error;
  MeshCa ca(*reopened.store);
  ASSERT_TRUE(ca.trustedRoots(m, second, error)) << error;
  EXPECT_EQ(first, second);
}

TEST_F(MeshCaTest, ConcurrentCaInstancesAgreeOnOneBuiltinRoot) {
  Json m = mesh({builtinBackend("ca-1")}, "ca-1");
  constexpr int kThreads = 6;
  std::vector<std::vector<std::string>> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      MeshCa ca(*store_);  // each thread plays a separate CP sharing the store
      std::string error;
      EXPECT_TRUE(ca.trustedRoots(m, results[i], error)) << error;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r, roots(m));
}

TEST_F(MeshCaTest, TwoBackendsGiveTwoRootsInOrderAndMeshesAreSeparate) {
  std::vector<std::string> r = roots(mesh({builtinBackend("ca-1"), builtinBackend("ca-2")}));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_NE(r[0], r[1]);
  EXPECT_EQ(roots(mesh({builtinBackend("ca-2")})), std::vector<std::string>{r[1]});
  std::vector<std::string> other = roots(mesh({builtinBackend("ca-1")}, "", "other"));
  ASSERT_EQ(other.size(), 1u);
  EXPECT_NE(other[0], r[0]);
  EXPECT_TRUE(roots(Json{{"type", "Mesh"}, {"name", "plain"}}).empty());
}

TEST_F(MeshCaTest, ProvidedFromInlineStringInlineAndFile) {
  TestCa a = makeRoot(), b = makeRoot(), c = makeRoot();
  std::string certPath = writeFile("c.pem", c.certPem), keyPath = writeFile("c-key.pem", c.keyPem);
  Json m = mesh({
      providedBackend("ca-a", {{"inlineString", a.certPem}}, {{"inlineString", a.keyPem}}),
      providedBackend("ca-b", {{"inline", base64(b.certPem)}}, {{"inline", base64(b.keyPem)}}),
      providedBackend("ca-c", {{"file", certPath}}, {{"file", keyPath}}),
  });
  std::vector<std::string> r = roots(m);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], a.certPem);
  EXPECT_EQ(r[1], b.certPem);
  EXPECT_EQ(r[2], c.certPem);

  // The file changes (a rotated CA): the next call sees it, the cache notwithstanding.
  TestCa d = makeRoot();
  writeFile("c.pem", d.certPem);
  writeFile("c-key.pem", d.keyPem);
  EXPECT_EQ(roots(m)[2], d.certPem);
}

TEST_F(MeshCaTest, ProvidedErrorsNameMeshBackendAndField) {
  TestCa good = makeRoot(), other = makeRoot();
  Json missing =
      mesh({builtinBackend("ca-1"), providedBackend("ca-2", {{"file", "/nonexistent/ca.pem"}},
                                                    {{"inlineString", good.keyPem}})});
  EXPECT_EQ(rootsError(missing),
            "mesh default: backend ca-2: conf.cert: file /nonexistent/ca.pem: No such file or "
            "directory");

  std::string error;
  PkeyPtr leafKey = generateP256Key(error);
  X509Ptr goodCert = parseCertPem(good.certPem, error);
  PkeyPtr goodKey = parsePrivateKeyPem(good.keyPem, error);
  CertSpec leafSpec{.commonName = "leaf",
                    .isCa = false,
                    .sans = {"DNS:leaf"},
                    .notBefore = nowSeconds() - hours(1),
                    .notAfter = nowSeconds() + hours(10)};
  X509Ptr leaf = issueCert(leafSpec, leafKey.get(), goodCert.get(), goodKey.get(), error);
  ASSERT_TRUE(leaf) << error;
  std::string notCa =
      rootsError(mesh({providedBackend("ca-2", {{"inlineString", certToPem(leaf.get())}},
                                       {{"inlineString", privateKeyToPem(leafKey.get())}})}));
  EXPECT_EQ(notCa.rfind("mesh default: backend ca-2: conf.cert: ", 0), 0u) << notCa;
  EXPECT_NE(notCa.find("not a CA"), std::string::npos) << notCa;

  std::string mismatch = rootsError(mesh({providedBackend("ca-2", {{"inlineString", good.certPem}},
                                                          {{"inlineString", other.keyPem}})}));
  EXPECT_EQ(mismatch,
            "mesh default: backend ca-2: conf.key: does not match the certificate in "
            "conf.cert");

  TestCa expired = makeRoot(nowSeconds() - hours(48), nowSeconds() - hours(24));
  std::string old = rootsError(mesh({providedBackend("ca-2", {{"inlineString", expired.certPem}},
                                                     {{"inlineString", expired.keyPem}})}));
  EXPECT_EQ(old.rfind("mesh default: backend ca-2: conf.cert: ", 0), 0u) << old;
  EXPECT_NE(old.find("expired"), std::string::npos) << old;

  std::string garbage = rootsError(mesh({providedBackend("ca-2", {{"inlineString", "not a cert"}},
                                                         {{"inlineString", good.keyPem}})}));
  EXPECT_EQ(garbage.rfind("mesh default: backend ca-2: conf.cert: ", 0), 0u) << garbage;
  std::string badBase64 = rootsError(
      mesh({providedBackend("ca-2", {{"inlineString", good.certPem}}, {{"inline", "!!!"}})}));
  EXPECT_EQ(badBase64, "mesh default: backend ca-2: conf.key: inline: is not valid base64");
}

TEST_F(MeshCaTest, LeafIsAnSvidForTheServiceWhateverTheCsrAsked) {
  Json m = mesh({builtinBackend("ca-1")}, "ca-1");
  std::string backend;
  std::vector<IssuedSvid> svids = issue(m, {"backend"}, &backend);
  EXPECT_EQ(backend, "ca-1");
  ASSERT_EQ(svids.size(), 1u);
  EXPECT_EQ(svids[0].service, "backend");
  std::vector<X509Ptr> chain = parseChain(svids[0].certChainPem);
  ASSERT_EQ(chain.size(), 1u);  // the builtin root is self-signed: not in the chain
  X509* leaf = chain[0].get();

  std::string why;
  EXPECT_TRUE(verifies(svids[0].certChainPem, roots(m)[0], why)) << why;
  EXPECT_EQ(uriSans(leaf), std::vector<std::string>{"spiffe://default/backend"});
  spiffe::SpiffeId id;
  std::string error;
  EXPECT_TRUE(spiffe::checkSvid(leaf, "default", id, error)) << error;
  EXPECT_EQ(id.str(), "spiffe://default/backend");

  X509_check_purpose(leaf, -1, 0);
  EXPECT_FALSE(X509_get_extension_flags(leaf) & EXFLAG_CA);
  EXPECT_TRUE(isCritical(leaf, NID_basic_constraints));
  EXPECT_TRUE(isCritical(leaf, NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(leaf), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(leaf),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  EXPECT_NE(X509_get0_subject_key_id(leaf), nullptr);
  EXPECT_NE(X509_get0_authority_key_id(leaf), nullptr);
  EXPECT_EQ(nameEntry(leaf, NID_commonName), "backend");
  EXPECT_EQ(nameEntry(leaf, NID_organizationName), "default");
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(leaf), workloadKey_.get()), 1);
  const ASN1_INTEGER* serial = X509_get0_serialNumber(leaf);
  EXPECT_GE(ASN1_STRING_length(serial), 15);  // 128 random bits (a leading zero byte may go)

  // A second certificate gets a different serial.
  std::vector<IssuedSvid> again = issue(m, {"backend"});
  std::vector<X509Ptr> chain2 = parseChain(again[0].certChainPem);
  EXPECT_NE(ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(chain2[0].get())), 0);
}

TEST_F(MeshCaTest, LifetimeComesFromTheBackendAndDefaultsTo24h) {
  TimePoint now = nowSeconds();
  std::vector<IssuedSvid> short45 =
      issue(mesh({builtinBackend("ca-1", "45s")}, "ca-1"), {"backend"}, nullptr, now);
  ASSERT_EQ(short45.size(), 1u);
  EXPECT_EQ(short45[0].notBefore, now - seconds(60));
  EXPECT_EQ(short45[0].notAfter, now + seconds(45));

  std::vector<IssuedSvid> byDefault =
      issue(mesh({builtinBackend("ca-1")}, "ca-1"), {"backend"}, nullptr, now);
  EXPECT_EQ(byDefault[0].notAfter, now + hours(24));
  std::vector<IssuedSvid> days =
      issue(mesh({builtinBackend("ca-1", "2d")}, "ca-1"), {"backend"}, nullptr, now);
  EXPECT_EQ(days[0].notAfter, now + hours(48));
  // The struct's times are the certificate's.
  std::vector<X509Ptr> chain = parseChain(days[0].certChainPem);
  TimePoint notBefore, notAfter;
  ASSERT_TRUE(certValidity(chain[0].get(), notBefore, notAfter));
  EXPECT_EQ(notAfter, days[0].notAfter);
  EXPECT_EQ(notBefore, days[0].notBefore);
}

TEST_F(MeshCaTest, LifetimeIsCappedByTheCaAndAnIntermediateJoinsTheChain) {
  TimePoint caEnd = nowSeconds() + hours(1);
  TestCa soon = makeRoot(nowSeconds() - hours(1), caEnd);
  Json m = mesh(
      {providedBackend("ca-p", {{"inlineString", soon.certPem}}, {{"inlineString", soon.keyPem}})},
      "ca-p");
  std::vector<IssuedSvid> svids = issue(m, {"backend"});
  ASSERT_EQ(svids.size(), 1u);
  EXPECT_EQ(svids[0].notAfter, caEnd);

  TestCa root = makeCa(nullptr, "critical,CA:TRUE", "root");
  TestCa intermediate = makeCa(&root, "critical,CA:TRUE,pathlen:0", "intermediate");
  Json viaIntermediate = mesh({providedBackend("ca-i", {{"inlineString", intermediate.certPem}},
                                               {{"inlineString", intermediate.keyPem}})},
                              "ca-i");
  std::vector<IssuedSvid> chained = issue(viaIntermediate, {"backend"});
  ASSERT_EQ(parseChain(chained[0].certChainPem).size(), 2u);
  std::string why;
  EXPECT_TRUE(verifies(chained[0].certChainPem, root.certPem, why)) << why;
}

TEST_F(MeshCaTest, RefusesBadCsrs) {
  Json m = mesh({builtinBackend("ca-1")}, "ca-1");
  std::string error;
  PkeyPtr other = generateP256Key(error);
  EXPECT_NE(issueError(m, makeCsr(workloadKey_.get(), other.get())).find("signature"),
            std::string::npos);

  PkeyPtr rsa(EVP_RSA_gen(2048));
  ASSERT_TRUE(rsa);
  EXPECT_NE(issueError(m, makeCsr(rsa.get())).find("not an ECDSA P-256 key"), std::string::npos);
  PkeyPtr p384(EVP_EC_gen("P-384"));
  ASSERT_TRUE(p384);
  EXPECT_NE(issueError(m, makeCsr(p384.get())).find("not an ECDSA P-256 key"), std::string::npos);

  EXPECT_NE(issueError(m, "garbage").find("not a PEM certificate request"), std::string::npos);
  EXPECT_NE(issueError(m, "").find("not a PEM certificate request"), std::string::npos);
  // A certificate is not a CSR.
  EXPECT_NE(issueError(m, makeRoot().certPem).find("not a PEM certificate request"),
            std::string::npos);
}

TEST_F(MeshCaTest, RefusesMeshesWithoutMtlsAndBadServices) {
  EXPECT_NE(issueError(mesh({builtinBackend("ca-1")}), csr_).find("mTLS is not enabled"),
            std::string::npos);
  EXPECT_NE(issueError(Json{{"type", "Mesh"}, {"name", "default"}}, csr_).find("not enabled"),
            std::string::npos);
  Json m = mesh({builtinBackend("ca-1")}, "ca-1");
  EXPECT_EQ(issueError(m, csr_, {}), "mesh default: no service to issue a certificate for");
  for (const std::string bad : {"a/b", "", "..", "web?x"}) {
    std::string error = issueError(m, csr_, {"web", bad});
    EXPECT_EQ(error.rfind("mesh default: service '" + bad + "': ", 0), 0u) << error;
  }
  EXPECT_NE(issueError(mesh({builtinBackend("ca-1")}, "ca-1", "Upper"), csr_).find("service"),
            std::string::npos);
}

TEST_F(MeshCaTest, EnabledBackendSwitchChangesTheSigner) {
  std::vector<Json> backends = {builtinBackend("ca-1"), builtinBackend("ca-2")};
  std::vector<std::string> r = roots(mesh(backends));
  ASSERT_EQ(r.size(), 2u);
  std::string backend, why;

  std::vector<IssuedSvid> one = issue(mesh(backends, "ca-1"), {"backend"}, &backend);
  EXPECT_EQ(backend, "ca-1");
  EXPECT_TRUE(verifies(one[0].certChainPem, r[0], why)) << why;
  EXPECT_FALSE(verifies(one[0].certChainPem, r[1], why));

  std::vector<IssuedSvid> two = issue(mesh(backends, "ca-2"), {"backend"}, &backend);
  EXPECT_EQ(backend, "ca-2");
  EXPECT_TRUE(verifies(two[0].certChainPem, r[1], why)) << why;
  EXPECT_FALSE(verifies(two[0].certChainPem, r[0], why));
}

TEST_F(MeshCaTest, OneCertificatePerDistinctService) {
  Json m = mesh({builtinBackend("ca-1")}, "ca-1");
  std::vector<IssuedSvid> svids = issue(m, {"web", "backend", "web"});
  ASSERT_EQ(svids.size(), 2u);
  EXPECT_EQ(svids[0].service, "web");
  EXPECT_EQ(svids[1].service, "backend");
  EXPECT_EQ(uriSans(parseChain(svids[0].certChainPem)[0].get()),
            std::vector<std::string>{"spiffe://default/web"});
  EXPECT_EQ(uriSans(parseChain(svids[1].certChainPem)[0].get()),
            std::vector<std::string>{"spiffe://default/backend"});
}

TEST(KumaDurationTest, ParsesTheUnitsTheMeshValidatorAccepts) {
  using std::chrono::nanoseconds;
  EXPECT_EQ(parseKumaDuration("24h"), nanoseconds(hours(24)));
  EXPECT_EQ(parseKumaDuration("30d"), nanoseconds(hours(24 * 30)));
  EXPECT_EQ(parseKumaDuration("2w"), nanoseconds(hours(24 * 14)));
  EXPECT_EQ(parseKumaDuration("1y"), nanoseconds(hours(24 * 365)));
  EXPECT_EQ(parseKumaDuration("90s"), nanoseconds(seconds(90)));
  EXPECT_EQ(parseKumaDuration("5m"), nanoseconds(seconds(300)));
  EXPECT_EQ(parseKumaDuration("500ms"), nanoseconds(500000000));
  EXPECT_EQ(parseKumaDuration("0"), nanoseconds(0));
  for (const char* bad :
       {"", "h", "1", "1.5h", "1h30m", "-1h", "1x", "10000000000000y", "999999999999999999y"}) {
    EXPECT_FALSE(parseKumaDuration(bad)) << bad;
  }
}

}  // namespace
}  // namespace braid::ca
