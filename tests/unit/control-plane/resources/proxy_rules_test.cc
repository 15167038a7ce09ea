// The address helpers shared by Dataplane, ExternalService, ZoneIngress and ZoneEgress.
#include "control-plane/resources/types/proxy_rules.h"

#include <gtest/gtest.h>

namespace braid::proxy_rules {
namespace {

TEST(ProxyRules, IpOrDnsName) {
  for (const char* ok : {"10.0.0.1", "::1", "fd00::1", "localhost", "backend.example.com",
                         "Backend.Example.COM", "a-1.b2", "1x.example"}) {
    EXPECT_TRUE(isIpOrDnsName(ok)) << ok;
  }
  for (const char* bad : {"", "999.1.1.1", "10.0.0", "123", "bad_host", "-a.example", "a..b",
                          "host name", "example.com.", "[::1]"}) {
    EXPECT_FALSE(isIpOrDnsName(bad)) << bad;
  }
}

TEST(ProxyRules, SameAddressComparesIpsByValueAndNamesWithoutCase) {
  EXPECT_TRUE(sameAddress("127.0.0.1", "::ffff:127.0.0.1"));
  EXPECT_TRUE(sameAddress("::1", "0:0:0:0:0:0:0:1"));
  EXPECT_TRUE(sameAddress("Web.Example", "web.example"));
  EXPECT_FALSE(sameAddress("127.0.0.1", "127.0.0.2"));
  EXPECT_FALSE(sameAddress("127.0.0.1", "localhost"));
}

TEST(ProxyRules, WildcardAddresses) {
  EXPECT_TRUE(isWildcardAddress("0.0.0.0"));
  EXPECT_TRUE(isWildcardAddress("::"));
  EXPECT_TRUE(isWildcardAddress("0:0::0"));
  EXPECT_FALSE(isWildcardAddress("0.0.0.1"));
  EXPECT_FALSE(isWildcardAddress("::1"));
}

}  // namespace
}  // namespace braid::proxy_rules
