#include "common/spiffe/svid.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <string>

#include "unit/common/test_svid_certs.h"

namespace braid::spiffe {
namespace {

using test::makeTestCert;
using test::TestCertSpec;

TestCertSpec goodSpec() {
  TestCertSpec spec;
  spec.uris = {"spiffe://default/web"};
  return spec;
}

// Runs checkSvid on a certificate built from `spec`; `error` gets its error text.
bool check(const TestCertSpec& spec, std::string& error, SpiffeId* id = nullptr) {
  auto cert = makeTestCert(spec);
  SpiffeId out;
  const bool ok = checkSvid(cert.get(), "default", out, error);
  if (id != nullptr) *id = out;
  return ok;
}

TEST(CheckSvid, AcceptsOneSpiffeUriSan) {
  std::string error;
  SpiffeId id;
  ASSERT_TRUE(check(goodSpec(), error, &id)) << error;
  EXPECT_EQ(id.trustDomain, "default");
  EXPECT_EQ(id.path, "/web");
  EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL error queue left non-empty";
}

TEST(CheckSvid, AcceptsDnsSansBesideOneUriSan) {
  TestCertSpec spec = goodSpec();
  spec.dnsNames = {"web.mesh", "web"};
  std::string error;
  SpiffeId id;
  ASSERT_TRUE(check(spec, error, &id)) << error;
  EXPECT_EQ(id.str(), "spiffe://default/web");
}

// The header allows both extensions to be absent (not every issuer writes them).
TEST(CheckSvid, AcceptsLeafWithoutBasicConstraintsOrKeyUsage) {
  TestCertSpec spec = goodSpec();
  spec.basicConstraints = {};
  spec.keyUsage = {};
  std::string error;
  EXPECT_TRUE(check(spec, error)) << error;
}

TEST(CheckSvid, AcceptsKeyUsageWithKeyAgreementAndNonCriticalConstraints) {
  TestCertSpec spec = goodSpec();
  spec.basicConstraints = {"CA:FALSE"};
  spec.keyUsage = {"critical,digitalSignature,keyEncipherment,keyAgreement"};
  std::string error;
  EXPECT_TRUE(check(spec, error)) << error;
}

TEST(CheckSvid, RefusesBadCertificates) {
  struct Case {
    const char* name;
    TestCertSpec spec;
    const char* error;
  };
  const auto with = [](auto change) {
    TestCertSpec spec = goodSpec();
    change(spec);
    return spec;
  };
  const Case cases[] = {
      {"two URI SANs", with([](TestCertSpec& s) { s.uris.push_back("spiffe://default/db"); }),
       "certificate has 2 URI SANs"},
      {"two identical URI SANs", with([](TestCertSpec& s) { s.uris.push_back(s.uris[0]); }),
       "certificate has 2 URI SANs"},
      {"no SAN at all", with([](TestCertSpec& s) { s.uris.clear(); }),
       "certificate has no URI SAN"},
      {"DNS SAN only", with([](TestCertSpec& s) {
         s.uris.clear();
         s.dnsNames = {"web.mesh"};
       }),
       "certificate has no URI SAN"},
      {"CA:TRUE", with([](TestCertSpec& s) { s.basicConstraints = {"critical,CA:TRUE"}; }),
       "certificate is a CA"},
      {"repeated basicConstraints hiding CA:TRUE", with([](TestCertSpec& s) {
         s.basicConstraints = {"CA:FALSE", "CA:TRUE"};
       }),
       "more than one basicConstraints extension"},
      {"keyCertSign",
       with([](TestCertSpec& s) { s.keyUsage = {"critical,digitalSignature,keyCertSign"}; }),
       "keyUsage has keyCertSign"},
      {"cRLSign", with([](TestCertSpec& s) { s.keyUsage = {"critical,digitalSignature,cRLSign"}; }),
       "keyUsage has cRLSign"},
      {"no digitalSignature",
       with([](TestCertSpec& s) { s.keyUsage = {"critical,keyEncipherment"}; }),
       "keyUsage lacks digitalSignature"},
      {"foreign trust domain", with([](TestCertSpec& s) { s.uris = {"spiffe://other/web"}; }),
       "trust domain 'other' is not 'default'"},
      {"invalid SPIFFE URI (upper case)",
       with([](TestCertSpec& s) { s.uris = {"spiffe://Default/web"}; }),
       "trust domain must be lower case"},
      {"invalid SPIFFE URI (scheme)",
       with([](TestCertSpec& s) { s.uris = {"https://default/web"}; }),
       "must start with 'spiffe://'"},
      {"invalid SPIFFE URI (dot segment)",
       with([](TestCertSpec& s) { s.uris = {"spiffe://default/../admin"}; }),
       "segment '..' is not allowed"},
      {"NUL inside the URI",
       with([](TestCertSpec& s) { s.uris = {std::string("spiffe://default/web\0x", 22)}; }),
       "invalid character '\\x00'"},
      {"no path", with([](TestCertSpec& s) { s.uris = {"spiffe://default"}; }),
       "SPIFFE ID 'spiffe://default' has no path"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(check(c.spec, error)) << c.name;
    EXPECT_NE(error.find(c.error), std::string::npos)
        << c.name << "\nerror: " << error << "\nwant: " << c.error;
    EXPECT_EQ(ERR_peek_error(), 0u) << c.name << ": OpenSSL error queue left non-empty";
  }
}

TEST(CheckSvid, LeavesOutputAloneOnFailure) {
  TestCertSpec spec = goodSpec();
  spec.basicConstraints = {"critical,CA:TRUE"};
  auto cert = makeTestCert(spec);
  SpiffeId id{"keep", "/me"};
  std::string error;
  ASSERT_FALSE(checkSvid(cert.get(), "default", id, error));
  EXPECT_EQ(id.trustDomain, "keep");
  EXPECT_EQ(id.path, "/me");
}

TEST(CheckSvid, RefusesNull) {
  SpiffeId id;
  std::string error;
  EXPECT_FALSE(checkSvid(nullptr, "default", id, error));
  EXPECT_EQ(error, "no certificate");
}

}  // namespace
}  // namespace braid::spiffe
