#include "control-plane/api/api_metrics.h"

#include <set>
#include <sstream>

namespace braid::api {

void ApiMetrics::recordRequest(const std::string& method, int status, double seconds) {
  // Methods are client-chosen tokens: unknown ones share one label so that the series (and this
  // map) stay bounded.
  static const std::set<std::string> kMethods = {"GET",    "HEAD",  "PUT",    "POST",
                                                 "DELETE", "PATCH", "OPTIONS"};
  const std::string label = kMethods.count(method) ? method : "OTHER";
  std::lock_guard lock(mutex_);
  requests_[{label, status}]++;
  requestSecondsSum_ += seconds;
  requestCount_++;
}

std::string ApiMetrics::render(const std::map<std::string, int64_t>& resourceCounts) const {
  std::ostringstream out;
  std::lock_guard lock(mutex_);
  out << "# HELP braid_cp_api_requests_total REST API requests by method and status code.\n"
      << "# TYPE braid_cp_api_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    out << "braid_cp_api_requests_total{method=\"" << key.first << "\",code=\"" << key.second
        << "\"} " << count << "\n";
  }
  out << "# HELP braid_cp_api_request_duration_seconds Time spent serving REST API requests.\n"
      << "# TYPE braid_cp_api_request_duration_seconds summary\n"
      << "braid_cp_api_request_duration_seconds_sum " << requestSecondsSum_ << "\n"
      << "braid_cp_api_request_duration_seconds_count " << requestCount_ << "\n";
  out << "# HELP braid_cp_store_errors_total Store operations that failed.\n"
      << "# TYPE braid_cp_store_errors_total counter\n"
      << "braid_cp_store_errors_total " << storeErrors_.load() << "\n";
  out << "# HELP braid_cp_resources Resources in the store by type.\n"
      << "# TYPE braid_cp_resources gauge\n";
  for (const auto& [type, count] : resourceCounts) {
    out << "braid_cp_resources{type=\"" << type << "\"} " << count << "\n";
  }
  return out.str();
}

}  // namespace braid::api
