#include "common/spiffe/spiffe_id.h"

#include <gtest/gtest.h>

#include <string>

namespace braid::spiffe {
namespace {

// "spiffe://td/aaa…", exactly `bytes` long.
std::string idOfLength(size_t bytes) {
  const std::string prefix = "spiffe://td/";
  return prefix + std::string(bytes - prefix.size(), 'a');
}

TEST(ParseSpiffeId, AcceptsValidIds) {
  struct Case {
    std::string text;
    std::string trustDomain;
    std::string path;
  } cases[] = {
      {"spiffe://default/web", "default", "/web"},
      {"spiffe://example.org", "example.org", ""},
      {"spiffe://staging.example.com/payments/mysql", "staging.example.com", "/payments/mysql"},
      {"spiffe://k8s-west.example.com/ns/staging/sa/default", "k8s-west.example.com",
       "/ns/staging/sa/default"},
      {"spiffe://a_b-c.d9/Mixed-Case_Path.v1", "a_b-c.d9", "/Mixed-Case_Path.v1"},
      {"spiffe://td/...", "td", "/..."},  // only "." and ".." are dot segments
      {"spiffe://td/.hidden/a..b", "td", "/.hidden/a..b"},
      {"spiffe://0/1", "0", "/1"},
      {"spiffe://" + std::string(255, 'x') + "/s", std::string(255, 'x'), "/s"},
  };
  for (const auto& c : cases) {
    SpiffeId id;
    std::string error;
    ASSERT_TRUE(parseSpiffeId(c.text, id, error)) << c.text << ": " << error;
    EXPECT_EQ(id.trustDomain, c.trustDomain) << c.text;
    EXPECT_EQ(id.path, c.path) << c.text;
    EXPECT_EQ(id.str(), c.text);
  }
}

TEST(ParseSpiffeId, AcceptsExactly2048Bytes) {
  const std::string text = idOfLength(2048);
  ASSERT_EQ(text.size(), 2048u);
  SpiffeId id;
  std::string error;
  EXPECT_TRUE(parseSpiffeId(text, id, error)) << error;
  EXPECT_EQ(id.str(), text);
}

TEST(ParseSpiffeId, RefusesInvalidIdsWithReason) {
  struct Case {
    std::string text;
    const char* error;
  } cases[] = {
      {"", "it is empty"},
      {"SPIFFE://td/web", "scheme must be lower-case"},
      {"Spiffe://td/web", "scheme must be lower-case"},
      {"spiffe:/td/web", "must start with 'spiffe://'"},
      {"spiffe:td/web", "must start with 'spiffe://'"},
      {"https://td/web", "must start with 'spiffe://'"},
      {" spiffe://td/web", "must start with 'spiffe://'"},
      {"spiffe://", "trust domain is empty"},
      {"spiffe:///web", "trust domain is empty"},
      {"spiffe://Example.org/web", "trust domain must be lower case"},
      {"spiffe://td:8443/web", "a port is not allowed"},
      {"spiffe://td:/web", "a port is not allowed"},
      {"spiffe://user@td/web", "userinfo is not allowed"},
      {"spiffe://user:pw@td/web", "a port is not allowed"},  // ':' comes first
      {"spiffe://t%64/web", "percent-encoding is not allowed in the trust domain"},
      {"spiffe://td/w%65b", "percent-encoding is not allowed in the path"},
      {"spiffe://[::1]/web", "invalid character '['"},
      {"spiffe://" + std::string(256, 'x') + "/s", "trust domain is longer than 255 bytes"},
      {"spiffe://td/", "must not end with '/'"},
      {"spiffe://td/web/", "must not end with '/'"},
      {"spiffe://td//web", "empty segment"},
      {"spiffe://td/a//b", "empty segment"},
      {"spiffe://td/./web", "segment '.' is not allowed"},
      {"spiffe://td/a/../b", "segment '..' is not allowed"},
      {"spiffe://td/..", "segment '..' is not allowed"},
      {"spiffe://td/web?x=1", "a query is not allowed"},
      {"spiffe://td?x", "a query is not allowed"},
      {"spiffe://td/web#frag", "a fragment is not allowed"},
      {"spiffe://td/web#a?b", "a fragment is not allowed"},
      {"spiffe://td/we b", "invalid character ' ' in the path"},
      {"spiffe://td/w:b", "':' is not allowed in the path"},
      {"spiffe://td/w\xc3\xa9", "invalid character '\\xc3' in the path"},
      {"spiffe://t\xc3\xa9/web", "invalid character '\\xc3' in the trust domain"},
      {std::string("spiffe://td/we\0b", 16), "invalid character '\\x00' in the path"},
      {std::string("spiffe://t\0d/web", 16), "invalid character '\\x00' in the trust domain"},
      {"spiffe://td/a\\b", "invalid character '\\x5c'"},
      {"spiffe://td/a\nb", "invalid character '\\x0a'"},
      {idOfLength(2049), "longer than 2048 bytes"},
  };
  for (const auto& c : cases) {
    SpiffeId id;
    std::string error;
    EXPECT_FALSE(parseSpiffeId(c.text, id, error)) << c.text;
    EXPECT_NE(error.find(c.error), std::string::npos)
        << "input: " << c.text << "\nerror: " << error << "\nwant: " << c.error;
  }
}

TEST(ParseSpiffeId, ErrorsEchoAtMost64BytesEscaped) {
  // 17 bytes before the q's, so the echo holds 47 of them.
  const std::string text = "spiffe://td/\x1b[31m" + std::string(100, 'q');
  SpiffeId id;
  std::string error;
  ASSERT_FALSE(parseSpiffeId(text, id, error));
  EXPECT_NE(error.find("'spiffe://td/\\x1b[31m" + std::string(47, 'q') + "...'"), std::string::npos)
      << error;
  EXPECT_EQ(error.find(std::string(48, 'q')), std::string::npos) << error;
  EXPECT_EQ(error.find('\x1b'), std::string::npos) << error;
}

TEST(ParseSpiffeId, LeavesOutputAloneOnFailure) {
  SpiffeId id{"keep", "/me"};
  std::string error;
  ASSERT_FALSE(parseSpiffeId("spiffe://td/a/", id, error));
  EXPECT_EQ(id.trustDomain, "keep");
  EXPECT_EQ(id.path, "/me");
}

TEST(ServiceSpiffeId, BuildsMeshAndServiceId) {
  std::string id;
  std::string error;
  ASSERT_TRUE(serviceSpiffeId("default", "web", id, error)) << error;
  EXPECT_EQ(id, "spiffe://default/web");
  ASSERT_TRUE(serviceSpiffeId("prod.mesh-1", "Backend_v2.api", id, error)) << error;
  EXPECT_EQ(id, "spiffe://prod.mesh-1/Backend_v2.api");
  SpiffeId parsed;
  ASSERT_TRUE(parseSpiffeId(id, parsed, error)) << error;
  EXPECT_EQ(parsed.trustDomain, "prod.mesh-1");
  EXPECT_EQ(parsed.path, "/Backend_v2.api");
}

TEST(ServiceSpiffeId, RefusesBadMeshOrService) {
  struct Case {
    std::string mesh;
    std::string service;
    const char* error;
  } cases[] = {
      {"", "web", "mesh '' is no SPIFFE trust domain: trust domain is empty"},
      {"Default", "web", "trust domain must be lower case"},
      {"mesh:1", "web", "a port is not allowed"},
      {"me/sh", "web", "mesh 'me/sh'"},
      {std::string(256, 'm'), "web", "longer than 255 bytes"},
      {"default", "", "service '' is no SPIFFE path segment"},
      {"default", "a/b", "it contains '/'"},
      {"default", "..", "segment '..' is not allowed"},
      {"default", ".", "segment '.' is not allowed"},
      {"default", "we b", "invalid character ' '"},
      {"default", "web?x", "invalid character '?'"},
      {"default", "w%65b", "percent-encoding"},
      {"default", std::string(2048, 's'), "longer than 2048 bytes"},
  };
  for (const auto& c : cases) {
    std::string id = "unchanged";
    std::string error;
    EXPECT_FALSE(serviceSpiffeId(c.mesh, c.service, id, error)) << c.mesh << " " << c.service;
    EXPECT_EQ(id, "unchanged");
    EXPECT_NE(error.find(c.error), std::string::npos)
        << "mesh: " << c.mesh << " service: " << c.service << "\nerror: " << error;
  }
}

}  // namespace
}  // namespace braid::spiffe
