#include "dataplane/config/admin_stream_client.h"

#include <grpcpp/grpcpp.h>

#include <random>

#include "braid/discovery/v1/admin.grpc.pb.h"
#include "common/log.h"
#include "dataplane/config/cp_channel.h"
#include "dataplane/config/cp_refusal.h"

namespace braid::dataplane {
namespace dpb = braid::discovery::v1;

namespace {

// The CP accepts messages up to 4 MiB; a larger answer would break the stream, so it is refused.
constexpr size_t kMaxBody = 3 * 1024 * 1024;
constexpr size_t kMaxErrorText = 4096;

const char* pathOf(dpb::AdminRequest::Kind kind) {
  switch (kind) {
    case dpb::AdminRequest::STATS:
      return "/stats/prometheus";
    case dpb::AdminRequest::CLUSTERS:
      return "/clusters";
    default:
      return nullptr;
  }
}

}  // namespace

AdminStreamClient::AdminStreamClient(AdminStreamClientOptions options, AdminQuery query)
    : options_(std::move(options)), query_(std::move(query)) {}

AdminStreamClient::~AdminStreamClient() { stop(); }

void AdminStreamClient::start() {
  thread_ = std::thread([this] { run(); });
}

void AdminStreamClient::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (context_) context_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AdminStreamClient::run() {
  std::mt19937 random(std::random_device{}());
  int backoffMs = options_.initialBackoffMs;
  while (true) {
    grpc::ClientContext context;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      context_ = &context;
    }
    // A fresh channel per attempt (see makeCpChannel).
    auto stub = dpb::ProxyAdminService::NewStub(
        makeCpChannel({options_.target, options_.caPem, options_.insecureSkipVerify,
                       options_.initialBackoffMs, options_.maxBackoffMs}));
    if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
    auto stream = stub->StreamAdmin(&context);

    dpb::AdminResponse hello;
    hello.mutable_node()->set_id(options_.nodeId);
    hello.mutable_node()->set_dataplane(options_.dataplane);
    hello.mutable_node()->set_proxy_type(options_.proxyType);
    hello.mutable_node()->set_version(options_.version);
    bool ok = stream->Write(hello);

    dpb::AdminRequest request;
    while (ok && stream->Read(&request)) {
      backoffMs = options_.initialBackoffMs;
      dpb::AdminResponse answer;
      answer.set_request_id(request.request_id());
      if (const char* path = pathOf(request.kind())) {
        http::Response response = query_(path);
        if (response.status != 200) {
          // An error page is a line or two; a long one is cut so the message stays far below
          // the CP's limit (a message over it would end the whole stream).
          answer.set_error(std::string(path) + " answered " + std::to_string(response.status) +
                           ": " + response.body.substr(0, kMaxErrorText));
        } else if (response.body.size() > kMaxBody) {
          answer.set_error(std::string(path) + " is " + std::to_string(response.body.size()) +
                           " bytes, more than the " + std::to_string(kMaxBody) +
                           " the admin stream carries: read it on the proxy's admin endpoint");
        } else {
          answer.set_body(std::move(response.body));
        }
      } else {
        answer.set_error("unknown admin request kind " + std::to_string(request.kind()) +
                         ": this braid-dp answers stats and clusters");
      }
      ok = stream->Write(answer);
    }
    grpc::Status status = stream->Finish();
    {
      std::lock_guard lock(mutex_);
      context_ = nullptr;
      if (stopping_) return;
    }
    bool refused = isRefusal(status.error_code());
    if (refused) {
      log::error("the control plane refused this proxy's admin stream; retrying later",
                 {{"address", options_.target},
                  {"error", status.error_message()},
                  {"retryInMs", std::to_string(options_.refusedBackoffMs)}});
    } else {
      log::debug("admin stream to the control plane ended",
                 {{"address", options_.target}, {"error", status.error_message()}});
    }
    // Full jitter in [backoff/2, backoff] so proxies do not reconnect in lockstep.
    int ceiling = refused ? options_.refusedBackoffMs : backoffMs;
    int delay = std::uniform_int_distribution<int>(ceiling / 2, ceiling)(random);
    backoffMs = std::min(backoffMs * 2, options_.maxBackoffMs);
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(delay), [&] { return stopping_; });
    if (stopping_) return;
  }
}

}  // namespace braid::dataplane
