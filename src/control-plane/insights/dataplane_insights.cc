#include "control-plane/insights/dataplane_insights.h"

namespace braid {
namespace {
Json orNull(const std::optional<std::string>& v) { return v ? Json(*v) : Json(nullptr); }
}  // namespace

Json DataplaneInsight::toJson() const {
  Json j = Json::object();
  j["online"] = online;
  j["connectedSince"] = orNull(connectedSince);
  j["configVersionSent"] = orNull(configVersionSent);
  j["configVersionAcked"] = orNull(configVersionAcked);
  if (lastRejection) {
    j["lastRejection"] = {{"version", lastRejection->version},
                          {"error", lastRejection->error},
                          {"time", lastRejection->time}};
  } else {
    j["lastRejection"] = nullptr;
  }
  j["certificateExpiry"] = orNull(certificateExpiry);
  if (certificateExpiry) {
    j["mTLS"] = {{"certificateExpirationTime", *certificateExpiry},
                 {"issuedBackend", orNull(certificateBackend)},
                 {"lastCertificateRegeneration", orNull(lastCertificateRegeneration)},
                 {"certificateRegenerations", certificateRegenerations}};
  }
  j["subscriptions"] = Json::array();
  if (streamId) {
    j["subscriptions"].push_back({{"id", *streamId},
                                  {"connectTime", orNull(connectedSince)},
                                  {"version", proxyVersion},
                                  {"status",
                                   {{"total",
                                     {{"responsesSent", responsesSent},
                                      {"responsesAcknowledged", responsesAcknowledged},
                                      {"responsesRejected", responsesRejected}}}}}});
  }
  return j;
}

DataplaneInsight DataplaneInsights::get(const std::string& mesh, const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = insights_.find({mesh, name});
  return it == insights_.end() ? DataplaneInsight{} : it->second;
}

void DataplaneInsights::set(const std::string& mesh, const std::string& name,
                            DataplaneInsight insight) {
  std::lock_guard lock(mutex_);
  insights_[{mesh, name}] = std::move(insight);
}

void DataplaneInsights::update(const std::string& mesh, const std::string& name,
                               const std::function<void(DataplaneInsight&)>& change) {
  std::lock_guard lock(mutex_);
  change(insights_[{mesh, name}]);
}

void DataplaneInsights::remove(const std::string& mesh, const std::string& name) {
  std::lock_guard lock(mutex_);
  insights_.erase({mesh, name});
}

}  // namespace braid
