#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "http_client.h"

namespace braid::bench {

struct OpenLoopOptions {
  Url url;
  double rate = 1000;  // requests per second, sent at evenly spaced intended times
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  // Requests intended in this first part of the run are sent but not measured.
  std::chrono::nanoseconds warmup = std::chrono::seconds(1);
  int connections = 8;
  // A request unanswered for this long is an error; the run also waits this long at most for
  // the requests still in flight when the schedule ends.
  std::chrono::nanoseconds timeout = std::chrono::seconds(2);
};

struct OpenLoopResult {
  uint64_t scheduled = 0;  // requests whose intended time fell within the duration
  uint64_t completed = 0;  // answered with a 2xx or 3xx
  uint64_t connectErrors = 0;
  uint64_t ioErrors = 0;      // a read or write failed, or the server closed mid-response
  uint64_t statusErrors = 0;  // answered with 4xx or 5xx
  uint64_t timeouts = 0;
  uint64_t protocolErrors = 0;  // a response this client cannot read
  uint64_t unfinished = 0;      // still unsent or unanswered when the run gave up waiting
  uint64_t largestBacklog = 0;  // most requests ever due at once with no idle connection
  double seconds = 0;           // from the first intended time to the last response
  // From the intended send time to the end of the response, of the measured requests; sorted.
  std::vector<int64_t> latencyNs;
  // From the intended to the actual send time; sorted. Shows how far behind the schedule the
  // generator (or the connections it had free) fell.
  std::vector<int64_t> sendLagNs;

  uint64_t errors() const {
    return connectErrors + ioErrors + statusErrors + timeouts + protocolErrors;
  }
  double achievedRate() const { return seconds > 0 ? static_cast<double>(completed) / seconds : 0; }
};

// Nearest-rank percentile (0 < p ≤ 100) of sorted samples; 0 when there are none.
int64_t percentile(const std::vector<int64_t>& sorted, double p);

// Opens the connections, then sends GET requests at fixed intended times, start + k / rate, each
// on any idle keep-alive connection; a request due while none is idle waits and its latency keeps
// counting from its intended time (coordinated omission corrected, as wrk2 does). Throws
// std::runtime_error when it cannot set up (no connection within the timeout, epoll failing).
OpenLoopResult runOpenLoop(const OpenLoopOptions& options);

}  // namespace braid::bench
