#include "control-plane/xds/config_syncer.h"

#include <algorithm>
#include <chrono>

#include "common/clock.h"
#include "common/log.h"
#include "common/yaml_json.h"
#include "control-plane/resources/registry.h"
#include "control-plane/resources/resource.h"
#include "control-plane/xds/generator.h"
#include "control-plane/xds/mesh_policies.h"
#include "control-plane/xds/mesh_view.h"

namespace braid::xds {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxBatch = 256;

}  // namespace

ConfigSyncer::ConfigSyncer(store::Store& store, DataplaneInsights& insights, int debounceMs,
                           int maxDelayMs, bool requireToken, int startupGraceMs,
                           Authenticator authenticate, MeshSecurityLoader securityOf)
    : store_(store),
      insights_(insights),
      debounceMs_(debounceMs),
      maxDelayMs_(maxDelayMs),
      requireToken_(requireToken),
      authenticate_(std::move(authenticate)),
      securityOf_(std::move(securityOf)),
      graceEnd_(Clock::now() + std::chrono::milliseconds(startupGraceMs)) {
  subscription_ = store_.subscribe([this](const store::ChangeEvent& e) { post(Changed{e.key}); });
  thread_ = std::thread([this] { run(); });
}

ConfigSyncer::~ConfigSyncer() {
  subscription_.reset();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void ConfigSyncer::onRequest(const std::shared_ptr<StreamHandle>& stream,
                             dpb::DiscoveryRequest request) {
  post(Request{stream, std::move(request)});
}

void ConfigSyncer::onClosed(const std::shared_ptr<StreamHandle>& stream) { post(Closed{stream}); }

void ConfigSyncer::beginShutdown() {
  std::lock_guard lock(mutex_);
  shuttingDown_ = true;
}

void ConfigSyncer::post(Event event) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(event));
  }
  wake_.notify_one();
}

// Events are handled as they come; regeneration waits until changes have been quiet for
// debounceMs (or maxDelayMs since the first of the burst), so a burst of writes costs one pass.
void ConfigSyncer::run() {
  bool burst = false;  // dirty proxies wait for regeneration
  Clock::time_point firstChange, lastChange;
  while (true) {
    std::deque<Event> batch;
    {
      std::unique_lock lock(mutex_);
      auto ready = [&] { return stopping_ || !queue_.empty(); };
      auto deadline = Clock::time_point::max();
      if (!dirty_.empty()) {
        deadline = std::min(lastChange + std::chrono::milliseconds(debounceMs_),
                            firstChange + std::chrono::milliseconds(maxDelayMs_));
      }
      if (!graceOver_) deadline = std::min(deadline, graceEnd_);
      if (deadline == Clock::time_point::max()) {
        wake_.wait(lock, ready);
      } else {
        wake_.wait_until(lock, deadline, ready);
      }
      if (stopping_) return;
      // A bounded batch, so a burst of registrations cannot hold back pushes for seconds.
      size_t n = std::min(queue_.size(), kMaxBatch);
      batch.insert(batch.end(), std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    bool sawChange = false;
    for (auto& event : batch) {
      sawChange = sawChange || std::holds_alternative<Changed>(event);
      std::visit([this](auto& e) { handle(e); }, event);
    }
    auto now = Clock::now();
    if (!graceOver_ && now >= graceEnd_) endStartupGrace();
    if (!dirty_.empty()) {
      if (!burst) firstChange = lastChange = now;
      if (sawChange) lastChange = now;
      burst = true;
      bool quiet = now - lastChange >= std::chrono::milliseconds(debounceMs_);
      bool overdue = now - firstChange >= std::chrono::milliseconds(maxDelayMs_);
      if (quiet || overdue) {
        regenerateDirty();
        burst = false;
      }
    }
  }
}

void ConfigSyncer::handle(Request& r) {
  StreamHandle& stream = *r.stream;
  if (!stream.registered) {
    registerProxy(r.stream, r.request);
    return;
  }
  recordAnswer(stream, r.request);
}

void ConfigSyncer::registerProxy(const std::shared_ptr<StreamHandle>& stream,
                                 const dpb::DiscoveryRequest& request) {
  auto refuse = [&](grpc::StatusCode code, const std::string& why) {
    log::warn("refused a dataplane stream", {{"reason", why}});
    stream->close(grpc::Status(code, why));
  };
  if (request.type_url() != kProxyConfigTypeUrl) {
    return refuse(grpc::StatusCode::INVALID_ARGUMENT,
                  "unknown type_url '" + request.type_url() + "': expected " + kProxyConfigTypeUrl);
  }
  auto parsedYaml = parseYaml(request.node().dataplane());
  if (!parsedYaml.error.empty() || parsedYaml.documents.size() != 1) {
    return refuse(grpc::StatusCode::INVALID_ARGUMENT,
                  "the dataplane file must hold exactly one YAML document" +
                      (parsedYaml.error.empty() ? "" : ": " + parsedYaml.error));
  }
  ParsedResource parsed = parseResource(parsedYaml.documents[0]);
  if (!parsed.errors.empty()) {
    return refuse(grpc::StatusCode::INVALID_ARGUMENT,
                  "invalid dataplane file:\n" + parsed.errors.toString());
  }
  const Resource& dataplane = *parsed.resource;
  if (requireToken_) {
    // The stream is pinned to the token's identity: a proxy can only register (and so get
    // configuration for) the dataplane its token names.
    TokenGrant grant;
    std::string why;
    if (stream->token.empty()) {
      return refuse(grpc::StatusCode::UNAUTHENTICATED,
                    "no dataplane token: give braid-dp --dataplane-token-file (create one with "
                    "braidctl generate dataplane-token)");
    }
    if (!authenticate_ || !authenticate_(stream->token, grant, why)) {
      return refuse(grpc::StatusCode::UNAUTHENTICATED,
                    "invalid dataplane token: " + (why.empty() ? "not accepted" : why));
    }
    if (grant.mesh != dataplane.mesh || grant.name != dataplane.name) {
      return refuse(grpc::StatusCode::PERMISSION_DENIED,
                    "the token is for dataplane '" + grant.name + "' in mesh '" + grant.mesh +
                        "', not '" + dataplane.name + "' in mesh '" + dataplane.mesh + "'");
    }
    // A token bound to tags (braid.io/service) cannot register inbounds of other services: their
    // certificates would carry identities the token's issuer never granted.
    if (std::string violation = tokenTagsViolation(grant, dataplane.content); !violation.empty()) {
      return refuse(grpc::StatusCode::PERMISSION_DENIED,
                    "the token does not allow this dataplane: " + violation);
    }
  }
  if (dataplane.type->name != "Dataplane") {
    return refuse(grpc::StatusCode::UNIMPLEMENTED,
                  dataplane.type->name + " proxies are not supported by this control plane yet");
  }
  auto mesh = store_.get({"Mesh", "", dataplane.mesh});
  if (!mesh.record) {
    return refuse(grpc::StatusCode::FAILED_PRECONDITION,
                  mesh.error.code == store::ErrorCode::kNotFound || !mesh.error
                      ? "mesh '" + dataplane.mesh + "' does not exist"
                      : "store unavailable: " + mesh.error.message);
  }
  auto put = store_.put({"Dataplane", dataplane.mesh, dataplane.name}, dataplane.content.dump(),
                        std::nullopt);
  if (put.error) {
    return refuse(grpc::StatusCode::UNAVAILABLE, "cannot register: " + put.error.message);
  }
  stream->mesh = dataplane.mesh;
  stream->name = dataplane.name;
  stream->registered = true;
  auto key = std::make_tuple(dataplane.mesh, dataplane.name);
  if (auto old = connected_.find(key); old != connected_.end() && old->second != stream) {
    old->second->close(grpc::Status(grpc::StatusCode::ABORTED,
                                    "replaced by a newer stream for the same dataplane"));
  }
  connected_[key] = stream;
  std::string now = nowRfc3339();
  insights_.update(dataplane.mesh, dataplane.name, [&](DataplaneInsight& insight) {
    insight = DataplaneInsight{};
    insight.online = true;
    insight.connectedSince = now;
    insight.streamId = std::to_string(stream->id());
    insight.proxyVersion = request.node().version();
    if (!request.version_info().empty()) insight.configVersionAcked = request.version_info();
  });
  log::info("dataplane connected", {{"mesh", dataplane.mesh}, {"name", dataplane.name}});
  // The put's change event (queued behind this request) updates the mesh state and marks the
  // peers; this proxy is regenerated in the next pass either way.
  stream->lastSentVersion.clear();
  MeshState& m = meshState(dataplane.mesh);
  if (!m.dataplanes.count(dataplane.name)) setDataplane(m, dataplane.name, dataplane.content);
  // Online now: its inbounds become healthy endpoints for its consumers.
  m.view.reset();
  markDirty(dataplane.mesh, dataplane.name);
  markConsumers(dataplane.mesh, m, dataplane.name);
}

// Envoy's rules: a request answers the response whose nonce it carries; an older nonce is stale
// and ignored; error_detail means the proxy rejected it and still runs version_info.
void ConfigSyncer::recordAnswer(StreamHandle& stream, const dpb::DiscoveryRequest& request) {
  if (request.response_nonce() != stream.lastSentNonce) return;
  std::string now = nowRfc3339();
  bool rejected = request.has_error_detail();
  insights_.update(stream.mesh, stream.name, [&](DataplaneInsight& insight) {
    if (rejected) {
      ++insight.responsesRejected;
      insight.lastRejection =
          Rejection{stream.lastSentVersion, request.error_detail().message(), now};
    } else {
      ++insight.responsesAcknowledged;
    }
    insight.configVersionAcked = request.version_info();
  });
  if (rejected) {
    log::warn("dataplane rejected its configuration",
              {{"mesh", stream.mesh},
               {"name", stream.name},
               {"version", stream.lastSentVersion},
               {"error", request.error_detail().message()}});
  }
}

void ConfigSyncer::handle(Closed& c) {
  StreamHandle& stream = *c.stream;
  if (!stream.registered) return;
  auto key = std::make_tuple(stream.mesh, stream.name);
  auto it = connected_.find(key);
  if (it == connected_.end() || it->second != c.stream) return;  // replaced by a newer stream
  connected_.erase(it);
  insights_.update(stream.mesh, stream.name, [](DataplaneInsight& i) { i.online = false; });
  log::info("dataplane disconnected", {{"mesh", stream.mesh}, {"name", stream.name}});
  bool shuttingDown;
  {
    std::lock_guard lock(mutex_);
    shuttingDown = shuttingDown_;
  }
  if (shuttingDown) return;
  // Its Dataplane stays (offline, as `braidctl inspect dataplanes` shows); its inbounds become
  // unhealthy endpoints, so peers stop sending it traffic.
  auto mesh = meshes_.find(stream.mesh);
  if (mesh == meshes_.end()) return;
  mesh->second.view.reset();
  markConsumers(stream.mesh, mesh->second, stream.name);
}

bool ConfigSyncer::dataplaneOnline(const std::string& mesh, const std::string& name) const {
  DataplaneInsight insight = insights_.get(mesh, name);
  if (insight.online) return true;
  return Clock::now() < graceEnd_ && !insight.streamId;  // not heard from since this CP started
}

void ConfigSyncer::recheckTokens(const std::string& mesh) {
  if (!requireToken_ || !authenticate_) return;
  for (auto it = connected_.lower_bound({mesh, ""});
       it != connected_.end() && std::get<0>(it->first) == mesh; ++it) {
    StreamHandle& stream = *it->second;
    TokenGrant grant;
    std::string why;
    if (authenticate_(stream.token, grant, why)) continue;
    log::warn("closed a dataplane stream: its token is no longer valid",
              {{"mesh", mesh}, {"name", stream.name}, {"reason", why}});
    stream.close(
        grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid dataplane token: " + why));
  }
}

void ConfigSyncer::endStartupGrace() {
  graceOver_ = true;
  for (auto& [mesh, m] : meshes_) {
    m.view.reset();
    markMesh(mesh);
  }
}

void ConfigSyncer::markConsumers(const std::string& mesh, MeshState& m, const std::string& name) {
  auto services = m.services.find(name);
  if (services == m.services.end()) return;
  for (const auto& service : services->second) {
    auto consumers = m.consumers.find(service);
    if (consumers == m.consumers.end()) continue;
    for (const auto& consumer : consumers->second) markDirty(mesh, consumer);
  }
}

ConfigSyncer::MeshState& ConfigSyncer::meshState(const std::string& mesh, bool* loadedNow) {
  auto it = meshes_.find(mesh);
  if (loadedNow) *loadedNow = it == meshes_.end();
  if (it != meshes_.end()) return it->second;
  MeshState& m = meshes_[mesh];
  auto list = store_.list({.type = "Dataplane", .mesh = mesh, .offset = 0, .limit = -1});
  for (const auto& record : list.records) {
    setDataplane(m, record.key.name, Json::parse(record.content, nullptr, false));
  }
  return m;
}

void ConfigSyncer::setDataplane(MeshState& m, const std::string& name,
                                std::optional<Json> content) {
  for (const auto& service : m.outboundServices[name]) {
    auto c = m.consumers.find(service);
    if (c == m.consumers.end()) continue;
    c->second.erase(name);
    if (c->second.empty()) m.consumers.erase(c);
  }
  m.view.reset();
  if (!content) {
    m.dataplanes.erase(name);
    m.services.erase(name);
    m.outboundServices.erase(name);
    return;
  }
  m.services[name] = MeshView::servicesOf(*content);
  m.outboundServices[name] = MeshView::outboundServicesOf(*content);
  for (const auto& service : m.outboundServices[name]) m.consumers[service].insert(name);
  m.dataplanes[name] = std::move(*content);
}

const MeshView& ConfigSyncer::viewOf(const std::string& mesh, MeshState& m) {
  if (!m.view) {
    m.view = std::make_unique<MeshView>(
        mesh, m.dataplanes, [&](const std::string& name) { return dataplaneOnline(mesh, name); });
  }
  return *m.view;
}

const std::vector<policy_matching::PolicyInput>& ConfigSyncer::policiesOf(const std::string& mesh,
                                                                          MeshState& m) {
  if (!m.policies) m.policies = loadMeshPolicies(store_, mesh);
  return *m.policies;
}

const MeshSecurity& ConfigSyncer::securityOf(const std::string& mesh, MeshState& m) {
  if (m.security) return *m.security;
  m.security = securityOf_ ? securityOf_(mesh) : MeshSecurity{};
  // Not kept when a CA failed to load: the next pass tries again instead of freezing the mesh
  // on a transient failure until the Mesh changes.
  if (!m.security->complete) {
    lastIncomplete_ = std::move(*m.security);
    m.security.reset();
    return lastIncomplete_;
  }
  return *m.security;
}

void ConfigSyncer::markDirty(const std::string& mesh, const std::string& name) {
  if (connected_.count({mesh, name})) dirty_[mesh].insert(name);
}

void ConfigSyncer::markMesh(const std::string& mesh) {
  for (auto it = connected_.lower_bound({mesh, ""});
       it != connected_.end() && std::get<0>(it->first) == mesh; ++it) {
    dirty_[mesh].insert(std::get<1>(it->first));
  }
}

// Which connected proxies a change can affect: a Dataplane's change affects itself and every
// proxy with an outbound to a service it has (or had) — found through the consumers index, not
// by walking the mesh; a Mesh or policy change, its whole mesh.
void ConfigSyncer::handle(Changed& c) {
  const store::Key& key = c.key;
  // A revocation or a retired signing key: streams whose token no longer verifies are closed, so
  // a revoked proxy stops getting configuration now, not at its next reconnection.
  if (key.type.rfind("DataplaneToken", 0) == 0) {
    recheckTokens(key.mesh);
    return;
  }
  if (key.type == "Mesh") {
    if (!store_.get(key).record) {
      meshes_.erase(key.name);
    } else if (auto it = meshes_.find(key.name); it != meshes_.end()) {
      it->second.security.reset();
    }
    markMesh(key.name);
    return;
  }
  if (isPolicyType(key.type)) {
    if (auto it = meshes_.find(key.mesh); it != meshes_.end()) it->second.policies.reset();
    markMesh(key.mesh);
    return;
  }
  if (key.type != "Dataplane") return;
  bool loadedNow = false;
  MeshState& m = meshState(key.mesh, &loadedNow);
  if (loadedNow) {  // nothing known about the previous state: assume the worst
    markMesh(key.mesh);
    return;
  }
  std::set<std::string> services;
  if (auto old = m.services.find(key.name); old != m.services.end()) {
    services.insert(old->second.begin(), old->second.end());
  }
  auto now = store_.get(key);
  std::optional<Json> content;
  if (now.record) content = Json::parse(now.record->content, nullptr, false);
  setDataplane(m, key.name, std::move(content));
  if (auto updated = m.services.find(key.name); updated != m.services.end()) {
    services.insert(updated->second.begin(), updated->second.end());
  }
  markDirty(key.mesh, key.name);
  for (const auto& service : services) {
    auto consumers = m.consumers.find(service);
    if (consumers == m.consumers.end()) continue;
    for (const auto& name : consumers->second) markDirty(key.mesh, name);
  }
}

void ConfigSyncer::regenerateDirty() {
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (const auto& [mesh, names] : dirty) {
    MeshState& m = meshState(mesh);
    const MeshView& view = viewOf(mesh, m);
    const auto& policies = policiesOf(mesh, m);
    const MeshSecurity& security = securityOf(mesh, m);
    OutboundCache cache;  // proxies reaching the same service share its cluster's work
    for (const auto& name : names) {
      auto it = connected_.find({mesh, name});
      if (it != connected_.end()) push(*it->second, m, view, policies, security, &cache);
    }
  }
}

void ConfigSyncer::push(StreamHandle& stream, MeshState& m, const MeshView& view,
                        const std::vector<policy_matching::PolicyInput>& policies,
                        const MeshSecurity& security, OutboundCache* cache) {
  auto content = m.dataplanes.find(stream.name);
  if (content == m.dataplanes.end()) return;  // deleted while connected: nothing to generate
  auto config =
      generateProxyConfig({stream.name, &content->second, &view, &policies, cache, &security});
  std::string version = configVersion(config);
  if (version == stream.lastSentVersion) return;
  dpb::DiscoveryResponse response;
  response.set_type_url(kProxyConfigTypeUrl);
  response.set_version_info(version);
  response.set_nonce(std::to_string(++nonce_));
  response.add_resources()->PackFrom(config);
  stream.lastSentVersion = version;
  stream.lastSentNonce = response.nonce();
  // The insight first: an ACK may come back before send() returns.
  insights_.update(stream.mesh, stream.name, [&](DataplaneInsight& insight) {
    insight.configVersionSent = version;
    ++insight.responsesSent;
  });
  stream.send(std::move(response));
}

}  // namespace braid::xds
