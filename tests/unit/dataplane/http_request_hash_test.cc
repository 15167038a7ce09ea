// hashPolicies evaluated per HTTP request (filters/http/request_hash.h).

#include <gtest/gtest.h>

#include "dataplane/filters/http/request_hash.h"
#include "dataplane/upstream/load_balancer.h"

namespace braid::dataplane::hcm {
namespace {

HashPolicyConfig policy(HashPolicyConfig::Type type, std::string name = "", bool terminal = false) {
  HashPolicyConfig p;
  p.type = type;
  p.name = std::move(name);
  p.terminal = terminal;
  return p;
}

using Type = HashPolicyConfig::Type;

TEST(HttpRequestHash, HeaderValueIsTheKeyAndAbsentHeaderGivesNoHash) {
  std::vector<HashPolicyConfig> policies = {policy(Type::kHeader, "x-user")};
  braid::http::Headers alice = {{"host", "a"}, {"x-user", "alice"}};
  braid::http::Headers bob = {{"x-user", "bob"}};
  braid::http::Headers none = {{"host", "a"}};
  EXPECT_EQ(requestHash(policies, {alice, "/", ""}), upstream::hashKey("alice"));
  EXPECT_NE(requestHash(policies, {alice, "/", ""}), requestHash(policies, {bob, "/", ""}));
  EXPECT_EQ(requestHash(policies, {none, "/", ""}), std::nullopt);
}

TEST(HttpRequestHash, CookieIsFoundAmongOthersAndUnquoted) {
  std::vector<HashPolicyConfig> policies = {policy(Type::kCookie, "session")};
  braid::http::Headers headers = {{"cookie", "a=1; session=\"s-42\"; b=2"}};
  EXPECT_EQ(requestHash(policies, {headers, "/", ""}), upstream::hashKey("s-42"));
  braid::http::Headers prefixOnly = {{"cookie", "sessionx=1; xsession=2"}};
  EXPECT_EQ(requestHash(policies, {prefixOnly, "/", ""}), std::nullopt);
  braid::http::Headers secondField = {{"cookie", "a=1"}, {"cookie", "session=t"}};
  EXPECT_EQ(requestHash(policies, {secondField, "/", ""}), upstream::hashKey("t"));
}

TEST(HttpRequestHash, QueryParameterFirstOccurrenceRawValue) {
  std::vector<HashPolicyConfig> policies = {policy(Type::kQueryParameter, "user")};
  braid::http::Headers headers;
  EXPECT_EQ(requestHash(policies, {headers, "/p?x=1&user=a%20b&user=c", ""}),
            upstream::hashKey("a%20b"));
  EXPECT_EQ(requestHash(policies, {headers, "/p?username=x", ""}), std::nullopt);
  EXPECT_EQ(requestHash(policies, {headers, "/p", ""}), std::nullopt);
  EXPECT_EQ(requestHash(policies, {headers, "/p?user", ""}), upstream::hashKey(""));
}

TEST(HttpRequestHash, PoliciesCombineUntilATerminalOneFindsItsInput) {
  braid::http::Headers headers = {{"x-a", "1"}, {"x-b", "2"}};
  const uint64_t a = upstream::hashKey("1");
  const uint64_t b = upstream::hashKey("2");
  std::vector<HashPolicyConfig> both = {policy(Type::kHeader, "x-a"), policy(Type::kHeader, "x-b")};
  EXPECT_EQ(requestHash(both, {headers, "/", ""}), ((a << 1) | (a >> 63)) ^ b);
  std::vector<HashPolicyConfig> terminal = {policy(Type::kHeader, "x-a", true),
                                            policy(Type::kHeader, "x-b")};
  EXPECT_EQ(requestHash(terminal, {headers, "/", ""}), a);
  // A terminal policy stops the evaluation once there is a hash, found by it or before it.
  std::vector<HashPolicyConfig> missing = {policy(Type::kHeader, "x-none", true),
                                           policy(Type::kHeader, "x-b")};
  EXPECT_EQ(requestHash(missing, {headers, "/", ""}), b);
  std::vector<HashPolicyConfig> earlier = {policy(Type::kHeader, "x-a"),
                                           policy(Type::kHeader, "x-none", true),
                                           policy(Type::kHeader, "x-b")};
  EXPECT_EQ(requestHash(earlier, {headers, "/", ""}), a);
}

TEST(HttpRequestHash, ConnectionHashesTheSourceIpAndFilterStateNothing) {
  braid::http::Headers headers;
  std::vector<HashPolicyConfig> policies = {policy(Type::kFilterState, "k"),
                                            policy(Type::kConnection)};
  EXPECT_EQ(requestHash(policies, {headers, "/", "10.0.0.7"}), upstream::hashKey("10.0.0.7"));
  EXPECT_EQ(requestHash(policies, {headers, "/", ""}), std::nullopt);
}

}  // namespace
}  // namespace braid::dataplane::hcm
