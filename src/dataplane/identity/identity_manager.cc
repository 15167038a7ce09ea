#include "dataplane/identity/identity_manager.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <random>
#include <set>

#include "braid/discovery/v1/identity.grpc.pb.h"
#include "common/log.h"
#include "dataplane/identity/csr.h"

namespace braid::dataplane {
namespace dpb = braid::discovery::v1;
using SystemClock = std::chrono::system_clock;

namespace {

double uniform(double low, double high) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  return std::uniform_real_distribution<double>(low, high)(random);
}

}  // namespace

IdentityManager::IdentityManager(IdentityManagerOptions options, ApplyIdentity apply)
    : options_(std::move(options)), apply_(std::move(apply)) {}

IdentityManager::~IdentityManager() { stop(); }

void IdentityManager::start() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { run(); });
}

void IdentityManager::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void IdentityManager::require(const std::string& backend, std::vector<std::string> services) {
  {
    std::lock_guard lock(mutex_);
    backend_ = backend;
    services_ = std::move(services);
  }
  wake_.notify_all();
}

WorkloadIdentityPtr IdentityManager::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

bool IdentityManager::upToDate(const std::string& backend, const std::vector<std::string>& services,
                               SystemClock::time_point now) const {
  if (services.empty()) return true;
  // Compared with the backend asked for, not the one that signed: during a CA switch the CP may
  // sign with the new backend before this proxy's configuration names it, and asking again at once
  // would loop until the configuration catches up.
  if (!current_ || requestedFor_ != backend || now >= renewAt_) return false;
  for (const auto& service : services) {
    if (!current_->certChainPemByService.count(service)) return false;
  }
  return true;
}

void IdentityManager::run() {
  auto retry = options_.minRetry;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto now = SystemClock::now();
    if (upToDate(backend_, services_, now)) {
      if (services_.empty()) {
        wake_.wait(lock);
      } else {
        wake_.wait_until(lock, renewAt_);
      }
      continue;
    }
    std::string backend = backend_;
    std::vector<std::string> services = services_;
    lock.unlock();
    bool ok = renew(backend, services);
    lock.lock();
    if (ok) {
      retry = options_.minRetry;
      continue;
    }
    ++failures_;
    // Jittered exponential backoff; a change of requirements wakes it early.
    auto wait = std::chrono::milliseconds(static_cast<int64_t>(retry.count() * uniform(0.5, 1.0)));
    retry = std::min(options_.maxRetry, retry * 2);
    wake_.wait_for(lock, wait,
                   [&] { return stopping_ || backend_ != backend || services_ != services; });
  }
}

bool IdentityManager::renew(const std::string& backend, const std::vector<std::string>& services) {
  KeyAndCsr request;
  std::string error;
  if (!generateKeyAndCsr(options_.mesh + "." + options_.dataplane, request, error)) {
    log::error("cannot make a certificate request", {{"error", error}});
    return false;
  }
  auto channel = makeCpChannel(options_.channel);
  auto stub = dpb::IdentityService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(SystemClock::now() + options_.callTimeout);
  if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
  dpb::CertificateRequest csr;
  csr.set_mesh(options_.mesh);
  csr.set_dataplane(options_.dataplane);
  csr.set_csr_pem(request.csrPem);
  dpb::CertificateResponse response;
  grpc::Status status = stub->IssueCertificates(&context, csr, &response);
  if (!status.ok()) {
    log::warn("workload certificate request failed",
              {{"code", std::to_string(status.error_code())}, {"error", status.error_message()}});
    return false;
  }
  auto identity = std::make_shared<WorkloadIdentity>();
  identity->backend = response.backend();
  identity->privateKeyPem = std::move(request.privateKeyPem);
  for (const auto& certificate : response.certificates()) {
    identity->certChainPemByService[certificate.service()] = certificate.cert_chain_pem();
  }
  identity->notBefore = SystemClock::from_time_t(response.not_before_unix());
  identity->notAfter = SystemClock::from_time_t(response.not_after_unix());
  std::set<std::string> missing(services.begin(), services.end());
  for (const auto& [service, chain] : identity->certChainPemByService) missing.erase(service);
  if (!missing.empty() || identity->notAfter <= SystemClock::now()) {
    log::warn("the CP issued unusable certificates",
              {{"missing", std::to_string(missing.size())}, {"backend", identity->backend}});
    return false;
  }
  if (std::string applyError = apply_(identity); !applyError.empty()) {
    log::error("cannot use the issued certificates", {{"error", applyError}});
    return false;
  }
  // Renew between 50% and 80% of the life left, as Istio's agents do (with jitter), so a mesh's
  // proxies do not all renew at once and a certificate never expires while the CP is briefly away.
  auto now = SystemClock::now();
  auto life = identity->notAfter - now;
  auto renewIn = std::chrono::duration_cast<SystemClock::duration>(life * uniform(0.5, 0.8));
  {
    std::lock_guard lock(mutex_);
    current_ = identity;
    requestedFor_ = backend;
    renewAt_ = now + renewIn;
  }
  ++issued_;
  log::info("workload certificates in place",
            {{"backend", identity->backend},
             {"services", std::to_string(identity->certChainPemByService.size())},
             {"renewInSeconds",
              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(renewIn).count())}});
  return true;
}

}  // namespace braid::dataplane
