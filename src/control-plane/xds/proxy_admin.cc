#include "control-plane/xds/proxy_admin.h"

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

#include "braid/discovery/v1/admin.grpc.pb.h"
#include "common/log.h"
#include "common/yaml_json.h"
#include "control-plane/resources/resource.h"
#include "control-plane/xds/bearer_token.h"

namespace braid::xds {
namespace {

namespace dpb = braid::discovery::v1;
using Reply = api::ProxyAdminReply;

// Requests one proxy may have unanswered: a proxy that stops reading must not make the CP queue
// requests without bound (each asker gives up after its timeout anyway).
constexpr size_t kMaxInFlight = 32;

// One request waiting for its answer.
struct Pending {
  std::mutex mutex;
  std::condition_variable answered;
  bool done = false;
  Reply reply;

  void complete(Reply r) {
    {
      std::lock_guard lock(mutex);
      if (done) return;
      reply = std::move(r);
      done = true;
    }
    answered.notify_all();
  }
};

class AdminStream;

// A proxy's admin stream as the registry and the askers see it. It outlives the reactor, so an
// ask racing the stream's end finds it closed instead of freed.
class AdminSession {
 public:
  explicit AdminSession(std::string bearerToken) : token(std::move(bearerToken)) {}

  // Queues a request; 0 when the stream has ended or has too many requests in flight (`busy`).
  uint64_t send(dpb::AdminRequest::Kind kind, std::shared_ptr<Pending> pending, bool& busy);
  // The asker gave up on request `id`.
  void forget(uint64_t id);
  // The proxy's answer to one request.
  void answer(const dpb::AdminResponse& response);
  void close(grpc::Status status);

  const std::string token;  // from "authorization: Bearer …", "" when absent
  // Set once, on the gRPC thread, before the session is published in the registry.
  std::string mesh;
  std::string name;

 private:
  friend class AdminStream;
  // Recursive: gRPC may run a reaction (OnWriteDone) inline from StartWrite, under this lock.
  std::recursive_mutex mutex_;
  AdminStream* stream_ = nullptr;  // null once the reactor is done
  uint64_t lastId_ = 0;
  std::map<uint64_t, std::shared_ptr<Pending>> pending_;
};

}  // namespace

struct ProxyAdmin::Registry {
  Registry(bool tokenRequired, Authenticator authenticator)
      : requireToken(tokenRequired), authenticate(std::move(authenticator)) {}

  const bool requireToken;
  const Authenticator authenticate;
  std::mutex mutex;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<AdminSession>> sessions;

  grpc::Status admit(const std::shared_ptr<AdminSession>& session, const dpb::AdminResponse& hello);
  void remove(const std::shared_ptr<AdminSession>& session);
};

namespace {

// The gRPC reactor of one stream: only I/O; what a message means is up to the session and the
// registry. The CP writes requests (several may be queued), the proxy's reads are its answers.
class AdminStream : public grpc::ServerBidiReactor<dpb::AdminResponse, dpb::AdminRequest> {
 public:
  AdminStream(ProxyAdmin::Registry& registry, std::string token)
      : registry_(registry), session_(std::make_shared<AdminSession>(std::move(token))) {
    session_->stream_ = this;
    StartRead(&incoming_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the proxy closed its side, or the call was cancelled
      std::lock_guard lock(session_->mutex_);
      finishLocked(grpc::Status::OK);
      return;
    }
    if (!admitted_) {
      grpc::Status status = registry_.admit(session_, incoming_);
      if (!status.ok()) {
        log::warn("refused a proxy admin stream", {{"reason", status.error_message()}});
        std::lock_guard lock(session_->mutex_);
        finishLocked(status);
        return;
      }
      admitted_ = true;
    } else {
      session_->answer(incoming_);
    }
    incoming_.Clear();
    std::lock_guard lock(session_->mutex_);
    if (!finishRequested_) StartRead(&incoming_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(session_->mutex_);
    writeInFlight_ = false;
    if (!ok) {
      finishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
    } else if (!queue_.empty() && !finishRequested_) {
      writeNextLocked();
      return;
    }
    if (finishRequested_ && !finished_) {
      finished_ = true;
      Finish(finishStatus_);
    }
  }

  void OnDone() override {
    std::map<uint64_t, std::shared_ptr<Pending>> abandoned;
    {
      std::lock_guard lock(session_->mutex_);
      session_->stream_ = nullptr;
      abandoned.swap(session_->pending_);
    }
    for (auto& [id, pending] : abandoned) {
      pending->complete(
          {Reply::Outcome::kFailed, "", "its admin stream closed before it answered"});
    }
    if (admitted_) registry_.remove(session_);
    delete this;
  }

  // With the session's mutex held: requests not yet written (a proxy that stopped reading keeps
  // them here; their askers have given up, but the queue must not grow with every new ask).
  size_t queuedLocked() const { return queue_.size(); }
  // With the session's mutex held.
  void sendLocked(dpb::AdminRequest request) {
    if (finishRequested_) return;
    queue_.push_back(std::move(request));
    if (!writeInFlight_) writeNextLocked();
  }

  // gRPC wants Finish after the last write completes, so a finish requested mid-write waits.
  void finishLocked(grpc::Status status) {
    if (finishRequested_) return;
    finishRequested_ = true;
    finishStatus_ = std::move(status);
    queue_.clear();
    if (!writeInFlight_ && !finished_) {
      finished_ = true;
      Finish(finishStatus_);
    }
  }

 private:
  void writeNextLocked() {
    writing_ = std::move(queue_.front());
    queue_.pop_front();
    writeInFlight_ = true;
    StartWrite(&writing_);
  }

  ProxyAdmin::Registry& registry_;
  std::shared_ptr<AdminSession> session_;
  dpb::AdminResponse incoming_;
  dpb::AdminRequest writing_;
  std::deque<dpb::AdminRequest> queue_;
  bool admitted_ = false;  // gRPC reads one message at a time: only its thread touches this
  bool writeInFlight_ = false;
  bool finishRequested_ = false;
  bool finished_ = false;
  grpc::Status finishStatus_;
};

uint64_t AdminSession::send(dpb::AdminRequest::Kind kind, std::shared_ptr<Pending> pending,
                            bool& busy) {
  std::lock_guard lock(mutex_);
  busy = pending_.size() >= kMaxInFlight || (stream_ && stream_->queuedLocked() >= kMaxInFlight);
  if (!stream_ || busy) return 0;
  uint64_t id = ++lastId_;
  pending_[id] = std::move(pending);
  dpb::AdminRequest request;
  request.set_request_id(id);
  request.set_kind(kind);
  stream_->sendLocked(std::move(request));
  return id;
}

void AdminSession::forget(uint64_t id) {
  std::lock_guard lock(mutex_);
  pending_.erase(id);
}

void AdminSession::answer(const dpb::AdminResponse& response) {
  std::shared_ptr<Pending> pending;
  {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(response.request_id());
    if (it == pending_.end()) return;  // its asker gave up already
    pending = std::move(it->second);
    pending_.erase(it);
  }
  if (response.error().empty()) {
    pending->complete({Reply::Outcome::kAnswered, response.body(), ""});
  } else {
    pending->complete({Reply::Outcome::kFailed, "", response.error()});
  }
}

void AdminSession::close(grpc::Status status) {
  std::lock_guard lock(mutex_);
  if (stream_) stream_->finishLocked(std::move(status));
}

class ProxyAdminService final : public dpb::ProxyAdminService::CallbackService {
 public:
  explicit ProxyAdminService(ProxyAdmin::Registry& registry) : registry_(registry) {}

  grpc::ServerBidiReactor<dpb::AdminResponse, dpb::AdminRequest>* StreamAdmin(
      grpc::CallbackServerContext* context) override {
    return new AdminStream(registry_, bearerToken(*context));
  }

 private:
  ProxyAdmin::Registry& registry_;
};

}  // namespace

// The same checks as the discovery stream's registration (ConfigSyncer::registerProxy): one
// Dataplane document, and with --dp-auth token a token for that mesh and name whose tags, if it
// has any, every inbound carries.
grpc::Status ProxyAdmin::Registry::admit(const std::shared_ptr<AdminSession>& session,
                                         const dpb::AdminResponse& hello) {
  auto parsedYaml = parseYaml(hello.node().dataplane());
  if (!parsedYaml.error.empty() || parsedYaml.documents.size() != 1) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "the first message must carry the node's dataplane document, exactly one YAML "
            "document" +
                (parsedYaml.error.empty() ? "" : ": " + parsedYaml.error)};
  }
  ParsedResource parsed = parseResource(parsedYaml.documents[0]);
  if (!parsed.errors.empty()) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "invalid dataplane document:\n" + parsed.errors.toString()};
  }
  const Resource& dataplane = *parsed.resource;
  if (requireToken) {
    if (session->token.empty()) {
      return {grpc::StatusCode::UNAUTHENTICATED, "no dataplane token"};
    }
    TokenGrant grant;
    std::string why;
    if (!authenticate || !authenticate(session->token, grant, why)) {
      return {grpc::StatusCode::UNAUTHENTICATED,
              "invalid dataplane token: " + (why.empty() ? "not accepted" : why)};
    }
    if (grant.mesh != dataplane.mesh || grant.name != dataplane.name) {
      return {grpc::StatusCode::PERMISSION_DENIED,
              "the token is for dataplane '" + grant.name + "' in mesh '" + grant.mesh +
                  "', not '" + dataplane.name + "' in mesh '" + dataplane.mesh + "'"};
    }
    if (std::string violation = tokenTagsViolation(grant, dataplane.content); !violation.empty()) {
      return {grpc::StatusCode::PERMISSION_DENIED,
              "the token does not allow this dataplane: " + violation};
    }
  }
  if (dataplane.type->name != "Dataplane") {
    return {grpc::StatusCode::UNIMPLEMENTED,
            dataplane.type->name + " proxies are not supported by this control plane yet"};
  }
  session->mesh = dataplane.mesh;
  session->name = dataplane.name;
  std::shared_ptr<AdminSession> replaced;
  {
    std::lock_guard lock(mutex);
    auto& slot = sessions[{dataplane.mesh, dataplane.name}];
    replaced = std::move(slot);
    slot = session;
  }
  // A reconnecting proxy's old stream may linger until keepalive notices: the newest one wins.
  if (replaced) {
    replaced->close({grpc::StatusCode::ABORTED, "replaced by a newer admin stream"});
  }
  log::debug("proxy admin stream opened", {{"mesh", dataplane.mesh}, {"name", dataplane.name}});
  return grpc::Status::OK;
}

void ProxyAdmin::Registry::remove(const std::shared_ptr<AdminSession>& session) {
  std::lock_guard lock(mutex);
  auto it = sessions.find({session->mesh, session->name});
  if (it != sessions.end() && it->second == session) sessions.erase(it);
}

ProxyAdmin::ProxyAdmin(bool requireToken, Authenticator authenticate)
    : registry_(std::make_shared<Registry>(requireToken, std::move(authenticate))) {}

ProxyAdmin::~ProxyAdmin() = default;

std::unique_ptr<grpc::Service> ProxyAdmin::makeService() {
  return std::make_unique<ProxyAdminService>(*registry_);
}

api::ProxyAdminReply ProxyAdmin::ask(const std::string& mesh, const std::string& name,
                                     const std::string& kind, std::chrono::milliseconds timeout) {
  dpb::AdminRequest::Kind requestKind;
  if (kind == "stats") {
    requestKind = dpb::AdminRequest::STATS;
  } else if (kind == "clusters") {
    requestKind = dpb::AdminRequest::CLUSTERS;
  } else {
    return {Reply::Outcome::kFailed, "", "unknown admin request '" + kind + "'"};
  }
  std::shared_ptr<AdminSession> session;
  {
    std::lock_guard lock(registry_->mutex);
    auto it = registry_->sessions.find({mesh, name});
    if (it != registry_->sessions.end()) session = it->second;
  }
  if (!session) return {Reply::Outcome::kNotConnected, "", ""};
  // A token revoked (or whose key was retired) since the stream opened no longer gets answers.
  if (registry_->requireToken) {
    TokenGrant grant;
    std::string why;
    if (!registry_->authenticate || !registry_->authenticate(session->token, grant, why)) {
      session->close({grpc::StatusCode::UNAUTHENTICATED, "invalid dataplane token: " + why});
      return {Reply::Outcome::kNotConnected, "", ""};
    }
  }
  auto pending = std::make_shared<Pending>();
  bool busy = false;
  uint64_t id = session->send(requestKind, pending, busy);
  if (busy) {
    return {Reply::Outcome::kFailed, "",
            std::to_string(kMaxInFlight) + " admin requests are already waiting for it"};
  }
  if (id == 0) return {Reply::Outcome::kNotConnected, "", ""};
  std::unique_lock lock(pending->mutex);
  if (!pending->answered.wait_for(lock, timeout, [&] { return pending->done; })) {
    lock.unlock();
    session->forget(id);
    return {Reply::Outcome::kTimedOut, "",
            "no answer within " + std::to_string(timeout.count()) + " ms"};
  }
  return pending->reply;
}

}  // namespace braid::xds
