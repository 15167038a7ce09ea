#pragma once

#include <chrono>

#include "dataplane/stats/stats.h"

namespace braid::dataplane {

// One HTTP request's share of the statistics: its route's counters and the three latency
// histograms (the listener's downstream_rq_time, each try's upstream_rq_time on its cluster,
// the route's rq_time). A connection manager keeps one per request in progress (HTTP/2: one
// per stream) and calls it as the request goes; loop thread only. The counters it points to
// belong to the RuntimeConfig the connection holds, so they outlive it.
class RequestStats {
 public:
  using Clock = std::chrono::steady_clock;

  // The request's head arrived: its time starts.
  void begin(ListenerCounters& listener, Clock::time_point now = Clock::now());
  // The request matched a route; nullptr: not counted per route.
  void routed(RouteCounters* route);
  // A try's request went upstream to `cluster`: the try's time starts (a try in progress ends).
  void trySent(ClusterCounters& cluster, Clock::time_point now = Clock::now());
  // The try in progress, if any, is over: its response complete, or it failed, timed out or is
  // retried. Does nothing without one.
  void tryEnded(Clock::time_point now = Clock::now());
  // The route's counts (the cluster's are the caller's).
  void retried();
  void timedOut();
  // A final response with `status` went downstream (proxied or local): counted per route.
  void responded(int status);
  // The request is over: its response complete, or given up on. Ends the try in progress and
  // records the request's time on the listener and the route. Does nothing unless begun.
  void end(Clock::time_point now = Clock::now());

  bool active() const { return listener_ != nullptr; }

 private:
  ListenerCounters* listener_ = nullptr;
  RouteCounters* route_ = nullptr;
  ClusterCounters* tryCluster_ = nullptr;
  Clock::time_point start_;
  Clock::time_point tryStart_;
};

}  // namespace braid::dataplane
