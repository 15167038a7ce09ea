#pragma once

// The heart of the dataplane server: one thread that owns every stream's discovery state and
// the CP's view of each mesh's dataplanes. It registers proxies when their stream opens,
// marks them offline when it closes, records ACKs and NACKs in the insights, and turns store
// changes into pushes: it works out which connected proxies a change can affect, waits for a
// burst to settle (debounce), regenerates their configuration once per mesh pass, and sends it
// only when its version (a hash) differs from what that stream last received.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <variant>

#include "control-plane/insights/dataplane_insights.h"
#include "control-plane/policy-matching/policy_input.h"
#include "control-plane/store/store.h"
#include "control-plane/xds/mesh_security.h"
#include "control-plane/xds/mesh_view.h"
#include "control-plane/xds/proxy_stream.h"
#include "control-plane/xds/token_grant.h"

namespace braid::xds {

struct OutboundCache;

inline constexpr const char* kProxyConfigTypeUrl = "type.googleapis.com/braid.proxy.v1.ProxyConfig";

// A mesh's mTLS settings and trusted roots (from the Mesh resource and the mesh CA).
using MeshSecurityLoader = std::function<MeshSecurity(const std::string& mesh)>;

class ConfigSyncer {
 public:
  ConfigSyncer(store::Store& store, DataplaneInsights& insights, int debounceMs, int maxDelayMs,
               bool requireToken, int startupGraceMs, Authenticator authenticate = {},
               MeshSecurityLoader securityOf = {});
  ~ConfigSyncer();

  // Called on gRPC threads and store writer threads; they only queue work.
  void onRequest(const std::shared_ptr<StreamHandle>& stream, dpb::DiscoveryRequest request);
  void onClosed(const std::shared_ptr<StreamHandle>& stream);
  // From now on closing streams does not affect their dataplanes' peers (the CP is stopping).
  void beginShutdown();

  // Whether a dataplane's proxy counts as up for its peers: its stream is open; or, during the
  // startup grace after this CP started, this CP has not heard from it yet (a restarted CP must
  // not blackhole proxies that are fine but have not reconnected). Thread-safe.
  bool dataplaneOnline(const std::string& mesh, const std::string& name) const;

 private:
  struct Request {
    std::shared_ptr<StreamHandle> stream;
    dpb::DiscoveryRequest request;
  };
  struct Closed {
    std::shared_ptr<StreamHandle> stream;
  };
  struct Changed {
    store::Key key;
  };
  using Event = std::variant<Request, Closed, Changed>;

  void post(Event event);
  void run();
  void handle(Request& r);
  void handle(Closed& c);
  void handle(Changed& c);
  void registerProxy(const std::shared_ptr<StreamHandle>& stream,
                     const dpb::DiscoveryRequest& request);
  void recordAnswer(StreamHandle& stream, const dpb::DiscoveryRequest& request);
  // What the syncer knows of one mesh: every Dataplane's content and services, who consumes each
  // service (has an outbound to it), its policies, and a MeshView rebuilt at most once per pass.
  struct MeshState {
    std::map<std::string, Json> dataplanes;                            // name → stored content
    std::map<std::string, std::vector<std::string>> services;          // name → inbound services
    std::map<std::string, std::vector<std::string>> outboundServices;  // name → services reached
    std::map<std::string, std::set<std::string>> consumers;  // service → dataplane names
    std::optional<std::vector<policy_matching::PolicyInput>> policies;  // nullopt = reload
    std::unique_ptr<MeshView> view;                                     // null = rebuild
    std::optional<MeshSecurity> security;                               // nullopt = reload
  };
  MeshState& meshState(const std::string& mesh, bool* loadedNow = nullptr);
  void setDataplane(MeshState& m, const std::string& name, std::optional<Json> content);
  const MeshView& viewOf(const std::string& mesh, MeshState& m);
  const std::vector<policy_matching::PolicyInput>& policiesOf(const std::string& mesh,
                                                              MeshState& m);
  void markMesh(const std::string& mesh);
  void markDirty(const std::string& mesh, const std::string& name);
  void markConsumers(const std::string& mesh, MeshState& m, const std::string& name);
  void endStartupGrace();
  // Closes the mesh's streams whose token no longer verifies (revoked, or its key retired).
  void recheckTokens(const std::string& mesh);
  void regenerateDirty();
  void push(StreamHandle& stream, MeshState& m, const MeshView& view,
            const std::vector<policy_matching::PolicyInput>& policies, const MeshSecurity& security,
            OutboundCache* cache = nullptr);
  const MeshSecurity& securityOf(const std::string& mesh, MeshState& m);

  store::Store& store_;
  DataplaneInsights& insights_;
  const int debounceMs_;
  const int maxDelayMs_;
  const bool requireToken_;
  const Authenticator authenticate_;
  const MeshSecurityLoader securityOf_;
  const std::chrono::steady_clock::time_point graceEnd_;
  bool graceOver_ = false;  // syncer thread: the grace's end has been acted on

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Event> queue_;
  bool stopping_ = false;
  bool shuttingDown_ = false;

  // Owned by the syncer thread.
  std::map<std::tuple<std::string, std::string>, std::shared_ptr<StreamHandle>> connected_;
  std::map<std::string, MeshState> meshes_;
  std::map<std::string, std::set<std::string>> dirty_;  // mesh → proxy names
  uint64_t nonce_ = 0;
  MeshSecurity lastIncomplete_;  // securityOf()'s answer when it could not be cached

  std::unique_ptr<store::Subscription> subscription_;
  std::thread thread_;
};

}  // namespace braid::xds
