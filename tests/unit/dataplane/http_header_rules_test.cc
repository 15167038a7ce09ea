// The per-message header work of the HTTP connection manager: hop-by-hop removal, header
// modifiers, x-request-id, path rewrites.

#include <gtest/gtest.h>

#include "dataplane/filters/http/header_rules.h"

namespace braid::dataplane::hcm {
namespace {

TEST(HttpHeaderRules, HopByHopFieldsAndTheOnesConnectionNamesAreRemoved) {
  braid::http::Headers headers = {{"host", "a"},
                                  {"connection", "keep-alive, X-Secret ,x-other"},
                                  {"x-secret", "s"},
                                  {"x-other", "o"},
                                  {"keep-alive", "5"},
                                  {"te", "trailers"},
                                  {"upgrade", "h2c"},
                                  {"proxy-connection", "close"},
                                  {"trailer", "x"},
                                  {"content-length", "3"},
                                  {"transfer-encoding", "chunked"},
                                  {"x-kept", "k"}};
  removeHopByHop(headers);
  EXPECT_EQ(headers, (braid::http::Headers{{"host", "a"}, {"x-kept", "k"}}));
}

TEST(HttpHeaderRules, ModifiersRemoveThenSetThenAdd) {
  braid::http::Headers headers = {{"a", "1"}, {"b", "2"}, {"b", "3"}, {"c", "4"}};
  HeaderMods mods;
  mods.remove = {"a"};
  mods.set = {{"b", "set"}, {"d", "new"}};
  mods.add = {{"c", "more"}};
  applyHeaderMods(headers, mods);
  EXPECT_EQ(headers, (braid::http::Headers{{"c", "4"}, {"b", "set"}, {"d", "new"}, {"c", "more"}}));
  EXPECT_EQ(headerValue(headers, "c"), "4");
  EXPECT_EQ(headerValue(headers, "zz"), "");
}

TEST(HttpHeaderRules, RequestIdsAreVersion4Uuids) {
  std::string id = makeRequestId(0, 0);
  EXPECT_EQ(id, "00000000-0000-4000-8000-000000000000");
  id = makeRequestId(~uint64_t{0}, ~uint64_t{0});
  EXPECT_EQ(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
  id = makeRequestId(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  EXPECT_EQ(id, "01234567-89ab-4def-bedc-ba9876543210");
}

TEST(HttpHeaderRules, PrefixAndFullPathRewrites) {
  RouteMatch api;
  api.path = RouteMatch::Path::kPrefix;
  api.pathValue = "/api";
  EXPECT_EQ(rewriteTarget("/api/items?x=1", api, PathReplace::kPrefix, "/v1"), "/v1/items?x=1");
  EXPECT_EQ(rewriteTarget("/api", api, PathReplace::kPrefix, "/v1"), "/v1");
  EXPECT_EQ(rewriteTarget("/api/x", api, PathReplace::kPrefix, "/"), "/x");
  EXPECT_EQ(rewriteTarget("/api", api, PathReplace::kPrefix, "/"), "/");
  EXPECT_EQ(rewriteTarget("/api/x", api, PathReplace::kPrefix, "/v1/"), "/v1/x");
  EXPECT_EQ(rewriteTarget("/api/x?q", api, PathReplace::kFullPath, "/all"), "/all?q");
  EXPECT_EQ(rewriteTarget("/api/x?q", api, PathReplace::kNone, ""), "/api/x?q");
  RouteMatch root;
  root.path = RouteMatch::Path::kPrefix;
  root.pathValue = "/";
  EXPECT_EQ(rewriteTarget("/x/y", root, PathReplace::kPrefix, "/v1"), "/v1/x/y");
  EXPECT_EQ(rewriteTarget("/", root, PathReplace::kPrefix, "/v1"), "/v1");
  RouteMatch trailing = api;
  trailing.pathValue = "/api/";
  EXPECT_EQ(rewriteTarget("/api/x", trailing, PathReplace::kPrefix, "/v2"), "/v2/x");
  // A prefix rewrite needs a prefix match; anything else keeps the path.
  RouteMatch exact;
  exact.path = RouteMatch::Path::kExact;
  exact.pathValue = "/api";
  EXPECT_EQ(rewriteTarget("/api", exact, PathReplace::kPrefix, "/v1"), "/api");
}

}  // namespace
}  // namespace braid::dataplane::hcm
