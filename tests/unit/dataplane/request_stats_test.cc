#include "dataplane/stats/request_stats.h"

#include <gtest/gtest.h>

namespace braid::dataplane {
namespace {

using std::chrono::milliseconds;

TEST(RequestStatsTest, RecordsTriesTheRequestAndTheRoutesCounts) {
  Stats stats;
  auto listener = stats.listener("outbound:127.0.0.1:8080");
  auto cluster = stats.cluster("web");
  auto route = stats.route("outbound:127.0.0.1:8080", "api");
  const auto t0 = RequestStats::Clock::now();

  RequestStats request;
  request.begin(*listener, t0);
  request.routed(route.get());
  request.trySent(*cluster, t0 + milliseconds(1));
  request.tryEnded(t0 + milliseconds(4));  // 3 ms: le 5
  request.retried();
  request.trySent(*cluster, t0 + milliseconds(20));
  request.responded(200);
  request.end(t0 + milliseconds(60));  // the second try: 40 ms; the request: 60 ms
  request.end(t0 + milliseconds(90));  // once only
  request.tryEnded(t0 + milliseconds(90));

  auto tries = cluster->upstreamRqTime.snapshot();
  EXPECT_EQ(tries.count(), 2u);
  EXPECT_EQ(tries.buckets[LatencyHistogram::bucketOf(milliseconds(3))], 1u);
  EXPECT_EQ(tries.buckets[LatencyHistogram::bucketOf(milliseconds(40))], 1u);
  EXPECT_EQ(tries.sumMicros, 43'000u);
  EXPECT_EQ(listener->downstreamRqTime.snapshot().count(), 1u);
  EXPECT_EQ(listener->downstreamRqTime.snapshot().sumMicros, 60'000u);
  EXPECT_EQ(route->rqTime.snapshot().sumMicros, 60'000u);
  EXPECT_EQ(route->rq2xx.load(), 1u);
  EXPECT_EQ(route->rqRetry.load(), 1u);
  EXPECT_EQ(route->rqTimeout.load(), 0u);

  // Unrouted (404) and outside a request: the route's counts do not move.
  request.begin(*listener, t0);
  request.routed(nullptr);
  request.responded(404);
  request.end(t0 + milliseconds(1));
  request.responded(400);
  EXPECT_EQ(route->rq4xx.load(), 0u);
  EXPECT_EQ(listener->downstreamRqTime.snapshot().count(), 2u);
  EXPECT_EQ(route->rqTime.snapshot().count(), 1u);
}

TEST(RequestStatsTest, RouteSeriesCarryListenerAndRouteLabels) {
  Stats stats;
  auto route = stats.route("outbound:127.0.0.1:8080", "to \"api\"");
  EXPECT_EQ(stats.route("outbound:127.0.0.1:8080", "to \"api\""), route);
  EXPECT_NE(stats.route("other", "to \"api\""), route);
  route->rq5xx = 2;
  route->rqTime.record(milliseconds(7));
  stats.cluster("web")->upstreamRqTime.record(milliseconds(30));
  stats.cluster("web")->outlierEjections = 1;
  std::string text = stats.renderPrometheus();
  const std::string labels = "listener=\"outbound:127.0.0.1:8080\",route=\"to \\\"api\\\"\"";
  EXPECT_NE(text.find("braid_dp_route_rq_5xx_total{" + labels + "} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE braid_dp_route_rq_time_ms histogram\n"), std::string::npos);
  EXPECT_NE(text.find("braid_dp_route_rq_time_ms_bucket{" + labels + ",le=\"10\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("braid_dp_route_rq_time_ms_count{" + labels + "} 1\n"), std::string::npos);
  EXPECT_NE(text.find("braid_dp_cluster_upstream_rq_time_ms_bucket{cluster=\"web\",le=\"25\"} 0\n"
                      "braid_dp_cluster_upstream_rq_time_ms_bucket{cluster=\"web\",le=\"50\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("braid_dp_cluster_upstream_rq_time_ms_sum{cluster=\"web\"} 30\n"),
            std::string::npos);
  EXPECT_NE(text.find("braid_dp_cluster_outlier_detection_ejections_total{cluster=\"web\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE braid_dp_listener_downstream_rq_time_ms histogram\n"),
            std::string::npos);
}

}  // namespace
}  // namespace braid::dataplane
