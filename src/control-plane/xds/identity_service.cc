#include "control-plane/xds/identity_service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "braid/discovery/v1/identity.grpc.pb.h"
#include "common/clock.h"
#include "common/log.h"
#include "control-plane/xds/bearer_token.h"
#include "control-plane/xds/dataplane_fields.h"

namespace braid::xds {
namespace {

namespace dpb = braid::discovery::v1;

// The services of the inbounds that take traffic (an Ignored inbound gets no identity).
std::vector<std::string> servicesServed(const Json& dataplane) {
  std::vector<std::string> services;
  for (const auto& inbound : arrayAt(networkingOf(dataplane), "inbound")) {
    if (stringAt(inbound, "state") == "Ignored") continue;
    auto tags = tagsOf(inbound);
    auto service = tags.find(kServiceTag);
    if (service == tags.end()) continue;
    if (std::find(services.begin(), services.end(), service->second) == services.end()) {
      services.push_back(service->second);
    }
  }
  return services;
}

int64_t unixSeconds(ca::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

class IdentityService final : public dpb::IdentityService::CallbackService {
 public:
  IdentityService(store::Store& store, DataplaneInsights& insights, ca::MeshCa& meshCa,
                  bool requireToken, Authenticator authenticate)
      : store_(store),
        insights_(insights),
        meshCa_(meshCa),
        requireToken_(requireToken),
        authenticate_(std::move(authenticate)) {}

  grpc::ServerUnaryReactor* IssueCertificates(grpc::CallbackServerContext* context,
                                              const dpb::CertificateRequest* request,
                                              dpb::CertificateResponse* response) override {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(issue(*context, *request, *response));
    return reactor;
  }

 private:
  grpc::Status issue(grpc::CallbackServerContext& context, const dpb::CertificateRequest& request,
                     dpb::CertificateResponse& response) {
    const std::string& mesh = request.mesh();
    const std::string& name = request.dataplane();
    TokenGrant tokenGrant;  // no tags: nothing more to check (--dp-auth none)
    if (requireToken_) {
      std::string token = bearerToken(context), error;
      TokenGrant grant;
      if (token.empty()) {
        return {grpc::StatusCode::UNAUTHENTICATED, "a dataplane token is required"};
      }
      if (!authenticate_ || !authenticate_(token, grant, error)) {
        return {grpc::StatusCode::UNAUTHENTICATED, "dataplane token refused: " + error};
      }
      if (grant.mesh != mesh || grant.name != name) {
        log::warn("certificate refused: token for another dataplane",
                  {{"asked", mesh + "/" + name}, {"token", grant.mesh + "/" + grant.name}});
        return {grpc::StatusCode::PERMISSION_DENIED, "the token is for dataplane " + grant.name +
                                                         " in mesh " + grant.mesh + ", not " +
                                                         name + " in mesh " + mesh};
      }
      tokenGrant = grant;
    }
    if (!withinRate(mesh, name)) {
      return {grpc::StatusCode::RESOURCE_EXHAUSTED,
              "more than " + std::to_string(kMaxIssuesPerWindow) +
                  " certificate requests in a minute for this dataplane; retry later"};
    }
    auto dataplane = store_.get({"Dataplane", mesh, name});
    if (!dataplane.record) {
      return {grpc::StatusCode::FAILED_PRECONDITION,
              "dataplane " + name + " is not registered in mesh " + mesh};
    }
    auto meshRecord = store_.get({"Mesh", "", mesh});
    if (!meshRecord.record) {
      return {grpc::StatusCode::FAILED_PRECONDITION, "mesh " + mesh + " does not exist"};
    }
    Json meshJson = Json::parse(meshRecord.record->content, nullptr, false);
    if (meshJson.is_object()) meshJson["name"] = mesh;  // the store keeps it in the key
    Json content = Json::parse(dataplane.record->content, nullptr, false);
    if (std::string violation = tokenTagsViolation(tokenGrant, content); !violation.empty()) {
      return {grpc::StatusCode::PERMISSION_DENIED,
              "the token does not allow this dataplane: " + violation};
    }
    std::vector<std::string> services = servicesServed(content);
    if (services.empty()) {
      return {grpc::StatusCode::FAILED_PRECONDITION,
              "dataplane " + name + " has no inbound: it has no identity"};
    }
    std::vector<ca::IssuedSvid> issued;
    std::string backend, error;
    if (!meshCa_.issue(meshJson, request.csr_pem(), services, issued, backend, error)) {
      log::warn("certificate refused", {{"dataplane", mesh + "/" + name}, {"error", error}});
      return {grpc::StatusCode::INVALID_ARGUMENT, error};
    }
    response.set_backend(backend);
    for (const auto& svid : issued) {
      auto* out = response.add_certificates();
      out->set_service(svid.service);
      out->set_cert_chain_pem(svid.certChainPem);
    }
    if (!issued.empty()) {
      response.set_not_before_unix(unixSeconds(issued.front().notBefore));
      response.set_not_after_unix(unixSeconds(issued.front().notAfter));
      std::string expiry = formatRfc3339(issued.front().notAfter);
      insights_.update(mesh, name, [&](DataplaneInsight& insight) {
        insight.certificateExpiry = expiry;
        insight.certificateBackend = backend;
        insight.lastCertificateRegeneration = nowRfc3339();
        ++insight.certificateRegenerations;
      });
    }
    log::info("workload certificates issued", {{"dataplane", mesh + "/" + name},
                                               {"backend", backend},
                                               {"services", std::to_string(issued.size())}});
    return grpc::Status::OK;
  }

  // A proxy renews a few times a day; a burst (CA switch, restarts) is a handful. More than that
  // is a loop or an abuse of a token, and each request costs a signature and store reads.
  bool withinRate(const std::string& mesh, const std::string& name) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(rateMutex_);
    auto& times = recent_[mesh + "/" + name];
    while (!times.empty() && now - times.front() > kRateWindow) times.pop_front();
    if (times.size() >= kMaxIssuesPerWindow) return false;
    times.push_back(now);
    if (recent_.size() > kMaxTracked) recent_.clear();  // bounded; forgetting only loosens
    return true;
  }

  static constexpr size_t kMaxIssuesPerWindow = 20;
  static constexpr std::chrono::seconds kRateWindow{60};
  static constexpr size_t kMaxTracked = 100000;
  std::mutex rateMutex_;
  std::unordered_map<std::string, std::deque<std::chrono::steady_clock::time_point>> recent_;
  store::Store& store_;
  DataplaneInsights& insights_;
  ca::MeshCa& meshCa_;
  const bool requireToken_;
  const Authenticator authenticate_;
};

}  // namespace

std::unique_ptr<grpc::Service> makeIdentityService(store::Store& store, DataplaneInsights& insights,
                                                   ca::MeshCa& meshCa, bool requireToken,
                                                   Authenticator authenticate) {
  return std::make_unique<IdentityService>(store, insights, meshCa, requireToken,
                                           std::move(authenticate));
}

}  // namespace braid::xds
