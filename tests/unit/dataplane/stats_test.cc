#include "dataplane/stats/stats.h"

#include <gtest/gtest.h>

#include "dataplane/stats/prometheus_text.h"

namespace braid::dataplane {
namespace {

TEST(StatsTest, CountersAreKeyedByName) {
  Stats stats;
  auto first = stats.listener("out");
  first->connectionsTotal += 2;
  EXPECT_EQ(stats.listener("out"), first);
  EXPECT_NE(stats.listener("other"), first);
  EXPECT_EQ(stats.cluster("c"), stats.cluster("c"));
}

TEST(StatsTest, RendersPrometheusText) {
  Stats stats;
  stats.listener("outbound:127.0.0.1:8080")->connectionsTotal = 3;
  stats.cluster("web")->connectTimeouts = 2;
  std::string text = stats.renderPrometheus();
  EXPECT_NE(text.find("# HELP braid_dp_listener_connections_total Downstream connections "
                      "accepted.\n# TYPE braid_dp_listener_connections_total counter\n"
                      "braid_dp_listener_connections_total{listener=\"outbound:127.0.0.1:8080\"}"
                      " 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE braid_dp_listener_connections_active gauge\n"), std::string::npos);
  EXPECT_NE(text.find("braid_dp_cluster_upstream_connect_timeouts_total{cluster=\"web\"} 2\n"),
            std::string::npos);
  for (const char* name :
       {"braid_dp_cluster_upstream_connections_total",
        "braid_dp_cluster_upstream_connections_active",
        "braid_dp_cluster_upstream_connect_failures_total", "braid_dp_cluster_bytes_sent_total",
        "braid_dp_cluster_bytes_received_total", "braid_dp_cluster_no_healthy_endpoint_total"}) {
    EXPECT_NE(text.find(std::string(name) + "{cluster=\"web\"} 0\n"), std::string::npos) << name;
  }
  for (const char* name :
       {"braid_dp_listener_bytes_received_total", "braid_dp_listener_bytes_sent_total"}) {
    EXPECT_NE(text.find(std::string(name) + "{listener=\"outbound:127.0.0.1:8080\"} 0\n"),
              std::string::npos)
        << name;
  }
}

TEST(StatsTest, EscapesLabelValues) {
  EXPECT_EQ(prometheus::escapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  Stats stats;
  stats.cluster("we\"ird");
  EXPECT_NE(stats.renderPrometheus().find("{cluster=\"we\\\"ird\"} 0\n"), std::string::npos);
}

}  // namespace
}  // namespace braid::dataplane
