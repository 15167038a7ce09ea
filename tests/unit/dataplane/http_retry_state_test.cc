// MeshRetry decisions of the HTTP connection manager: conditions, backoff, retry budget.

#include <gtest/gtest.h>

#include "dataplane/filters/http/retry_state.h"

namespace braid::dataplane::hcm {
namespace {

RetryPolicy policy(uint32_t on) {
  RetryPolicy out;
  out.enabled = true;
  out.numRetries = 2;
  out.retryOn = on;
  return out;
}

TEST(HttpRetryState, ConditionsFollowEnvoysRetryOn) {
  EXPECT_TRUE(retriable(policy(RetryPolicy::k5xx), "GET", TryFailure::kStatus, 500));
  EXPECT_TRUE(retriable(policy(RetryPolicy::k5xx), "GET", TryFailure::kReset));
  EXPECT_TRUE(retriable(policy(RetryPolicy::k5xx), "GET", TryFailure::kConnectFailure));
  EXPECT_FALSE(retriable(policy(RetryPolicy::k5xx), "GET", TryFailure::kStatus, 404));
  EXPECT_FALSE(retriable(policy(RetryPolicy::kGatewayError), "GET", TryFailure::kStatus, 500));
  EXPECT_TRUE(retriable(policy(RetryPolicy::kGatewayError), "GET", TryFailure::kStatus, 503));
  EXPECT_TRUE(retriable(policy(RetryPolicy::kGatewayError), "GET", TryFailure::kTimeout));
  EXPECT_FALSE(retriable(policy(RetryPolicy::kReset), "GET", TryFailure::kStatus, 503));
  EXPECT_TRUE(retriable(policy(RetryPolicy::kReset), "GET", TryFailure::kReset));
  EXPECT_TRUE(retriable(policy(RetryPolicy::kConnectFailure), "GET", TryFailure::kConnectFailure));
  EXPECT_FALSE(retriable(policy(RetryPolicy::kConnectFailure), "GET", TryFailure::kReset));
  RetryPolicy codes = policy(RetryPolicy::kRetriableStatusCodes);
  codes.retriableStatusCodes = {429};
  EXPECT_TRUE(retriable(codes, "GET", TryFailure::kStatus, 429));
  EXPECT_FALSE(retriable(codes, "GET", TryFailure::kStatus, 503));
  RetryPolicy methods = policy(RetryPolicy::k5xx);
  methods.retriableMethods = {"GET"};
  EXPECT_FALSE(retriable(methods, "POST", TryFailure::kStatus, 500));
  RetryPolicy off = policy(RetryPolicy::k5xx);
  off.enabled = false;
  EXPECT_FALSE(retriable(off, "GET", TryFailure::kStatus, 500));
}

TEST(HttpRetryState, GrpcConditionsFollowTheStatusOfATrailersOnlyAnswer) {
  RetryPolicy unavailable = policy(RetryPolicy::kGrpcUnavailable);
  EXPECT_TRUE(grpcRetriable(unavailable, 14));
  EXPECT_FALSE(grpcRetriable(unavailable, 4));
  EXPECT_FALSE(grpcRetriable(unavailable, 0));
  RetryPolicy all = policy(RetryPolicy::kGrpcCancelled | RetryPolicy::kGrpcDeadlineExceeded |
                           RetryPolicy::kGrpcInternal | RetryPolicy::kGrpcResourceExhausted |
                           RetryPolicy::kGrpcUnavailable);
  for (int code : {1, 4, 8, 13, 14}) EXPECT_TRUE(grpcRetriable(all, code)) << code;
  for (int code : {0, 2, 3, 5, 7, 12, 16}) EXPECT_FALSE(grpcRetriable(all, code)) << code;
  // HTTP conditions never retry a gRPC status, and a disabled policy nothing.
  EXPECT_FALSE(grpcRetriable(policy(RetryPolicy::k5xx), 14));
  all.enabled = false;
  EXPECT_FALSE(grpcRetriable(all, 14));
}

TEST(HttpRetryState, BackoffIsJitteredExponentialUpToTheMaximum) {
  RetryPolicy p = policy(RetryPolicy::k5xx);
  p.backoffBase = std::chrono::milliseconds(25);
  p.backoffMax = std::chrono::milliseconds(250);
  for (uint64_t random : {uint64_t{0}, uint64_t{7}, uint64_t{1} << 40, ~uint64_t{0}}) {
    EXPECT_LE(backoff(p, 1, random).count(), 25);
    EXPECT_LE(backoff(p, 2, random).count(), 50);
    EXPECT_LE(backoff(p, 10, random).count(), 250);
  }
  int64_t largest = 0;
  for (uint64_t r = 0; r < 1000; ++r) largest = std::max(largest, backoff(p, 10, r * 7919).count());
  EXPECT_GT(largest, 200);  // jitter spans the range
}

TEST(HttpRetryState, BudgetAllowsTwentyPercentAndAtLeastThree) {
  ClusterCounters counters;
  counters.upstreamRqActive = 5;
  counters.upstreamRqRetryActive = 2;
  EXPECT_TRUE(budgetAllows(counters));
  counters.upstreamRqRetryActive = 3;
  EXPECT_FALSE(budgetAllows(counters));
  counters.upstreamRqActive = 100;
  counters.upstreamRqRetryActive = 19;
  EXPECT_TRUE(budgetAllows(counters));
  counters.upstreamRqRetryActive = 20;
  EXPECT_FALSE(budgetAllows(counters));
}

TEST(RetryBudget, MaxRetriesCapsRetriesInProgress) {
  ClusterCounters counters;
  counters.upstreamRqActive = 100;  // the budget alone would allow 20
  counters.upstreamRqRetryActive = 4;
  EXPECT_TRUE(budgetAllows(counters, 0));
  EXPECT_TRUE(budgetAllows(counters, 5));
  EXPECT_FALSE(budgetAllows(counters, 4));
}

}  // namespace
}  // namespace braid::dataplane::hcm
