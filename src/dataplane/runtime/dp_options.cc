#include "dataplane/runtime/dp_options.h"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <thread>

#include "common/duration.h"
#include "common/log.h"

namespace braid::dataplane {
namespace {

bool isLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// "HOST:PORT" or "[V6]:PORT" → host (brackets removed) and port; false when malformed.
bool splitHostPort(const std::string& address, std::string& host, int& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  try {
    size_t used = 0;
    port = std::stoi(address.substr(colon + 1), &used);
    return used == address.size() - colon - 1 && port >= 0 && port <= 65535;
  } catch (...) {
    return false;
  }
}

}  // namespace

DpOptionsResult parseDpOptions(const std::vector<std::string>& args) {
  DpOptionsResult result;
  DpOptions& o = result.options;
  CLI::App app{"braid-dp run: the Braid sidecar proxy", "braid-dp run"};
  std::string cpAddress, drainTime = "30s";
  std::vector<std::string> vars;
  app.add_option("--cp-address", cpAddress, "the CP's dataplane server, https://HOST:PORT")
      ->required();
  app.add_option("--dataplane-file", o.dataplaneFile, "the Dataplane YAML to register")->required();
  app.add_option("--dataplane-token-file", o.dataplaneTokenFile, "the dataplane token");
  app.add_option("--ca-cert-file", o.caCertFile, "the CP's cp-ca.pem, to verify the CP");
  app.add_flag("--insecure-skip-verify", o.insecureSkipVerify,
               "do not verify the CP's certificate (development only)");
  app.add_option("--admin-address", o.adminAddress, "admin endpoint (loopback only)");
  app.add_option("--admin-port-file", o.adminPortFile, "write the bound admin port here");
  app.add_option("--concurrency", o.concurrency, "worker threads (default: number of cores)");
  app.add_option("--drain-time", drainTime, "how long SIGTERM waits for connections to finish");
  app.add_option("--proxy-type", o.proxyType, "sidecar, ingress or egress");
  app.add_option("--dataplane-var", vars, "KEY=VALUE replacing {{ KEY }} in the dataplane file");
  app.add_option("--log-level", o.logLevel, "debug, info, warn or error");

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    result.helpRequested = true;
    result.help = app.help();
    return result;
  } catch (const CLI::ParseError& e) {
    result.errors.push_back(e.what());
    return result;
  }

  std::string scheme = cpAddress.substr(0, cpAddress.find("://") + 3);
  if (scheme != "https://" && scheme != "grpcs://") {
    result.errors.push_back("--cp-address: '" + cpAddress +
                            "' must be https://HOST:PORT (the dataplane server speaks TLS)");
  } else {
    o.cpTarget = cpAddress.substr(scheme.size());
    while (!o.cpTarget.empty() && o.cpTarget.back() == '/') o.cpTarget.pop_back();
    std::string host;
    int port = 0;
    if (!splitHostPort(o.cpTarget, host, port) || port == 0) {
      result.errors.push_back("--cp-address: '" + cpAddress + "' has no valid HOST:PORT");
    }
  }
  if (o.caCertFile.empty() && !o.insecureSkipVerify) {
    result.errors.push_back(
        "--ca-cert-file: required (the CP's cp-ca.pem) unless --insecure-skip-verify is given");
  }
  std::string adminHost;
  int adminPort = 0;
  if (!splitHostPort(o.adminAddress, adminHost, adminPort)) {
    result.errors.push_back("--admin-address: '" + o.adminAddress + "' is not HOST:PORT");
  } else if (!isLoopbackHost(adminHost)) {
    result.errors.push_back("--admin-address: '" + o.adminAddress +
                            "' is not a loopback address (the admin endpoint is loopback only)");
  }
  if (o.concurrency < 0 || o.concurrency > 256) {
    result.errors.push_back("--concurrency: must be from 1 to 256");
  }
  if (o.concurrency == 0) o.concurrency = std::max(1u, std::thread::hardware_concurrency());
  auto drain = parseDuration(drainTime);
  if (!drain || drain->count() < 0) {
    result.errors.push_back("--drain-time: '" + drainTime + "' is not a duration such as 30s");
  } else {
    o.drainTime = std::chrono::duration_cast<std::chrono::milliseconds>(*drain);
  }
  if (o.proxyType != "sidecar" && o.proxyType != "ingress" && o.proxyType != "egress") {
    result.errors.push_back("--proxy-type: must be sidecar, ingress or egress");
  } else if (o.proxyType != "sidecar") {
    result.errors.push_back("--proxy-type " + o.proxyType +
                            ": not supported by this version of braid-dp (sidecar only)");
  }
  for (const auto& kv : vars) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      result.errors.push_back("--dataplane-var: '" + kv + "' must be KEY=VALUE");
    } else {
      o.dataplaneVars[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  log::Level level;
  if (!log::parseLevel(o.logLevel, level)) {
    result.errors.push_back("--log-level: must be debug, info, warn or error");
  }
  return result;
}

}  // namespace braid::dataplane
