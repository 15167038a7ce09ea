#include "dataplane/config/discovery_client.h"

#include <grpcpp/grpcpp.h>

#include <random>

#include "braid/discovery/v1/discovery.grpc.pb.h"
#include "braid/proxy/v1/config.pb.h"
#include "common/log.h"
#include "dataplane/config/cp_channel.h"
#include "dataplane/config/cp_refusal.h"

namespace braid::dataplane {
namespace dpb = braid::discovery::v1;

namespace {
constexpr const char* kProxyConfigTypeUrl = "type.googleapis.com/braid.proxy.v1.ProxyConfig";
}  // namespace

struct DiscoveryClient::Impl {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<dpb::DiscoveryService::Stub> stub;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  grpc::ClientContext* context = nullptr;  // the stream in progress, to cancel it on stop
  std::string appliedVersion;
};

DiscoveryClient::DiscoveryClient(DiscoveryClientOptions options, ApplyConfig apply)
    : options_(std::move(options)), apply_(std::move(apply)), impl_(std::make_unique<Impl>()) {}

// A fresh channel per attempt (see makeCpChannel).
void DiscoveryClient::connectChannel() {
  impl_->channel = makeCpChannel({options_.target, options_.caPem, options_.insecureSkipVerify,
                                  options_.initialBackoffMs, options_.maxBackoffMs});
  impl_->stub = dpb::DiscoveryService::NewStub(impl_->channel);
}

DiscoveryClient::~DiscoveryClient() { stop(); }

void DiscoveryClient::start() {
  thread_ = std::thread([this] { run(); });
}

void DiscoveryClient::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    if (impl_->context) impl_->context->TryCancel();
  }
  impl_->wake.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string DiscoveryClient::appliedVersion() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->appliedVersion;
}

void DiscoveryClient::run() {
  std::mt19937 random(std::random_device{}());
  int backoffMs = options_.initialBackoffMs;
  bool first = true;
  while (true) {
    grpc::ClientContext context;
    {
      std::lock_guard lock(impl_->mutex);
      if (impl_->stopping) return;
      impl_->context = &context;
    }
    if (!first) reconnects_.fetch_add(1);
    first = false;
    connectChannel();
    if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
    auto stream = impl_->stub->StreamResources(&context);

    dpb::DiscoveryRequest hello;
    hello.mutable_node()->set_id(options_.nodeId);
    hello.mutable_node()->set_dataplane(options_.dataplane);
    hello.mutable_node()->set_proxy_type(options_.proxyType);
    hello.mutable_node()->set_version(options_.version);
    hello.set_type_url(kProxyConfigTypeUrl);
    hello.set_version_info(appliedVersion());
    bool ok = stream->Write(hello);

    dpb::DiscoveryResponse response;
    while (ok && stream->Read(&response)) {
      if (!connected_.exchange(true)) {
        log::info("connected to the control plane", {{"address", options_.target}});
      }
      backoffMs = options_.initialBackoffMs;
      std::string error;
      braid::proxy::v1::ProxyConfig config;
      if (response.type_url() != kProxyConfigTypeUrl || response.resources_size() != 1 ||
          !response.resources(0).UnpackTo(&config)) {
        error = "expected exactly one " + std::string(kProxyConfigTypeUrl) + " resource";
      } else if (response.version_info() != appliedVersion()) {
        error = apply_(response.version_info(), config);
      }
      dpb::DiscoveryRequest answer;
      answer.set_type_url(kProxyConfigTypeUrl);
      answer.set_response_nonce(response.nonce());
      if (error.empty()) {
        std::lock_guard lock(impl_->mutex);
        if (impl_->appliedVersion != response.version_info()) applied_.fetch_add(1);
        impl_->appliedVersion = response.version_info();
      } else {
        rejected_.fetch_add(1);
        answer.mutable_error_detail()->set_message(error);
        log::warn("rejected a configuration",
                  {{"version", response.version_info()}, {"error", error}});
      }
      answer.set_version_info(appliedVersion());
      ok = stream->Write(answer);
    }
    grpc::Status status = stream->Finish();
    {
      std::lock_guard lock(impl_->mutex);
      impl_->context = nullptr;
      if (impl_->stopping) return;
    }
    bool refused = isRefusal(status.error_code());
    if (refused) {
      // The CP answered and said no: retrying at once would only repeat the refusal.
      log::error("the control plane refused this proxy; retrying later",
                 {{"address", options_.target},
                  {"code", std::to_string(static_cast<int>(status.error_code()))},
                  {"error", status.error_message()},
                  {"retryInMs", std::to_string(options_.refusedBackoffMs)}});
      connected_ = false;
    } else if (connected_.exchange(false)) {
      log::warn("lost the control plane; serving the last configuration",
                {{"address", options_.target}, {"error", status.error_message()}});
    } else {
      log::debug("cannot reach the control plane",
                 {{"address", options_.target}, {"error", status.error_message()}});
    }
    // Full jitter in [backoff/2, backoff] so proxies do not reconnect in lockstep.
    int ceiling = refused ? options_.refusedBackoffMs : backoffMs;
    int delay = std::uniform_int_distribution<int>(ceiling / 2, ceiling)(random);
    backoffMs = std::min(backoffMs * 2, options_.maxBackoffMs);
    std::unique_lock lock(impl_->mutex);
    impl_->wake.wait_for(lock, std::chrono::milliseconds(delay), [&] { return impl_->stopping; });
    if (impl_->stopping) return;
  }
}

}  // namespace braid::dataplane
