#pragma once

// MeshRetry for one request: which failures a route's RetryPolicy retries, how long to back off
// before the next try, and the retry budget that keeps retries from multiplying a struggling
// cluster's load (Envoy's defaults: retries may be at most 20% of the cluster's active requests,
// and 3 are always allowed).

#include <chrono>
#include <cstdint>
#include <string_view>

#include "dataplane/config/route_config.h"
#include "dataplane/stats/stats.h"

namespace braid::dataplane::hcm {

// What ended a try.
enum class TryFailure {
  kConnectFailure,  // connect or TLS handshake failed
  kReset,           // the connection closed (or broke) before a response head
  kTimeout,         // the per-try timeout expired before a response head
  kStatus,          // a response head with a status
};

// Whether `policy` retries this failure (`status` for kStatus).
bool retriable(const RetryPolicy& policy, std::string_view method, TryFailure failure,
               int status = 0);

// Whether `policy` retries a gRPC answer whose grpc-status (in a trailers-only response) is
// `grpcStatus` (CANCELLED 1, DEADLINE_EXCEEDED 4, RESOURCE_EXHAUSTED 8, INTERNAL 13,
// UNAVAILABLE 14 are the retriable ones, each when its condition is on).
bool grpcRetriable(const RetryPolicy& policy, int grpcStatus);

// Full-jitter exponential backoff before retry number `retry` (1 for the first): a uniform
// random delay in [0, min(base * 2^(retry-1), max)], from a 64-bit random number.
std::chrono::milliseconds backoff(const RetryPolicy& policy, uint32_t retry, uint64_t random);

// The retry budget over every worker's requests to one cluster.
// `maxRetries` (MeshCircuitBreaker, 0 = none) caps the retries in progress as well.
bool budgetAllows(const ClusterCounters& counters, uint32_t maxRetries = 0);

}  // namespace braid::dataplane::hcm
