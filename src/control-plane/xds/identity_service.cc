#include "control-plane/xds/identity_service.h"

#include <grpcpp/grpcpp.h>

#include <chrono>

#include "braid/discovery/v1/identity.grpc.pb.h"
#include "common/clock.h"
#include "common/log.h"
#include "control-plane/xds/mesh_view.h"

namespace braid::xds {
namespace {

namespace dpb = braid::discovery::v1;

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
    if (requireToken_) {
      std::string token, tokenMesh, tokenName, error;
      const auto& metadata = context.client_metadata();
      if (auto it = metadata.find("authorization"); it != metadata.end()) {
        std::string value(it->second.data(), it->second.size());
        if (value.rfind("Bearer ", 0) == 0) token = value.substr(7);
      }
      if (token.empty()) {
        return {grpc::StatusCode::UNAUTHENTICATED, "a dataplane token is required"};
      }
      if (!authenticate_ || !authenticate_(token, tokenMesh, tokenName, error)) {
        return {grpc::StatusCode::UNAUTHENTICATED, "dataplane token refused: " + error};
      }
      if (tokenMesh != mesh || tokenName != name) {
        log::warn("certificate refused: token for another dataplane",
                  {{"asked", mesh + "/" + name}, {"token", tokenMesh + "/" + tokenName}});
        return {grpc::StatusCode::PERMISSION_DENIED, "the token is for dataplane " + tokenName +
                                                         " in mesh " + tokenMesh + ", not " + name +
                                                         " in mesh " + mesh};
      }
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
    std::vector<std::string> services = MeshView::servicesOf(content);
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
