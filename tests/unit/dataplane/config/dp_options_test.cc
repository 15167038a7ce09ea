#include "dataplane/runtime/dp_options.h"

#include <gtest/gtest.h>

namespace braid::dataplane {
namespace {

std::string joined(const std::vector<std::string>& errors) {
  std::string all;
  for (const auto& e : errors) all += e + "\n";
  return all;
}

TEST(DpOptions, ParsesEveryFlag) {
  auto r = parseDpOptions({"--cp-address",
                           "https://cp.example:5678",
                           "--dataplane-file",
                           "dp.yaml",
                           "--dataplane-token-file",
                           "tok",
                           "--ca-cert-file",
                           "ca.pem",
                           "--admin-address",
                           "127.0.0.1:0",
                           "--admin-port-file",
                           "p",
                           "--concurrency",
                           "3",
                           "--drain-time",
                           "1m",
                           "--dataplane-var",
                           "a=b=c",
                           "--dataplane-var",
                           "name=web",
                           "--log-level",
                           "debug"});
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  const DpOptions& o = r.options;
  EXPECT_EQ(o.cpTarget, "cp.example:5678");
  EXPECT_EQ(o.concurrency, 3);
  EXPECT_EQ(o.drainTime, std::chrono::milliseconds(60000));
  EXPECT_EQ(o.dataplaneVars.at("a"), "b=c");
  EXPECT_EQ(o.dataplaneVars.at("name"), "web");
  EXPECT_EQ(o.adminPortFile, "p");
}

TEST(DpOptions, DefaultsFollowTheContract) {
  auto r = parseDpOptions(
      {"--cp-address", "https://127.0.0.1:5678", "--dataplane-file", "f", "--ca-cert-file", "c"});
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  EXPECT_EQ(r.options.adminAddress, "127.0.0.1:9901");
  EXPECT_EQ(r.options.drainTime, std::chrono::milliseconds(30000));
  EXPECT_GE(r.options.concurrency, 1);
  EXPECT_EQ(r.options.proxyType, "sidecar");
}

TEST(DpOptions, ReportsEveryProblemAtOnce) {
  auto r =
      parseDpOptions({"--cp-address", "http://cp:5678", "--dataplane-file", "f", "--admin-address",
                      "0.0.0.0:9901", "--drain-time", "soon", "--dataplane-var", "novalue",
                      "--proxy-type", "gateway", "--log-level", "loud"});
  std::string all = joined(r.errors);
  EXPECT_NE(all.find("--cp-address: 'http://cp:5678' must be https://HOST:PORT"), std::string::npos)
      << all;
  EXPECT_NE(all.find("--ca-cert-file: required"), std::string::npos) << all;
  EXPECT_NE(all.find("is not a loopback address"), std::string::npos) << all;
  EXPECT_NE(all.find("--drain-time: 'soon'"), std::string::npos) << all;
  EXPECT_NE(all.find("--dataplane-var: 'novalue' must be KEY=VALUE"), std::string::npos) << all;
  EXPECT_NE(all.find("--proxy-type: must be sidecar, ingress or egress"), std::string::npos);
  EXPECT_NE(all.find("--log-level"), std::string::npos);
}

TEST(DpOptions, InsecureSkipVerifyReplacesTheCa) {
  auto r = parseDpOptions({"--cp-address", "https://[::1]:5678", "--dataplane-file", "f",
                           "--insecure-skip-verify", "--admin-address", "[::1]:9901"});
  EXPECT_TRUE(r.errors.empty()) << joined(r.errors);
  EXPECT_TRUE(r.options.insecureSkipVerify);
  EXPECT_EQ(r.options.cpTarget, "[::1]:5678");
}

TEST(DpOptions, UnknownFlagsAreErrors) {
  auto r = parseDpOptions({"--cp-adress", "https://x:1"});
  ASSERT_FALSE(r.errors.empty());
}

}  // namespace
}  // namespace braid::dataplane
