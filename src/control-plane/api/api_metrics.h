#pragma once

// Counters the REST API exposes on /metrics in Prometheus text format.

#include <atomic>
#include <map>
#include <mutex>
#include <string>

namespace braid::api {

class ApiMetrics {
 public:
  void recordRequest(const std::string& method, int status, double seconds);
  void recordStoreError() { storeErrors_++; }
  // Prometheus exposition text (version 0.0.4).
  std::string render(const std::map<std::string, int64_t>& resourceCounts) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  double requestSecondsSum_ = 0;
  uint64_t requestCount_ = 0;
  std::atomic<uint64_t> storeErrors_{0};
};

}  // namespace braid::api
