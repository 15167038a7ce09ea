#include "common/http/url.h"

#include <gtest/gtest.h>

namespace braid::http {
namespace {

TEST(UrlTest, PercentDecode) {
  std::string out;
  ASSERT_TRUE(percentDecode("/a%20b%2Fc%e2%82%AC", out));
  EXPECT_EQ(out, "/a b/c\xe2\x82\xac");
  ASSERT_TRUE(percentDecode("a+b", out));
  EXPECT_EQ(out, "a+b");
  ASSERT_TRUE(percentDecode("a+b", out, true));
  EXPECT_EQ(out, "a b");
  EXPECT_FALSE(percentDecode("%", out));
  EXPECT_FALSE(percentDecode("%4", out));
  EXPECT_FALSE(percentDecode("ab%4g", out));
  EXPECT_FALSE(percentDecode("%%41", out));
}

TEST(UrlTest, ParseQuery) {
  const auto q = parseQuery("offset=10&size=&flag&&name=a%20b+c&offset=20&bad=%zz&=v");
  ASSERT_EQ(q.size(), 6u);
  EXPECT_EQ(q[0], std::make_pair(std::string("offset"), std::string("10")));
  EXPECT_EQ(q[1], std::make_pair(std::string("size"), std::string("")));
  EXPECT_EQ(q[2], std::make_pair(std::string("flag"), std::string("")));
  EXPECT_EQ(q[3], std::make_pair(std::string("name"), std::string("a b c")));
  EXPECT_EQ(q[4], std::make_pair(std::string("offset"), std::string("20")));
  EXPECT_EQ(q[5], std::make_pair(std::string(""), std::string("v")));
  EXPECT_TRUE(parseQuery("").empty());
}

TEST(UrlTest, Loopback) {
  EXPECT_TRUE(isLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(isLoopbackAddress("127.255.3.4"));
  EXPECT_TRUE(isLoopbackAddress("::1"));
  EXPECT_TRUE(isLoopbackAddress("::ffff:127.0.0.1"));
  EXPECT_FALSE(isLoopbackAddress("128.0.0.1"));
  EXPECT_FALSE(isLoopbackAddress("10.0.0.1"));
  EXPECT_FALSE(isLoopbackAddress("::ffff:10.0.0.1"));
  EXPECT_FALSE(isLoopbackAddress("::2"));
  EXPECT_FALSE(isLoopbackAddress("localhost"));
  EXPECT_FALSE(isLoopbackAddress(""));
}

TEST(UrlTest, SplitHostPort) {
  std::string host;
  uint16_t port = 1;
  ASSERT_TRUE(splitHostPort("127.0.0.1:5681", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 5681);
  ASSERT_TRUE(splitHostPort("[::1]:0", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(splitHostPort(":65535", host, port));
  EXPECT_EQ(host, "");
  EXPECT_EQ(port, 65535);
  EXPECT_FALSE(splitHostPort("127.0.0.1", host, port));
  EXPECT_FALSE(splitHostPort("127.0.0.1:", host, port));
  EXPECT_FALSE(splitHostPort("127.0.0.1:65536", host, port));
  EXPECT_FALSE(splitHostPort("127.0.0.1:-1", host, port));
  EXPECT_FALSE(splitHostPort("::1:80", host, port));
  EXPECT_FALSE(splitHostPort("[::1]80", host, port));
  EXPECT_FALSE(splitHostPort("[]:80", host, port));
}

}  // namespace
}  // namespace braid::http
