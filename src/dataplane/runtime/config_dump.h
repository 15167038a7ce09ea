#pragma once

// The running configuration as /config_dump shows it: {"version":…,"config":{…}} in the same
// JSON the CP's `_config` returns, so the two can be compared.

#include <mutex>
#include <string>

namespace braid::proxy::v1 {
class ProxyConfig;
}

namespace braid::dataplane {

class ConfigDump {
 public:
  void set(const std::string& version, const braid::proxy::v1::ProxyConfig& config);
  std::string json() const;

 private:
  mutable std::mutex mutex_;
  std::string json_ = "{\"version\":\"\",\"config\":null}";
};

}  // namespace braid::dataplane
