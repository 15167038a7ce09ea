#include "dataplane/stats/request_stats.h"

namespace braid::dataplane {
namespace {

std::chrono::microseconds since(RequestStats::Clock::time_point start,
                                RequestStats::Clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::microseconds>(now - start);
}

}  // namespace

void RequestStats::begin(ListenerCounters& listener, Clock::time_point now) {
  end(now);  // a request never ended is over now
  listener_ = &listener;
  start_ = now;
}

void RequestStats::routed(RouteCounters* route) { route_ = route; }

void RequestStats::trySent(ClusterCounters& cluster, Clock::time_point now) {
  tryEnded(now);
  tryCluster_ = &cluster;
  tryStart_ = now;
}

void RequestStats::tryEnded(Clock::time_point now) {
  if (tryCluster_ == nullptr) return;
  tryCluster_->upstreamRqTime.record(since(tryStart_, now));
  tryCluster_ = nullptr;
}

void RequestStats::retried() {
  if (route_ != nullptr) route_->rqRetry.fetch_add(1, std::memory_order_relaxed);
}

void RequestStats::timedOut() {
  if (route_ != nullptr) route_->rqTimeout.fetch_add(1, std::memory_order_relaxed);
}

void RequestStats::responded(int status) {
  if (route_ == nullptr) return;
  std::atomic<uint64_t>* counter = &route_->rq5xx;
  switch (status / 100) {
    case 1:
      counter = &route_->rq1xx;
      break;
    case 2:
      counter = &route_->rq2xx;
      break;
    case 3:
      counter = &route_->rq3xx;
      break;
    case 4:
      counter = &route_->rq4xx;
      break;
    default:
      break;
  }
  counter->fetch_add(1, std::memory_order_relaxed);
}

void RequestStats::end(Clock::time_point now) {
  tryEnded(now);
  if (listener_ == nullptr) return;
  const auto elapsed = since(start_, now);
  listener_->downstreamRqTime.record(elapsed);
  if (route_ != nullptr) route_->rqTime.record(elapsed);
  listener_ = nullptr;
  route_ = nullptr;
}

}  // namespace braid::dataplane
