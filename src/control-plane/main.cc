// braid-cp: the control plane. `braid-cp run [FLAGS]` (CONTRACT §2).
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "common/http/server.h"
#include "common/log.h"
#include "control-plane/api/api_handler.h"
#include "control-plane/auth/dataplane_tokens.h"
#include "control-plane/ca/cp_tls.h"
#include "control-plane/insights/dataplane_insights.h"
#include "control-plane/runtime/cp_config.h"
#include "control-plane/runtime/data_dir.h"
#include "control-plane/runtime/periodic_task.h"
#include "control-plane/store/store.h"
#include "control-plane/xds/discovery_server.h"

extern char** environ;

namespace {

constexpr const char* kVersion = "0.1.0";

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "Error: %s\n", message.c_str());
  return 1;
}

int run(const std::vector<std::string>& args) {
  using namespace braid;
  auto loaded = runtime::loadCpConfig(args, environment());
  if (loaded.helpRequested) {
    std::fputs(runtime::cpUsage().c_str(), stdout);
    return 0;
  }
  if (!loaded.errors.empty()) {
    std::string all;
    for (const auto& e : loaded.errors) all += "\n  " + e;
    return fail("invalid configuration:" + all);
  }
  const runtime::CpConfig& config = loaded.config;
  log::Level level;
  log::parseLevel(config.logLevel, level);
  log::setLevel(level);

  // Signals are taken synchronously by this thread (sigwait), so every other thread starts
  // with them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (auto err = runtime::ensureDataDir(config.dataDir); !err.empty()) return fail(err);
  runtime::removePortsFile(config.dataDir);
  std::string adminToken, tokenError;
  if (!runtime::loadOrCreateAdminToken(config.dataDir, adminToken, tokenError)) {
    return fail(tokenError);
  }
  if (config.dpAuth == "none") {
    log::warn("dataplane authentication is off (--dp-auth none): development use only");
  }
  if (config.store == "kubernetes") {
    return fail("--store kubernetes is not supported by this version of braid-cp");
  }

  auto opened = store::openStore(config.store);
  if (!opened.store) {
    return fail("cannot open store " + runtime::redactCredentials(config.store) + ": " +
                opened.error);
  }
  log::info("store opened", {{"store", opened.store->describe()}});

  // The dataplane server's TLS identity, signed by the CA in DATA_DIR/cp-ca.pem.
  std::string xdsHost = config.xdsAddress.substr(0, config.xdsAddress.rfind(':'));
  if (xdsHost.size() > 1 && xdsHost.front() == '[') xdsHost = xdsHost.substr(1, xdsHost.size() - 2);
  ca::CpTlsMaterial tls;
  std::string tlsError;
  if (!ca::loadOrCreateCpTls(config.dataDir, ca::defaultServerHosts(xdsHost), tls, tlsError)) {
    return fail(tlsError);
  }

  DataplaneInsights insights;
  xds::DiscoveryServerOptions xdsOptions;
  xdsOptions.address = config.xdsAddress;
  xdsOptions.serverCertFile = config.dataDir + "/cp-server.pem";
  xdsOptions.serverKeyFile = config.dataDir + "/cp-server-key.pem";
  // Dataplane tokens: per-mesh ES256 signing keys in the store; checked when a stream opens.
  auth::DataplaneTokens tokens(*opened.store);
  xdsOptions.requireToken = config.dpAuth == "token";
  xdsOptions.authenticate = [&tokens](const std::string& token, xds::TokenGrant& grant,
                                      std::string& why) {
    auth::DataplaneTokenClaims claims;
    if (!tokens.verify(token, claims, why)) return false;
    grant.mesh = claims.mesh;
    grant.name = claims.name;
    grant.tags = claims.tags;
    return true;
  };
  xds::DiscoveryServer discovery(*opened.store, insights, xdsOptions);
  std::string xdsError;
  if (!discovery.start(xdsError)) return fail("cannot serve the dataplane server: " + xdsError);
  log::info("dataplane server listening",
            {{"address", config.xdsAddress}, {"port", std::to_string(discovery.port())}});

  api::ApiOptions apiOptions;
  apiOptions.issueDataplaneToken = [&tokens](const std::string& mesh, const std::string& name,
                                             const std::map<std::string, std::string>& tags,
                                             int64_t validFor, std::string& token,
                                             std::string& error) {
    return tokens.issue(mesh, name, tags, validFor, token, error);
  };
  apiOptions.revokeDataplaneToken = [&tokens](const std::string& mesh, const std::string& id,
                                              std::string& error) {
    return tokens.revoke(mesh, id, error);
  };
  apiOptions.rotateDataplaneTokenKey = [&tokens](const std::string& mesh, std::string& keyId,
                                                 std::string& error) {
    return tokens.rotateSigningKey(mesh, keyId, error);
  };
  apiOptions.removeDataplaneTokenKey = [&tokens](const std::string& mesh, const std::string& keyId,
                                                 std::string& error) {
    return tokens.removeSigningKey(mesh, keyId, error);
  };
  apiOptions.proxyConfig = [&discovery](const std::string& mesh, const std::string& name) {
    return discovery.configJsonFor(mesh, name);
  };
  apiOptions.askProxy = [&discovery](const std::string& mesh, const std::string& name,
                                     const std::string& kind) {
    return discovery.askProxy(mesh, name, kind);
  };
  apiOptions.mode = config.mode;
  apiOptions.zone = config.zone;
  apiOptions.version = kVersion;
  apiOptions.auth = {adminToken, config.loopbackAdmin};
  api::ApiHandler handler(*opened.store, insights, apiOptions);

  http::ServerOptions serverOptions;
  serverOptions.address = config.apiAddress;
  serverOptions.handler = [&handler](const http::Request& r) { return handler.handle(r); };
  serverOptions.screenHead = [&handler](const http::Request& r) { return handler.screenHead(r); };
  http::Server apiServer(serverOptions);
  std::string error;
  if (!apiServer.start(error))
    return fail("cannot serve the API on " + config.apiAddress + ": " + error);
  log::info("API server listening",
            {{"address", config.apiAddress}, {"port", std::to_string(apiServer.port())}});

  if (auto err = runtime::writePortsFile(config.dataDir,
                                         {{"api", apiServer.port()}, {"xds", discovery.port()}});
      !err.empty()) {
    return fail(err);
  }
  log::info("braid-cp started", {{"mode", config.mode}, {"version", kVersion}});

  // The server certificate lasts a year and is re-issued within 30 days of its end; the
  // dataplane server re-reads the files, so a long-running CP never serves an expired one.
  runtime::PeriodicTask renewal(std::chrono::hours(6), [&] {
    ca::CpTlsMaterial renewed;
    std::string renewError;
    if (!ca::loadOrCreateCpTls(config.dataDir, ca::defaultServerHosts(xdsHost), renewed,
                               renewError)) {
      log::error("cannot renew the control plane's server certificate", {{"error", renewError}});
    }
  });

  int sig = 0;
  sigwait(&signals, &sig);
  log::info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  discovery.stop();
  apiServer.stop();
  log::info("braid-cp stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::printf(
        "Usage: braid-cp run [FLAGS]   start the control plane\n"
        "       braid-cp version       print the version\n\n%s",
        braid::runtime::cpUsage().c_str());
    return args.empty() ? 1 : 0;
  }
  if (args[0] == "version") {
    std::printf("braid-cp %s\n", kVersion);
    return 0;
  }
  if (args[0] == "run") return run({args.begin() + 1, args.end()});
  return fail("unknown command '" + args[0] + "': use 'braid-cp run' or 'braid-cp version'");
}
