// host[:port] and URL parsing for telemetry collectors, checked directly (the policy tables check
// the messages in context).
#include "control-plane/policies/common/telemetry_backends.h"

#include <gtest/gtest.h>

#include <string>

namespace braid::policies {
namespace {

struct HostPortCase {
  const char* text;
  bool portRequired;
  const char* problem;  // "" = accepted
};

class HostPortProblem : public ::testing::TestWithParam<HostPortCase> {};

TEST_P(HostPortProblem, Explains) {
  EXPECT_EQ(hostPortProblem(GetParam().text, GetParam().portRequired), GetParam().problem)
      << GetParam().text;
}

constexpr const char* kShape =
    "must be an address such as host:port, without a scheme, user, path, query or fragment";
constexpr const char* kBadHost = "host must be a DNS name or an IP address";
constexpr const char* kBadPort = "port must be a number from 1 to 65535";
constexpr const char* kBadV6 =
    "must hold an IPv6 address inside '[' and ']', optionally followed by :port";

INSTANTIATE_TEST_SUITE_P(
    Table, HostPortProblem,
    ::testing::Values(
        HostPortCase{"collector", false, ""},
        HostPortCase{"collector", true, "must include a port: host:port"},
        HostPortCase{"collector:4317", true, ""},
        HostPortCase{"Collector.Observability.svc:1", true, ""},
        HostPortCase{"10.0.0.1:65535", true, ""}, HostPortCase{"10.0.0.1:65536", true, kBadPort},
        HostPortCase{"collector:0", false, kBadPort}, HostPortCase{"collector:+1", false, kBadPort},
        HostPortCase{"collector:http", false, kBadPort}, HostPortCase{"[::1]:4317", true, ""},
        HostPortCase{"[::1]", false, ""},
        HostPortCase{"[::1]", true, "must include a port: host:port"},
        HostPortCase{"fd00::1", false, ""}, HostPortCase{"[10.0.0.1]:1", false, kBadV6},
        HostPortCase{"[::1]4317", false, kBadV6}, HostPortCase{"[::1", false, kBadV6},
        HostPortCase{"fd00::zz", false, kBadHost}, HostPortCase{"-collector", false, kBadHost},
        HostPortCase{"a..b", false, kBadHost}, HostPortCase{":4317", false, kBadHost},
        HostPortCase{"", false, "must not be empty"}, HostPortCase{"http://c:1", false, kShape},
        HostPortCase{"user@c:1", false, kShape}, HostPortCase{"c:1/x", false, kShape},
        HostPortCase{"c:1?x", false, kShape}, HostPortCase{"c 1", false, kShape}));

TEST(ParseUrl, SplitsEveryPart) {
  auto url = parseUrl("HTTPS://me:pw@[fd00::1]:8443/a/b?x=1&y#frag");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->userInfo, "me:pw");
  EXPECT_EQ(url->authority.host, "fd00::1");
  EXPECT_EQ(url->authority.port, 8443);
  EXPECT_EQ(url->path, "/a/b");
  EXPECT_EQ(url->query, "x=1&y");
  EXPECT_EQ(url->fragment, "frag");
}

TEST(ParseUrl, LeavesAbsentPartsEmpty) {
  auto url = parseUrl("http://zipkin");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->authority.host, "zipkin");
  EXPECT_FALSE(url->authority.port.has_value());
  EXPECT_EQ(url->path, "");
  EXPECT_FALSE(url->query.has_value());
  EXPECT_FALSE(url->fragment.has_value());
}

TEST(ParseUrl, EmptyQueryAndFragmentArePresent) {
  auto url = parseUrl("http://a:1?#");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->query, "");
  EXPECT_EQ(url->fragment, "");
}

TEST(ParseUrl, RefusesWhatIsNotAUrl) {
  for (const char* text : {"zipkin:9411", "://zipkin", "1http://a", "http://", "http://a:99999",
                           "http://a b/", "http://a/b c", "http://[::1/"}) {
    EXPECT_FALSE(parseUrl(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace braid::policies
