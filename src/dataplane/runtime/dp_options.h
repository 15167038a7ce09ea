#pragma once

// `braid-dp run` flags (CONTRACT §5), parsed and checked: every problem is reported at once.

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace braid::dataplane {

struct DpOptions {
  std::string cpTarget;  // HOST:PORT from --cp-address https://HOST:PORT
  std::string dataplaneFile;
  std::string dataplaneTokenFile;
  std::string caCertFile;
  bool insecureSkipVerify = false;
  std::string adminAddress = "127.0.0.1:9901";
  std::string adminPortFile;
  int concurrency = 0;  // 0 = number of cores
  std::chrono::milliseconds drainTime{30000};
  std::string proxyType = "sidecar";
  std::map<std::string, std::string> dataplaneVars;
  std::string logLevel = "info";
};

struct DpOptionsResult {
  DpOptions options;
  std::vector<std::string> errors;
  bool helpRequested = false;
  std::string help;
};

DpOptionsResult parseDpOptions(const std::vector<std::string>& args);

}  // namespace braid::dataplane
