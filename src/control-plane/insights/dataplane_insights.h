#pragma once

// What the CP knows about each dataplane's connection: online or not, since when, which config
// versions were sent and acknowledged, the last rejection, the certificate's expiry. The
// dataplane server (discovery stream) writes it; the REST API's `_overview` reads it. Kept in
// memory: it describes live connections to this CP instance.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "common/json.h"

namespace braid {

struct Rejection {
  std::string version;
  std::string error;
  std::string time;
};

struct DataplaneInsight {
  bool online = false;
  std::optional<std::string> connectedSince;
  std::optional<std::string> configVersionSent;
  std::optional<std::string> configVersionAcked;
  std::optional<Rejection> lastRejection;
  std::optional<std::string> certificateExpiry;
  // Workload certificates issued (Kuma's `mTLS` insight): by which backend, how many, the last.
  std::optional<std::string> certificateBackend;
  std::optional<std::string> lastCertificateRegeneration;
  uint64_t certificateRegenerations = 0;
  // The current (or last) discovery stream: Kuma's `subscriptions[].status.total`.
  std::optional<std::string> streamId;
  uint64_t responsesSent = 0;
  uint64_t responsesAcknowledged = 0;
  uint64_t responsesRejected = 0;
  std::string proxyVersion;

  // {"online":…,"connectedSince":…|null,…,"subscriptions":[]}: the shape of `dataplaneInsight`.
  Json toJson() const;
};

class DataplaneInsights {
 public:
  // A dataplane never seen has the default insight: offline, nothing sent.
  DataplaneInsight get(const std::string& mesh, const std::string& name) const;
  void set(const std::string& mesh, const std::string& name, DataplaneInsight insight);
  // Read-modify-write under the lock.
  void update(const std::string& mesh, const std::string& name,
              const std::function<void(DataplaneInsight&)>& change);
  void remove(const std::string& mesh, const std::string& name);

 private:
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string>, DataplaneInsight> insights_;
};

}  // namespace braid
