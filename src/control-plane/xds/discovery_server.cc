#include "control-plane/xds/discovery_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <atomic>

#include "braid/discovery/v1/discovery.grpc.pb.h"
#include "common/log.h"
#include "control-plane/ca/mesh_ca.h"
#include "control-plane/xds/bearer_token.h"
#include "control-plane/xds/config_syncer.h"
#include "control-plane/xds/generator.h"
#include "control-plane/xds/identity_service.h"
#include "control-plane/xds/mesh_policies.h"
#include "control-plane/xds/mesh_view.h"
#include "control-plane/xds/proxy_admin.h"
#include "control-plane/xds/proxy_stream.h"

namespace braid::xds {

class DiscoveryService final : public dpb::DiscoveryService::CallbackService {
 public:
  explicit DiscoveryService(ConfigSyncer& syncer) {
    callbacks_.onRequest = [&syncer](const std::shared_ptr<StreamHandle>& s,
                                     dpb::DiscoveryRequest r) {
      syncer.onRequest(s, std::move(r));
    };
    callbacks_.onClosed = [&syncer](const std::shared_ptr<StreamHandle>& s) { syncer.onClosed(s); };
  }

  grpc::ServerBidiReactor<dpb::DiscoveryRequest, dpb::DiscoveryResponse>* StreamResources(
      grpc::CallbackServerContext* context) override {
    return new ProxyStream(++nextId_, bearerToken(*context), callbacks_);
  }

 private:
  StreamCallbacks callbacks_;
  std::atomic<uint64_t> nextId_{0};
};

namespace {

std::shared_ptr<grpc::ServerCredentials> serverCredentials(const DiscoveryServerOptions& o) {
  if (o.serverCertFile.empty()) {
    grpc::SslServerCredentialsOptions tls;
    tls.pem_key_cert_pairs.push_back({o.serverKeyPem, o.serverCertPem});
    return grpc::SslServerCredentials(tls);
  }
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      o.serverKeyFile, o.serverCertFile, o.certificateRefreshSeconds);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  return grpc::experimental::TlsServerCredentials(tls);
}

// A mesh's mTLS settings with the roots of every backend that loads. A backend that does not (a
// provided file gone, an old CA expired before it was removed) is left out and logged, so one
// broken backend cannot take the others' roots with it; the result is then not cached
// (`complete` false), and the next regeneration tries again.
MeshSecurity loadMeshSecurity(store::Store& store, ca::MeshCa& meshCa, const std::string& mesh) {
  auto record = store.get({"Mesh", "", mesh});
  if (!record.record) return {};
  Json meshJson = Json::parse(record.record->content, nullptr, false);
  if (meshJson.is_object()) meshJson["name"] = mesh;  // the store keeps it in the key
  MeshSecurity security = meshSecurityOf(meshJson);
  if (!security.mtlsEnabled) return security;
  for (const Json& backend : meshJson.at("mtls").value("backends", Json::array())) {
    Json one = meshJson;
    one["mtls"]["backends"] = Json::array({backend});
    std::vector<std::string> roots;
    std::string error;
    if (!meshCa.trustedRoots(one, roots, error)) {
      log::error("cannot load a CA backend of the mesh", {{"mesh", mesh}, {"error", error}});
      security.complete = false;
      continue;
    }
    security.trustedRootsPem.insert(security.trustedRootsPem.end(), roots.begin(), roots.end());
  }
  return security;
}

}  // namespace

struct DiscoveryServer::Impl {
  store::Store& store;
  DataplaneInsights& insights;
  DiscoveryServerOptions options;
  std::unique_ptr<ca::MeshCa> meshCa;
  std::unique_ptr<ConfigSyncer> syncer;
  std::unique_ptr<DiscoveryService> service;
  std::unique_ptr<grpc::Service> identity;
  // The registry of admin streams lives as long as this object, so that an API request asking
  // a proxy while the server stops finds no stream rather than a freed registry.
  std::unique_ptr<ProxyAdmin> proxyAdmin;
  std::unique_ptr<grpc::Service> admin;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

DiscoveryServer::DiscoveryServer(store::Store& store, DataplaneInsights& insights,
                                 DiscoveryServerOptions options)
    : impl_(new Impl{store, insights, std::move(options), std::make_unique<ca::MeshCa>(store),
                     nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 0}) {
  impl_->proxyAdmin =
      std::make_unique<ProxyAdmin>(impl_->options.requireToken, impl_->options.authenticate);
}

DiscoveryServer::~DiscoveryServer() { stop(); }

bool DiscoveryServer::start(std::string& error) {
  Impl& s = *impl_;
  s.syncer = std::make_unique<ConfigSyncer>(
      s.store, s.insights, s.options.debounceMs, s.options.maxDelayMs, s.options.requireToken,
      s.options.startupGraceMs, s.options.authenticate,
      [&s](const std::string& mesh) { return loadMeshSecurity(s.store, *s.meshCa, mesh); });
  s.service = std::make_unique<DiscoveryService>(*s.syncer);
  s.identity = makeIdentityService(s.store, s.insights, *s.meshCa, s.options.requireToken,
                                   s.options.authenticate);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(s.options.address, serverCredentials(s.options), &s.port);
  builder.RegisterService(s.service.get());
  builder.RegisterService(s.identity.get());
  s.admin = s.proxyAdmin->makeService();
  builder.RegisterService(s.admin.get());
  // Detect proxies that vanished without closing their connection (host lost, network cut).
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 15000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.SetMaxReceiveMessageSize(4 * 1024 * 1024);
  s.server = builder.BuildAndStart();
  if (!s.server || s.port == 0) {
    error = "cannot listen on " + s.options.address;
    s.server.reset();
    return false;
  }
  return true;
}

int DiscoveryServer::port() const { return impl_->port; }

void DiscoveryServer::stop() {
  Impl& s = *impl_;
  if (!s.server) return;
  s.syncer->beginShutdown();
  s.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  s.server.reset();
  s.syncer.reset();
  s.service.reset();
  s.identity.reset();
  s.admin.reset();
}

api::ProxyAdminReply DiscoveryServer::askProxy(const std::string& mesh, const std::string& name,
                                               const std::string& kind) {
  return impl_->proxyAdmin->ask(mesh, name, kind,
                                std::chrono::milliseconds(impl_->options.adminTimeoutMs));
}

std::optional<std::string> DiscoveryServer::configJsonFor(const std::string& mesh,
                                                          const std::string& name) {
  auto list = impl_->store.list({.type = "Dataplane", .mesh = mesh, .offset = 0, .limit = -1});
  std::map<std::string, Json> dataplanes;
  for (const auto& record : list.records) {
    dataplanes[record.key.name] = Json::parse(record.content, nullptr, false);
  }
  auto it = dataplanes.find(name);
  if (it == dataplanes.end()) return std::nullopt;
  ConfigSyncer* syncer = impl_->syncer.get();
  MeshView view(mesh, dataplanes, [&](const std::string& dataplane) {
    return !syncer || syncer->dataplaneOnline(mesh, dataplane);
  });
  auto policies = loadMeshPolicies(impl_->store, mesh);
  MeshSecurity security = loadMeshSecurity(impl_->store, *impl_->meshCa, mesh);
  auto config = generateProxyConfig({name, &it->second, &view, &policies, nullptr, &security});
  return "{\"version\":\"" + configVersion(config) + "\",\"config\":" + configToJson(config) + "}";
}

}  // namespace braid::xds
