#include "dataplane/admin/admin_handler.h"

#include <gtest/gtest.h>

namespace braid::dataplane {
namespace {

struct Fake {
  bool configured = false, draining = false, drained = false;
  AdminSources sources() {
    AdminSources s;
    s.configured = [this] { return configured; };
    s.draining = [this] { return draining; };
    s.configDump = [] { return std::string(R"({"version":"v1","config":{}})"); };
    s.prometheus = [] { return std::string("braid_dp_x 1\n"); };
    s.clusters = [] { return std::string("backend::10.0.0.1:1::health_flags::healthy\n"); };
    s.drain = [this] { drained = draining = true; };
    return s;
  }
};

http::Response call(const AdminHandler& h, const std::string& method, const std::string& path) {
  http::Request r;
  r.method = method;
  r.path = path;
  return h.handle(r);
}

TEST(AdminHandler, ReadyFollowsConfigurationAndDrain) {
  Fake f;
  AdminHandler h(f.sources());
  EXPECT_EQ(call(h, "GET", "/ready").status, 503);
  EXPECT_EQ(call(h, "GET", "/ready").body, "PRE_INITIALIZING\n");
  f.configured = true;
  EXPECT_EQ(call(h, "GET", "/ready").status, 200);
  EXPECT_EQ(call(h, "GET", "/drain").status, 405);
  EXPECT_FALSE(f.drained);
  EXPECT_EQ(call(h, "POST", "/drain").status, 200);
  EXPECT_TRUE(f.drained);
  EXPECT_EQ(call(h, "GET", "/ready").status, 503);
  EXPECT_EQ(call(h, "GET", "/ready").body, "DRAINING\n");
}

TEST(AdminHandler, ServesDumpStatsAndClusters) {
  Fake f;
  AdminHandler h(f.sources());
  auto dump = call(h, "GET", "/config_dump");
  EXPECT_EQ(dump.status, 200);
  EXPECT_EQ(dump.body, R"({"version":"v1","config":{}})");
  auto stats = call(h, "GET", "/stats/prometheus");
  EXPECT_EQ(stats.body, "braid_dp_x 1\n");
  bool versioned = false;
  for (const auto& [k, v] : stats.headers)
    versioned |= v.find("version=0.0.4") != std::string::npos;
  EXPECT_TRUE(versioned);
  EXPECT_NE(call(h, "GET", "/clusters").body.find("health_flags::healthy"), std::string::npos);
  EXPECT_EQ(call(h, "GET", "/nope").status, 404);
  EXPECT_EQ(call(h, "DELETE", "/config_dump").status, 405);
}

TEST(AdminHandler, RefusesForeignHostsAndCrossSiteRequests) {
  Fake f;
  f.configured = true;
  AdminHandler h(f.sources());
  auto with = [&](const std::string& method, const std::string& name, const std::string& value) {
    http::Request r;
    r.method = method;
    r.path = method == "POST" ? "/drain" : "/ready";
    r.headers.push_back({name, value});
    return h.handle(r);
  };
  EXPECT_EQ(with("GET", "host", "127.0.0.1:9901").status, 200);
  EXPECT_EQ(with("GET", "host", "localhost:9901").status, 200);
  EXPECT_EQ(with("GET", "host", "[::1]:9901").status, 200);
  EXPECT_EQ(with("GET", "host", "evil.example:9901").status, 403);
  EXPECT_EQ(with("POST", "origin", "https://evil.example").status, 403);
  EXPECT_FALSE(f.drained);
}

}  // namespace
}  // namespace braid::dataplane
