#include "dataplane/filters/http/retry_state.h"

#include <algorithm>

namespace braid::dataplane::hcm {

bool grpcRetriable(const RetryPolicy& policy, int grpcStatus) {
  if (!policy.enabled || policy.numRetries == 0) return false;
  uint32_t bit = 0;
  switch (grpcStatus) {
    case 1:
      bit = RetryPolicy::kGrpcCancelled;
      break;
    case 4:
      bit = RetryPolicy::kGrpcDeadlineExceeded;
      break;
    case 8:
      bit = RetryPolicy::kGrpcResourceExhausted;
      break;
    case 13:
      bit = RetryPolicy::kGrpcInternal;
      break;
    case 14:
      bit = RetryPolicy::kGrpcUnavailable;
      break;
    default:
      return false;
  }
  return (policy.retryOn & bit) != 0;
}

bool retriable(const RetryPolicy& policy, std::string_view method, TryFailure failure, int status) {
  if (!policy.enabled || policy.numRetries == 0) return false;
  if (!policy.retriableMethods.empty() &&
      std::find(policy.retriableMethods.begin(), policy.retriableMethods.end(), method) ==
          policy.retriableMethods.end()) {
    return false;
  }
  const uint32_t on = policy.retryOn;
  switch (failure) {
    case TryFailure::kConnectFailure:
      // Envoy's 5xx and gateway-error include not getting a response at all.
      return (on & (RetryPolicy::k5xx | RetryPolicy::kGatewayError | RetryPolicy::kReset |
                    RetryPolicy::kConnectFailure)) != 0;
    case TryFailure::kReset:
    case TryFailure::kTimeout:
      return (on & (RetryPolicy::k5xx | RetryPolicy::kGatewayError | RetryPolicy::kReset)) != 0;
    case TryFailure::kStatus:
      break;
  }
  if ((on & RetryPolicy::k5xx) != 0 && status >= 500 && status <= 599) return true;
  if ((on & RetryPolicy::kGatewayError) != 0 && (status == 502 || status == 503 || status == 504)) {
    return true;
  }
  if ((on & RetryPolicy::kRetriable4xx) != 0 && status == 409) return true;
  if ((on & RetryPolicy::kRetriableStatusCodes) != 0) {
    for (uint16_t code : policy.retriableStatusCodes) {
      if (code == status) return true;
    }
  }
  return false;
}

std::chrono::milliseconds backoff(const RetryPolicy& policy, uint32_t retry, uint64_t random) {
  const int64_t base = std::max<int64_t>(policy.backoffBase.count(), 1);
  const int64_t cap = std::max<int64_t>(policy.backoffMax.count(), base);
  int64_t ceiling = base;
  for (uint32_t i = 1; i < retry && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  return std::chrono::milliseconds(
      static_cast<int64_t>(random % static_cast<uint64_t>(ceiling + 1)));
}

bool budgetAllows(const ClusterCounters& counters, uint32_t maxRetries) {
  const uint64_t active = counters.upstreamRqActive.load(std::memory_order_relaxed);
  const uint64_t retries = counters.upstreamRqRetryActive.load(std::memory_order_relaxed);
  if (maxRetries > 0 && retries >= maxRetries) return false;
  return retries < std::max<uint64_t>(3, active / 5);
}

}  // namespace braid::dataplane::hcm
