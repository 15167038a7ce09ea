// Route matching on the worker: each kind of match, path normalisation (Envoy's edge defaults),
// first-match order, and weighted picks.
#include "dataplane/http/route_matcher.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <map>
#include <random>

namespace braid::dataplane::http {
namespace {

Regex regex(const std::string& pattern) {
  return {pattern, std::make_shared<const re2::RE2>(pattern)};
}

Route route(const std::string& name, RouteMatch match) {
  Route r;
  r.name = name;
  r.match = std::move(match);
  r.action.clusters = {{name, 1}};
  r.action.totalWeight = 1;
  return r;
}

RouteMatch prefix(const std::string& p) {
  RouteMatch m;
  m.path = RouteMatch::Path::kPrefix;
  m.pathValue = p;
  return m;
}

struct Matcher {
  RouteTable table;
  std::string normalized;
  std::string match(std::string_view path, const braid::http::Headers& headers = {},
                    std::string_view method = "GET") {
    const Route* r = matchRoute(table, {method, path, "backend", headers}, normalized);
    return r ? r->name : "none";
  }
};

TEST(RouteMatcher, PathKinds) {
  Matcher m;
  RouteMatch exact;
  exact.path = RouteMatch::Path::kExact;
  exact.pathValue = "/healthz";
  RouteMatch re;
  re.path = RouteMatch::Path::kRegex;
  re.pathRegex = regex("/items/[0-9]+");
  m.table.routes = {route("exact", exact), route("api", prefix("/api")), route("regex", re),
                    route("slash", prefix("/dir/"))};
  EXPECT_EQ(m.match("/healthz"), "exact");
  EXPECT_EQ(m.match("/healthz?verbose=1"), "exact");  // the query is not part of the path
  EXPECT_EQ(m.match("/healthz/"), "none");
  EXPECT_EQ(m.match("/api"), "api");
  EXPECT_EQ(m.match("/api/v1/users"), "api");
  EXPECT_EQ(m.match("/apiv2"), "none");  // prefixes match whole segments
  EXPECT_EQ(m.match("/items/42"), "regex");
  EXPECT_EQ(m.match("/items/42/x"), "none");  // regexes match the whole path
  EXPECT_EQ(m.match("/dir/x"), "slash");
  EXPECT_EQ(m.match("/dir"), "none");
}

TEST(RouteMatcher, FirstMatchWins) {
  Matcher m;
  m.table.routes = {route("api", prefix("/api")), route("all", prefix("/")),
                    route("never", prefix("/api/v2"))};
  EXPECT_EQ(m.match("/api/v2/x"), "api");
  EXPECT_EQ(m.match("/other"), "all");
  EXPECT_EQ(m.match("*"), "none");  // OPTIONS * has no path
}

TEST(RouteMatcher, MethodHeadersAndQuery) {
  Matcher m;
  RouteMatch post = prefix("/");
  post.method = "POST";
  RouteMatch headers = prefix("/");
  headers.headers = {{"x-version", HeaderMatcher::Kind::kExact, "v2", {}},
                     {"x-user", HeaderMatcher::Kind::kPrefix, "test-", {}},
                     {"x-debug", HeaderMatcher::Kind::kAbsent, "", {}}};
  RouteMatch regexHeader = prefix("/");
  regexHeader.headers = {{"x-tenant", HeaderMatcher::Kind::kRegex, "", regex("a|b")},
                         {"x-canary", HeaderMatcher::Kind::kPresent, "", {}}};
  RouteMatch query = prefix("/");
  query.queryParams = {{"debug", false, "1", {}}, {"id", true, "", regex("[0-9]+")}};
  m.table.routes = {route("post", post), route("headers", headers),
                    route("regex-header", regexHeader), route("query", query)};
  EXPECT_EQ(m.match("/", {}, "POST"), "post");
  EXPECT_EQ(m.match("/", {}, "post"), "none");  // methods are case-sensitive
  EXPECT_EQ(m.match("/", {{"x-version", "v2"}, {"x-user", "test-1"}}), "headers");
  EXPECT_EQ(m.match("/", {{"x-version", "v2"}, {"x-user", "test-1"}, {"x-debug", ""}}), "none");
  // Repeated headers are matched joined with ",".
  EXPECT_EQ(m.match("/", {{"x-version", "v2"}, {"x-version", "v3"}, {"x-user", "test-"}}), "none");
  EXPECT_EQ(m.match("/", {{"x-tenant", "b"}, {"x-canary", ""}}), "regex-header");
  EXPECT_EQ(m.match("/", {{"x-tenant", "ab"}, {"x-canary", ""}}), "none");
  EXPECT_EQ(m.match("/x?debug=1&id=42"), "query");
  EXPECT_EQ(m.match("/x?id=42&debug=1"), "query");
  EXPECT_EQ(m.match("/x?debug=1&id=4a"), "none");
  EXPECT_EQ(m.match("/x?debug=1&id=42&debug=2"), "query");  // the first "debug" counts
  EXPECT_EQ(m.match("/x?debug=2&debug=1&id=1"), "none");
  EXPECT_EQ(m.match("/x?debug&id=1"), "none");  // no '=': value ""
}

TEST(RouteMatcher, MatchesTheNormalisedPath) {
  Matcher m;
  m.table.routes = {route("admin", prefix("/admin"))};
  EXPECT_EQ(m.match("/public/../admin/x"), "admin");
  EXPECT_EQ(m.normalized, "/admin/x");
  EXPECT_EQ(m.match("//admin"), "admin");
  EXPECT_EQ(m.match("/%61dmin"), "admin");
  EXPECT_EQ(m.match("/public/%2e%2e/admin"), "admin");
  EXPECT_EQ(m.match("/public%2F..%2Fadmin"), "none");  // encoded slashes are not separators
  EXPECT_EQ(m.match("http://backend/admin?q"), "admin");
  EXPECT_EQ(m.normalized, "/admin?q");
}

TEST(NormalizePath, Cases) {
  const std::map<std::string, std::string> cases = {
      {"", "/"},
      {"/", "/"},
      {"/a/b/c", "/a/b/c"},
      {"/a/./b", "/a/b"},
      {"/a/../b", "/b"},
      {"/a/b/..", "/a/"},
      {"/a/b/.", "/a/b/"},
      {"/../../x", "/x"},
      {"/..", "/"},
      {"//a///b//", "/a/b/"},
      {"/a\\b\\..\\c", "/a/c"},
      {"/%7euser/%41%2d", "/~user/A-"},
      {"/a%2fb%5cc", "/a%2Fb%5Cc"},
      {"/a%2Fb/../c", "/c"},
      {"/%2E%2E/secret", "/secret"},
      {"/%252e%252e/x", "/%252e%252e/x"},
      {"/100%", "/100%25"},
      {"/%zz/%4", "/%25zz/%254"},
      {"/%4%41", "/%254A"},  // found by route_matcher_fuzz: "%4" + "A" must not become "%4A"
      {"/a/../b?x=/../y&z=%2e", "/b?x=/../y&z=%2e"},
      {"/a#frag", "/a"},
      {"/a?q#frag", "/a?q"},
      {"http://host:80/a/../b?q", "/b?q"},
      {"https://host", "/"},
      {"http://host?q", "/?q"},
      {"*", "*"},
      {"host:443", "host:443"},
  };
  for (const auto& [in, expected] : cases) {
    std::string once = normalizePath(in);
    EXPECT_EQ(once, expected) << in;
    EXPECT_EQ(normalizePath(once), once) << "not idempotent: " << in;
  }
}

TEST(PickCluster, BoundsAndZeroWeights) {
  RouteAction action;
  action.clusters = {{"a", 3}, {"zero", 0}, {"b", 1}};
  action.totalWeight = 4;
  EXPECT_EQ(pickCluster(action, 0), "a");
  EXPECT_EQ(pickCluster(action, 2), "a");
  EXPECT_EQ(pickCluster(action, 3), "b");
  EXPECT_EQ(pickCluster(action, 7), "b");  // reduced modulo the total
  RouteAction none;
  none.clusters = {{"a", 0}};
  EXPECT_EQ(pickCluster(none, 5), "");
}

TEST(PickCluster, WeightsOverTenThousandPicksWithinOnePoint) {
  RouteAction action;
  action.clusters = {{"v1", 80}, {"v2", 20}};
  action.totalWeight = 100;
  std::mt19937_64 rng(12345);
  std::map<std::string, int> counts;
  constexpr int kPicks = 10000;
  for (int i = 0; i < kPicks; ++i) ++counts[pickCluster(action, rng() % action.totalWeight)];
  EXPECT_NEAR(100.0 * counts["v1"] / kPicks, 80.0, 1.0);
  EXPECT_NEAR(100.0 * counts["v2"] / kPicks, 20.0, 1.0);

  std::vector<WeightedCluster> tcp = {{"p", 90}, {"r", 10}};
  counts.clear();
  for (int i = 0; i < kPicks; ++i) ++counts[pickWeightedCluster(tcp, 100, rng())];
  EXPECT_NEAR(100.0 * counts["r"] / kPicks, 10.0, 1.0);
}

}  // namespace
}  // namespace braid::dataplane::http
