#include "cp_scale_proxy.h"

#include <chrono>

#include "braid/proxy/v1/config.pb.h"

namespace braid::bench {
namespace {
constexpr const char* kTypeUrl = "type.googleapis.com/braid.proxy.v1.ProxyConfig";
}  // namespace

int64_t epochMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SimulatedProxy::SimulatedProxy(dpb::DiscoveryService::Stub& stub, std::string name,
                               std::string dataplaneYaml, Progress& progress)
    : stub_(stub), name_(std::move(name)), progress_(progress) {
  dpb::DiscoveryRequest hello;
  hello.mutable_node()->set_id("default." + name_);
  hello.mutable_node()->set_dataplane(std::move(dataplaneYaml));
  hello.mutable_node()->set_proxy_type("sidecar");
  hello.mutable_node()->set_version("cp_scale_load");
  hello.set_type_url(kTypeUrl);
  queued_.push_back(std::move(hello));
}

void SimulatedProxy::start() {
  stub_.async()->StreamResources(&context_, this);
  writeNext();
  StartRead(&response_);
  StartCall();
}

void SimulatedProxy::writeNext() {
  {
    std::lock_guard lock(mutex_);
    if (writeInFlight_ || queued_.empty()) return;
    writeInFlight_ = true;
    writing_ = std::move(queued_.front());
    queued_.pop_front();
  }
  StartWrite(&writing_);
}

void SimulatedProxy::OnReadDone(bool ok) {
  if (!ok) return;  // the stream is over; OnDone follows
  int64_t now = epochMs();
  braid::proxy::v1::ProxyConfig config;
  bool valid = response_.type_url() == kTypeUrl && response_.resources_size() == 1 &&
               response_.resources(0).UnpackTo(&config);
  Arrival arrival{now, 0};
  for (const auto& cluster : config.clusters()) {
    if (!cluster.service().empty()) {  // outbound clusters name their service
      arrival.outboundTimeoutMs = cluster.connect_timeout_ms();
      break;
    }
  }
  dpb::DiscoveryRequest answer;
  answer.set_type_url(kTypeUrl);
  answer.set_response_nonce(response_.nonce());
  bool first;
  {
    std::lock_guard lock(mutex_);
    if (valid) {
      appliedVersion_ = response_.version_info();
    } else {
      answer.mutable_error_detail()->set_message("expected exactly one ProxyConfig resource");
    }
    answer.set_version_info(appliedVersion_);
    first = arrivals_.empty();
    arrivals_.push_back(arrival);
    queued_.push_back(std::move(answer));
  }
  if (first) progress_.configured.fetch_add(1);
  progress_.responses.fetch_add(1);
  int64_t last = progress_.lastArrivalMs.load();
  while (last < now && !progress_.lastArrivalMs.compare_exchange_weak(last, now)) {
  }
  response_.Clear();
  StartRead(&response_);
  writeNext();
}

void SimulatedProxy::OnWriteDone(bool ok) {
  {
    std::lock_guard lock(mutex_);
    writeInFlight_ = false;
    if (!ok) return;  // the stream is over; OnDone follows
  }
  writeNext();
}

void SimulatedProxy::OnDone(const grpc::Status& status) {
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
    status_ = status;
  }
  progress_.ended.fetch_add(1);
}

int64_t SimulatedProxy::firstArrivalSince(int64_t since, uint32_t timeoutMs) const {
  std::lock_guard lock(mutex_);
  for (const auto& a : arrivals_) {
    if (a.epochMs >= since && a.outboundTimeoutMs == timeoutMs) return a.epochMs;
  }
  return -1;
}

int64_t SimulatedProxy::firstArrival() const {
  std::lock_guard lock(mutex_);
  return arrivals_.empty() ? -1 : arrivals_.front().epochMs;
}

bool SimulatedProxy::ended() const {
  std::lock_guard lock(mutex_);
  return ended_;
}

grpc::Status SimulatedProxy::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace braid::bench
