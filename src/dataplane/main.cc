// braid-dp: the sidecar proxy. `braid-dp run [FLAGS]` (CONTRACT §5).
//
// Threads: this one owns startup, signals and shutdown; the discovery client's thread receives
// configurations, compiles them and hands snapshots to the workers; the admin server answers on
// loopback; `--concurrency` workers carry the traffic on their own event loops.
#include <signal.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "braid/proxy/v1/config.pb.h"
#include "common/http/server.h"
#include "common/log.h"
#include "dataplane/admin/admin_handler.h"
#include "dataplane/config/admin_stream_client.h"
#include "dataplane/config/dataplane_file.h"
#include "dataplane/config/discovery_client.h"
#include "dataplane/config/proxy_config_compiler.h"
#include "dataplane/identity/identity_manager.h"
#include "dataplane/runtime/ca_bundle.h"
#include "dataplane/runtime/config_dump.h"
#include "dataplane/runtime/discovery_metrics.h"
#include "dataplane/runtime/dp_options.h"
#include "dataplane/server/worker_pool.h"
#include "dataplane/stats/stats.h"

namespace {

constexpr const char* kVersion = "0.1.0";
// How long a draining proxy keeps accepting after telling the CP it is going: enough for the CP
// to push its peers (tens of milliseconds on a LAN), short enough for SIGTERM to feel prompt.
constexpr std::chrono::milliseconds kDeregistrationWait{500};

int fail(const std::string& message) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  return 1;
}

bool readFile(const std::string& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

bool writePortFile(const std::string& path, int port, std::string& error) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) {
      error = "cannot write " + tmp;
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + tmp + " to " + path;
    return false;
  }
  return true;
}

int run(const std::vector<std::string>& args) {
  using namespace braid;
  using namespace braid::dataplane;
  auto parsed = parseDpOptions(args);
  if (parsed.helpRequested) {
    std::fputs(parsed.help.c_str(), stdout);
    return 0;
  }
  if (!parsed.errors.empty()) {
    std::string all;
    for (const auto& e : parsed.errors) all += "\n  " + e;
    return fail("invalid flags:" + all);
  }
  const DpOptions& options = parsed.options;
  log::Level level;
  log::parseLevel(options.logLevel, level);
  log::setLevel(level);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  DataplaneFile dataplane;
  std::string error;
  if (!loadDataplaneFile(options.dataplaneFile, options.dataplaneVars, dataplane, error)) {
    return fail(error);
  }
  if (dataplane.type != "Dataplane") {
    return fail(options.dataplaneFile + ": a " + dataplane.type +
                " cannot run as a sidecar (this version of braid-dp runs Dataplanes only)");
  }
  std::string caPem;
  if (!options.caCertFile.empty() && !loadCaBundle(options.caCertFile, caPem, error)) {
    return fail(error);
  }
  if (options.insecureSkipVerify) {
    log::warn(
        "the control plane's certificate is NOT verified (--insecure-skip-verify): "
        "development use only");
  }
  std::string token;
  if (!options.dataplaneTokenFile.empty()) {
    if (!readFile(options.dataplaneTokenFile, token)) {
      return fail("cannot read --dataplane-token-file " + options.dataplaneTokenFile);
    }
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
      token.pop_back();
    }
    if (token.empty())
      return fail("--dataplane-token-file " + options.dataplaneTokenFile + " is empty");
  }

  Stats stats;
  WorkerPool workers(options.concurrency, stats);
  ConfigDump dump;

  IdentityManagerOptions identityOptions;
  identityOptions.channel = {options.cpTarget, caPem, options.insecureSkipVerify};
  identityOptions.token = token;
  identityOptions.mesh = dataplane.mesh;
  identityOptions.dataplane = dataplane.name;
  IdentityManager identity(identityOptions, [&workers](WorkloadIdentityPtr certificates) {
    return workers.setIdentity(std::move(certificates));
  });

  DiscoveryClientOptions clientOptions;
  clientOptions.target = options.cpTarget;
  clientOptions.caPem = caPem;
  clientOptions.insecureSkipVerify = options.insecureSkipVerify;
  clientOptions.dataplane = dataplane.text;
  clientOptions.token = token;
  clientOptions.nodeId = dataplane.mesh + "." + dataplane.name;
  clientOptions.version = kVersion;
  DiscoveryClient discovery(
      clientOptions, [&](const std::string& version, const braid::proxy::v1::ProxyConfig& config) {
        auto compiled = compileProxyConfig(config, version);
        if (!compiled.snapshot) return compiled.error;
        if (auto applyError = workers.apply(compiled.snapshot); !applyError.empty()) {
          return applyError;
        }
        const Snapshot& applied = *compiled.snapshot;
        identity.require(applied.mtls.enabled ? applied.mtls.backend : "", applied.identities);
        dump.set(version, config);
        log::info("configuration applied", {{"version", version},
                                            {"listeners", std::to_string(config.listeners_size())},
                                            {"clusters", std::to_string(config.clusters_size())}});
        return std::string();
      });

  std::atomic<bool> draining{false};
  AdminSources sources;
  // Ready once the first configuration and, with mTLS, the certificates it needs are in place.
  sources.configured = [&] { return workers.current() != nullptr && workers.identityReady(); };
  sources.draining = [&] { return draining.load(); };
  sources.configDump = [&] { return dump.json(); };
  sources.prometheus = [&] {
    workers.flushStats();  // byte counts of open connections, not only of closed ones
    return stats.renderPrometheus() + discoveryMetrics(discovery, workers);
  };
  sources.clusters = [&] { return workers.clustersText(); };
  // Draining: first tell the CP (closing the stream marks this proxy offline, so peers mark its
  // endpoints unhealthy), give that a moment to reach them, then stop accepting.
  auto drain = [&] {
    if (draining.exchange(true)) return;
    discovery.stop();
    identity.stop();
    std::this_thread::sleep_for(std::min(options.drainTime, kDeregistrationWait));
    workers.stopListening();
  };
  sources.drain = drain;
  AdminHandler admin(sources);
  http::ServerOptions adminOptions;
  adminOptions.address = options.adminAddress;
  adminOptions.handler = [&admin](const http::Request& r) { return admin.handle(r); };
  http::Server adminServer(adminOptions);
  if (!adminServer.start(error)) {
    return fail("cannot serve the admin endpoint on " + options.adminAddress + ": " + error);
  }
  if (!options.adminPortFile.empty() &&
      !writePortFile(options.adminPortFile, adminServer.port(), error)) {
    return fail(error);
  }
  // The CP asks for this proxy's stats and clusters over a stream the proxy opens (braidctl
  // inspect dataplane --type stats|clusters): the same text as the admin endpoint's.
  AdminStreamClientOptions adminStreamOptions;
  adminStreamOptions.target = options.cpTarget;
  adminStreamOptions.caPem = caPem;
  adminStreamOptions.insecureSkipVerify = options.insecureSkipVerify;
  adminStreamOptions.dataplane = dataplane.text;
  adminStreamOptions.token = token;
  adminStreamOptions.nodeId = clientOptions.nodeId;
  adminStreamOptions.version = kVersion;
  AdminStreamClient adminStream(adminStreamOptions, [&admin](const std::string& path) {
    http::Request request;
    request.method = "GET";
    request.target = path;
    request.path = path;
    request.fromLoopback = true;
    return admin.handle(request);
  });
  log::info("braid-dp started", {{"dataplane", clientOptions.nodeId},
                                 {"cp", options.cpTarget},
                                 {"admin", std::to_string(adminServer.port())},
                                 {"workers", std::to_string(options.concurrency)},
                                 {"version", kVersion}});
  identity.start();
  discovery.start();
  adminStream.start();

  int sig = 0;
  sigwait(&signals, &sig);
  log::info("draining", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                         {"drainTime", std::to_string(options.drainTime.count()) + "ms"}});
  drain();
  auto deadline = std::chrono::steady_clock::now() + options.drainTime;
  while (workers.activeConnections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  uint64_t left = workers.activeConnections();
  adminServer.stop();
  log::info("braid-dp stopped", {{"connectionsCut", std::to_string(left)}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::printf(
        "Usage: braid-dp run [FLAGS]   run the sidecar proxy\n"
        "       braid-dp version       print the version\n"
        "Run 'braid-dp run --help' for the flags.\n");
    return args.empty() ? 1 : 0;
  }
  if (args[0] == "version") {
    std::printf("braid-dp %s\n", kVersion);
    return 0;
  }
  if (args[0] == "run") return run({args.begin() + 1, args.end()});
  return fail("unknown command '" + args[0] + "': use 'braid-dp run' or 'braid-dp version'");
}
