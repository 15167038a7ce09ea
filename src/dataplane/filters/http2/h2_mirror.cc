#include "dataplane/filters/http2/h2_mirror.h"

#include <exception>

#include "dataplane/filters/http2/h2_upstream_connection.h"
#include "dataplane/filters/http2/h2_upstream_pool.h"
#include "dataplane/server/worker_config.h"

namespace braid::dataplane::h2 {

// One copy in flight: waits for a pooled connection, opens its stream, drops the answer.
class H2MirrorSender::Mirror final : public H2StreamClient {
 public:
  Mirror(H2MirrorSender& sender, braid::http::Headers headers, std::string body)
      : sender_(sender),
        headers_(std::move(headers)),
        body_(std::move(body)),
        timer_(sender.base_, [this] { end(); }) {}
  ~Mirror() { detach(); }

  size_t size() const { return body_.size(); }

  // false: ended at once.
  bool start(const upstream::ClusterRuntime& cluster, size_t endpoint,
             const std::shared_ptr<WorkerConfig>& config, std::chrono::milliseconds timeout) {
    timer_.schedule(timeout);
    H2UpstreamConnection* connection = sender_.pool_.acquire(cluster, endpoint, config);
    if (connection == nullptr) return false;
    connection_ = connection;
    if (connection->ready()) return open();
    waiting_ = true;
    connection->wait(*this);
    return true;
  }

 private:
  bool open() {
    waiting_ = false;
    streamId_ = connection_->startStream(*this, headers_, body_.empty());
    if (streamId_ < 0) {
      connection_ = nullptr;
      return false;
    }
    if (!body_.empty()) connection_->sendData(streamId_, body_, true);
    return true;
  }
  void onConnectionReady(H2UpstreamConnection& connection) override {
    connection_ = &connection;
    if (!open()) end();
  }
  void onConnectionBusy() override { gone(); }
  void onConnectionFailed() override { gone(); }
  void onResponseHeaders(braid::http::Headers&&, bool) override {}
  void onResponseData(std::string_view data, bool) override {
    if (connection_ != nullptr && !data.empty()) connection_->consumed(streamId_, data.size());
  }
  void onResponseTrailers(braid::http::Headers&&) override {}
  void onStreamClosed(uint32_t) override { gone(); }
  void onRequestDrained() override {}

  // The connection is done with this copy: no more events come.
  void gone() {
    connection_ = nullptr;
    waiting_ = false;
    end();
  }
  void end() {
    if (ended_) return;
    ended_ = true;
    timer_.cancel();
    detach();
    sender_.finished(*this);
  }
  void detach() {
    if (connection_ == nullptr) return;
    if (waiting_) {
      connection_->cancelWait(*this);
    } else if (streamId_ >= 0) {
      connection_->abandon(streamId_);
    }
    connection_ = nullptr;
  }

  H2MirrorSender& sender_;
  braid::http::Headers headers_;
  std::string body_;
  event::Timer timer_;
  H2UpstreamConnection* connection_ = nullptr;
  bool waiting_ = false;
  int32_t streamId_ = -1;
  bool ended_ = false;
};

H2MirrorSender::H2MirrorSender(event_base* base, H2UpstreamPool& pool)
    : base_(base), pool_(pool), reaper_(base, [this] { ended_.clear(); }) {}

H2MirrorSender::~H2MirrorSender() { clear(); }

void H2MirrorSender::clear() {
  std::vector<std::unique_ptr<Mirror>> all;
  for (auto& [raw, mirror] : inFlight_) all.push_back(std::move(mirror));
  inFlight_.clear();
  bytesInFlight_ = 0;
  all.clear();  // each detaches from its connection
  ended_.clear();
}

bool H2MirrorSender::send(const std::shared_ptr<WorkerConfig>& config, const std::string& cluster,
                          const braid::http::Headers& headers, const std::string& body,
                          std::chrono::milliseconds timeout) {
  auto balancer = config->balancers.find(cluster);
  if (balancer == config->balancers.end()) return false;
  if (inFlight_.size() >= kMaxInFlight || bytesInFlight_ + body.size() > kMaxBytesInFlight) {
    balancer->second->cluster().counters->upstreamRqMirrorDropped.fetch_add(
        1, std::memory_order_relaxed);
    return false;
  }
  const int endpoint = balancer->second->pick({});
  if (endpoint < 0) return false;
  try {
    auto owned = std::make_unique<Mirror>(*this, headers, body);
    Mirror* raw = owned.get();
    bytesInFlight_ += raw->size();
    inFlight_.emplace(raw, std::move(owned));
    if (!raw->start(balancer->second->cluster(), static_cast<size_t>(endpoint), config, timeout)) {
      finished(*raw);
    }
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

void H2MirrorSender::finished(Mirror& mirror) {
  auto found = inFlight_.find(&mirror);
  if (found == inFlight_.end()) return;
  bytesInFlight_ -= mirror.size();
  ended_.push_back(std::move(found->second));  // it may be inside its own callback
  inFlight_.erase(found);
  reaper_.schedule(std::chrono::milliseconds(0));
}

}  // namespace braid::dataplane::h2
