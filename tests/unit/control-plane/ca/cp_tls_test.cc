#include "control-plane/ca/cp_tls.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "control-plane/ca/x509_util.h"

namespace braid::ca {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::system_clock;

constexpr auto kDay = hours(24);

class CpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/braid-cp-tls-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  std::string read(const std::string& name) const {
    std::ifstream in(path(name), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  void write(const std::string& name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary | std::ios::trunc) << content;
  }

  mode_t mode(const std::string& name) const {
    struct stat st {};
    EXPECT_EQ(::stat(path(name).c_str(), &st), 0) << name;
    return st.st_mode & 07777;
  }

  CpTlsMaterial load(const std::vector<std::string>& hosts) const {
    CpTlsMaterial m;
    std::string error;
    EXPECT_TRUE(loadOrCreateCpTls(dir_, hosts, m, error)) << error;
    return m;
  }

  std::string loadError(const std::vector<std::string>& hosts) const {
    CpTlsMaterial m;
    std::string error;
    EXPECT_FALSE(loadOrCreateCpTls(dir_, hosts, m, error));
    return error;
  }

  std::string dir_;
};

// Runs a shell command; returns its exit status and fills `output` with stdout+stderr.
int run(const std::string& command, std::string& output) {
  output.clear();
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

X509Ptr parse(const std::string& pem) {
  std::string error;
  X509Ptr cert = parseCertPem(pem, error);
  EXPECT_TRUE(cert) << error;
  return cert;
}

system_clock::time_point notAfterOf(const std::string& pem) {
  X509Ptr cert = parse(pem);
  system_clock::time_point notBefore, notAfter;
  EXPECT_TRUE(cert && certValidity(cert.get(), notBefore, notAfter));
  return notAfter;
}

const std::vector<std::string> kHosts{"localhost", "127.0.0.1", "::1", "cp.example.com"};

TEST_F(CpTlsTest, FirstCallCreatesTheFourFilesWithTheirModes) {
  // A permissive umask must not make a key readable, a strict one must not hide a certificate.
  mode_t old = ::umask(0);
  CpTlsMaterial m = load(kHosts);
  ::umask(old);
  EXPECT_EQ(mode("cp-ca.pem"), 0644u);
  EXPECT_EQ(mode("cp-ca-key.pem"), 0600u);
  EXPECT_EQ(mode("cp-server.pem"), 0644u);
  EXPECT_EQ(mode("cp-server-key.pem"), 0600u);
  EXPECT_EQ(m.caCertPem, read("cp-ca.pem"));
  EXPECT_EQ(m.serverCertPem, read("cp-server.pem"));
  EXPECT_EQ(m.serverKeyPem, read("cp-server-key.pem"));
  EXPECT_EQ(m.serverKeyPem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
  EXPECT_EQ(read("cp-ca-key.pem").rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
  // The leaf alone: one certificate, not a chain.
  EXPECT_EQ(m.serverCertPem.find("BEGIN CERTIFICATE"), m.serverCertPem.rfind("BEGIN CERTIFICATE"));
  EXPECT_NE(m.serverCertPem, m.caCertPem);
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 4u) << "no temp file is left behind";

  old = ::umask(077);
  fs::remove(path("cp-server.pem"));
  load(kHosts);
  ::umask(old);
  EXPECT_EQ(mode("cp-server.pem"), 0644u);
}

TEST_F(CpTlsTest, OpensslVerifiesTheServerCertificateWithTheCa) {
  load(kHosts);
  std::string out;
  std::string verify = "openssl verify -CAfile " + path("cp-ca.pem") + " -purpose sslserver ";
  EXPECT_EQ(run(verify + path("cp-server.pem"), out), 0) << out;
  EXPECT_NE(out.find(": OK"), std::string::npos) << out;
  EXPECT_EQ(run(verify + "-verify_hostname cp.example.com " + path("cp-server.pem"), out), 0)
      << out;
  EXPECT_EQ(run(verify + "-verify_ip ::1 " + path("cp-server.pem"), out), 0) << out;
  EXPECT_NE(run(verify + "-verify_hostname other.example.com " + path("cp-server.pem"), out), 0)
      << out;
  // And the keys are the certificates' keys.
  std::string certKey, keyKey;
  ASSERT_EQ(run("openssl x509 -noout -pubkey -in " + path("cp-ca.pem"), certKey), 0);
  ASSERT_EQ(run("openssl pkey -pubout -in " + path("cp-ca-key.pem"), keyKey), 0);
  EXPECT_EQ(certKey, keyKey);
  ASSERT_EQ(run("openssl x509 -noout -pubkey -in " + path("cp-server.pem"), certKey), 0);
  ASSERT_EQ(run("openssl pkey -pubout -in " + path("cp-server-key.pem"), keyKey), 0);
  EXPECT_EQ(certKey, keyKey);
}

TEST_F(CpTlsTest, TheCaIsAP256RootForTenYears) {
  CpTlsMaterial m = load(kHosts);
  std::string text;
  ASSERT_EQ(run("openssl x509 -noout -text -in " + path("cp-ca.pem"), text), 0) << text;
  EXPECT_NE(text.find("Subject: CN = braid-cp CA"), std::string::npos) << text;
  EXPECT_NE(text.find("Issuer: CN = braid-cp CA"), std::string::npos) << text;
  EXPECT_NE(text.find("ASN1 OID: prime256v1"), std::string::npos) << text;
  EXPECT_NE(text.find("ecdsa-with-SHA256"), std::string::npos) << text;
  EXPECT_NE(text.find("X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("X509v3 Subject Key Identifier"), std::string::npos) << text;
  auto years = (notAfterOf(m.caCertPem) - system_clock::now()) / kDay;
  EXPECT_GE(years, 3649);
  EXPECT_LE(years, 3650);
}

TEST_F(CpTlsTest, TheServerCertificateHasExactlyTheRequestedSans) {
  CpTlsMaterial m = load({"localhost", "127.0.0.1", "[fd00::1]", "CP.Example.com"});
  X509Ptr cert = parse(m.serverCertPem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(certSans(cert.get()), (std::vector<std::string>{"DNS:localhost", "IP:127.0.0.1",
                                                            "IP:fd00::1", "DNS:cp.example.com"}));
  std::string text;
  ASSERT_EQ(run("openssl x509 -noout -text -in " + path("cp-server.pem"), text), 0) << text;
  EXPECT_NE(text.find("DNS:localhost, IP Address:127.0.0.1, IP Address:FD00:0:0:0:0:0:0:1, "
                      "DNS:cp.example.com\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("X509v3 Extended Key Usage: \n                TLS Web Server Authentication\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("X509v3 Basic Constraints: critical\n                CA:FALSE"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("X509v3 Key Usage: critical\n                Digital Signature\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("X509v3 Authority Key Identifier"), std::string::npos) << text;
  EXPECT_NE(text.find("X509v3 Subject Key Identifier"), std::string::npos) << text;
  EXPECT_NE(text.find("Subject: CN = braid-cp\n"), std::string::npos) << text;
  auto days = (notAfterOf(m.serverCertPem) - system_clock::now()) / kDay;
  EXPECT_GE(days, 364);
  EXPECT_LE(days, 365);
}

TEST_F(CpTlsTest, SerialsAreRandom128Bit) {
  CpTlsMaterial m = load(kHosts);
  X509Ptr ca = parse(m.caCertPem);
  X509Ptr server = parse(m.serverCertPem);
  ASSERT_TRUE(ca && server);
  BIGNUM* caSerial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(ca.get()), nullptr);
  BIGNUM* serverSerial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(server.get()), nullptr);
  EXPECT_LE(BN_num_bits(caSerial), 128);
  EXPECT_GT(BN_num_bits(caSerial), 64);  // fails with probability 2^-64
  EXPECT_LE(BN_num_bits(serverSerial), 128);
  EXPECT_GT(BN_num_bits(serverSerial), 64);
  EXPECT_NE(BN_cmp(caSerial, serverSerial), 0);
  BN_free(caSerial);
  BN_free(serverSerial);
}

TEST_F(CpTlsTest, ASecondCallReusesEverythingByteForByte) {
  CpTlsMaterial first = load(kHosts);
  std::string caKey = read("cp-ca-key.pem");
  // Same set of hosts in another order, with a duplicate and other spellings of the same names.
  CpTlsMaterial second = load({"::1", "CP.EXAMPLE.COM", "localhost", "[0:0::1]", "127.0.0.1"});
  EXPECT_EQ(second.caCertPem, first.caCertPem);
  EXPECT_EQ(second.serverCertPem, first.serverCertPem);
  EXPECT_EQ(second.serverKeyPem, first.serverKeyPem);
  EXPECT_EQ(read("cp-ca-key.pem"), caKey);
}

TEST_F(CpTlsTest, OtherHostsReissueTheServerCertificateWithTheSameCa) {
  CpTlsMaterial first = load(kHosts);
  CpTlsMaterial second = load({"localhost", "10.0.0.7"});
  EXPECT_EQ(second.caCertPem, first.caCertPem);
  EXPECT_NE(second.serverCertPem, first.serverCertPem);
  EXPECT_NE(second.serverKeyPem, first.serverKeyPem);
  EXPECT_EQ(second.serverCertPem, read("cp-server.pem"));
  X509Ptr cert = parse(second.serverCertPem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(certSans(cert.get()), (std::vector<std::string>{"DNS:localhost", "IP:10.0.0.7"}));
  std::string out;
  EXPECT_EQ(run("openssl verify -CAfile " + path("cp-ca.pem") + " -verify_ip 10.0.0.7 " +
                    path("cp-server.pem"),
                out),
            0)
      << out;
}

TEST_F(CpTlsTest, ACorruptCaIsAnErrorNamingTheFileAndIsKept) {
  load(kHosts);
  write("cp-ca.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
  std::string error = loadError(kHosts);
  EXPECT_NE(error.find(path("cp-ca.pem")), std::string::npos) << error;
  EXPECT_NE(error.find("not a PEM certificate"), std::string::npos) << error;
  EXPECT_EQ(read("cp-ca.pem").find("not base64"), 28u) << "never silently replaced";

  write("cp-ca.pem", "");
  error = loadError(kHosts);
  EXPECT_NE(error.find(path("cp-ca.pem")), std::string::npos) << error;
}

TEST_F(CpTlsTest, ACaWithoutItsKeyIsAnError) {
  load(kHosts);
  fs::remove(path("cp-ca-key.pem"));
  std::string error = loadError(kHosts);
  EXPECT_NE(error.find(path("cp-ca-key.pem") + " is missing"), std::string::npos) << error;

  write("cp-ca-key.pem", "garbage");
  error = loadError(kHosts);
  EXPECT_NE(error.find(path("cp-ca-key.pem") + ": not an unencrypted PEM private key"),
            std::string::npos)
      << error;
}

TEST_F(CpTlsTest, ACaKeyOfAnotherCaIsAnError) {
  load(kHosts);
  std::string otherDir = dir_ + "/other";
  fs::create_directory(otherDir);
  CpTlsMaterial other;
  std::string error;
  ASSERT_TRUE(loadOrCreateCpTls(otherDir, kHosts, other, error)) << error;
  fs::copy_file(otherDir + "/cp-ca-key.pem", path("cp-ca-key.pem"),
                fs::copy_options::overwrite_existing);
  error = loadError(kHosts);
  EXPECT_NE(error.find(path("cp-ca-key.pem") + " is not the key of " + path("cp-ca.pem")),
            std::string::npos)
      << error;
}

TEST_F(CpTlsTest, AServerCertificateAsCaIsAnError) {
  load(kHosts);
  fs::copy_file(path("cp-server.pem"), path("cp-ca.pem"), fs::copy_options::overwrite_existing);
  fs::copy_file(path("cp-server-key.pem"), path("cp-ca-key.pem"),
                fs::copy_options::overwrite_existing);
  std::string error = loadError(kHosts);
  EXPECT_NE(error.find(path("cp-ca.pem") + " is not a CA certificate"), std::string::npos) << error;
}

TEST_F(CpTlsTest, AnExpiredCaIsAnError) {
  CpTlsMaterial m;
  std::string error;
  ASSERT_TRUE(
      detail::loadOrCreateCpTlsAt(dir_, kHosts, system_clock::now() - 3651 * kDay, m, error))
      << error;
  error = loadError(kHosts);
  EXPECT_NE(error.find(path("cp-ca.pem") + " expired on "), std::string::npos) << error;
}

TEST_F(CpTlsTest, AServerCertificateExpiringWithin30DaysIsReissued) {
  CpTlsMaterial old;
  std::string error;
  // Issued 340 days ago: 25 days left.
  ASSERT_TRUE(
      detail::loadOrCreateCpTlsAt(dir_, kHosts, system_clock::now() - 340 * kDay, old, error))
      << error;
  CpTlsMaterial m = load(kHosts);
  EXPECT_EQ(m.caCertPem, old.caCertPem);
  EXPECT_NE(m.serverCertPem, old.serverCertPem);
  EXPECT_GT(notAfterOf(m.serverCertPem), system_clock::now() + 364 * kDay);

  // With 35 days left it is kept.
  ASSERT_TRUE(
      detail::loadOrCreateCpTlsAt(dir_, kHosts, system_clock::now() - 330 * kDay, old, error))
      << error;
  EXPECT_EQ(load(kHosts).serverCertPem, old.serverCertPem);
}

TEST_F(CpTlsTest, TheServerCertificateNeverOutlivesTheCa) {
  CpTlsMaterial m;
  std::string error;
  // The CA made 3600 days ago has 50 days left.
  ASSERT_TRUE(
      detail::loadOrCreateCpTlsAt(dir_, kHosts, system_clock::now() - 3600 * kDay, m, error))
      << error;
  fs::remove(path("cp-server.pem"));
  m = load(kHosts);
  EXPECT_EQ(notAfterOf(m.serverCertPem), notAfterOf(m.caCertPem));
}

TEST_F(CpTlsTest, ServerMaterialThatCannotBeServedIsReissued) {
  CpTlsMaterial first = load(kHosts);
  std::string out;
  auto verifies = [&] {
    return run("openssl verify -CAfile " + path("cp-ca.pem") + " " + path("cp-server.pem"), out) ==
           0;
  };

  write("cp-server.pem", "corrupt");
  CpTlsMaterial m = load(kHosts);
  EXPECT_NE(m.serverCertPem, first.serverCertPem);
  EXPECT_TRUE(verifies()) << out;

  fs::remove(path("cp-server-key.pem"));
  CpTlsMaterial again = load(kHosts);
  EXPECT_NE(again.serverCertPem, m.serverCertPem);
  EXPECT_EQ(again.serverKeyPem, read("cp-server-key.pem"));

  // A key that is not the certificate's.
  write("cp-server-key.pem", first.serverKeyPem);
  CpTlsMaterial third = load(kHosts);
  EXPECT_NE(third.serverKeyPem, first.serverKeyPem);
  EXPECT_EQ(run("openssl x509 -noout -pubkey -in " + path("cp-server.pem"), out), 0);
  std::string keyOut;
  EXPECT_EQ(run("openssl pkey -pubout -in " + path("cp-server-key.pem"), keyOut), 0);
  EXPECT_EQ(out, keyOut);
}

TEST_F(CpTlsTest, AServerCertificateFromAnotherCaIsReissued) {
  load(kHosts);
  std::string otherDir = dir_ + "/other";
  fs::create_directory(otherDir);
  CpTlsMaterial other;
  std::string error;
  ASSERT_TRUE(loadOrCreateCpTls(otherDir, kHosts, other, error)) << error;
  write("cp-server.pem", other.serverCertPem);
  write("cp-server-key.pem", other.serverKeyPem);
  CpTlsMaterial m = load(kHosts);
  EXPECT_NE(m.serverCertPem, other.serverCertPem);
  std::string out;
  EXPECT_EQ(run("openssl verify -CAfile " + path("cp-ca.pem") + " " + path("cp-server.pem"), out),
            0)
      << out;
}

TEST_F(CpTlsTest, AKeyLeftWithoutItsCaCertificateIsReplacedByANewCa) {
  load(kHosts);
  std::string oldKey = read("cp-ca-key.pem");
  fs::remove(path("cp-ca.pem"));
  CpTlsMaterial m = load(kHosts);
  EXPECT_NE(read("cp-ca-key.pem"), oldKey);
  EXPECT_EQ(mode("cp-ca-key.pem"), 0600u);
  std::string out;
  EXPECT_EQ(run("openssl verify -CAfile " + path("cp-ca.pem") + " " + path("cp-server.pem"), out),
            0)
      << out;
}

TEST_F(CpTlsTest, BadArgumentsAreErrors) {
  std::string error = loadError({"localhost", "bad host!"});
  EXPECT_NE(error.find("invalid server certificate host \"bad host!\""), std::string::npos)
      << error;
  EXPECT_NE(loadError({}).find("at least one host"), std::string::npos);
  EXPECT_FALSE(fs::exists(path("cp-ca.pem"))) << "nothing is created for a bad request";

  CpTlsMaterial m;
  EXPECT_FALSE(loadOrCreateCpTls(dir_ + "/missing", kHosts, m, error));
  EXPECT_NE(error.find(dir_ + "/missing"), std::string::npos) << error;
}

TEST(CanonicalSan, IpLiteralsAndDnsNames) {
  EXPECT_EQ(canonicalSan("127.0.0.1"), "IP:127.0.0.1");
  EXPECT_EQ(canonicalSan("::1"), "IP:::1");
  EXPECT_EQ(canonicalSan("[FD00:0:0::1]"), "IP:fd00::1");
  EXPECT_EQ(canonicalSan("fe80::1%eth0"), "IP:fe80::1");
  EXPECT_EQ(canonicalSan("Braid-CP.example.com"), "DNS:braid-cp.example.com");
  EXPECT_EQ(canonicalSan("*.mesh.local"), "DNS:*.mesh.local");
  EXPECT_EQ(canonicalSan("10.1"), "DNS:10.1");  // not a dotted quad
  EXPECT_EQ(canonicalSan(""), "");
  EXPECT_EQ(canonicalSan("a,DNS:evil"), "");
  EXPECT_EQ(canonicalSan("a.*.b"), "");
  EXPECT_EQ(canonicalSan("[not-ip]"), "");
}

TEST(DefaultServerHosts, LoopbackHostnameAndTheListenHost) {
  char name[256] = {};
  ASSERT_EQ(::gethostname(name, sizeof name - 1), 0);
  std::vector<std::string> base{"localhost", "127.0.0.1", "::1"};
  if (std::string(name) != "localhost") base.push_back(name);
  EXPECT_EQ(defaultServerHosts("0.0.0.0"), base);
  EXPECT_EQ(defaultServerHosts("::"), base);
  EXPECT_EQ(defaultServerHosts("[::]"), base);
  EXPECT_EQ(defaultServerHosts(""), base);
  EXPECT_EQ(defaultServerHosts("127.0.0.1"), base);

  auto withHost = base;
  withHost.push_back("10.2.3.4");
  EXPECT_EQ(defaultServerHosts("10.2.3.4"), withHost);
  withHost.back() = "fd00::7";
  EXPECT_EQ(defaultServerHosts("[fd00::7]"), withHost);
  withHost.back() = "cp.internal";
  EXPECT_EQ(defaultServerHosts("cp.internal"), withHost);
}

}  // namespace
}  // namespace braid::ca
