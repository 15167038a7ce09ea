#include "dataplane/filters/http/mirror_sender.h"

#include <event2/buffer.h>

#include <exception>
#include <optional>

#include "common/http/http1_codec.h"
#include "dataplane/event/timer.h"
#include "dataplane/filters/http/upstream_connection.h"
#include "dataplane/filters/http/upstream_pool.h"
#include "dataplane/server/worker_config.h"

namespace braid::dataplane::hcm {

// One mirrored request: connect (or reuse), write, read the answer to its end, give the
// connection back to the pool when it may carry another request.
class MirrorSender::Request final : private UpstreamConnection::Client {
 public:
  Request(MirrorSender& sender, event_base* base, std::shared_ptr<WorkerConfig> config,
          std::string bytes, const std::string& method, UpstreamPool& pool)
      : sender_(sender),
        base_(base),
        config_(std::move(config)),
        bytes_(std::move(bytes)),
        pool_(pool),
        timer_(base, [this] { sender_.finished(*this); }) {
    response_.expectResponseTo(method);
    input_ = evbuffer_new();
    if (input_ == nullptr) throw std::bad_alloc();
  }
  ~Request() { evbuffer_free(input_); }

  size_t size = 0;  // of the copy, counted in the sender's bytesInFlight_

  // false: the request ended at once (nothing more happens).
  bool start(const upstream::ClusterRuntime& cluster, size_t endpoint,
             std::chrono::milliseconds timeout) {
    timer_.schedule(timeout);
    std::string key = UpstreamPool::key(cluster, endpoint);
    maxDuration_ = cluster.config->maxConnectionDuration;
    connection_ = pool_.take(key, *this, cluster.config->idleTimeout);
    if (connection_) {
      write();
      return !failed_;
    }
    connection_ = std::make_unique<UpstreamConnection>(base_, std::move(key), cluster, endpoint,
                                                       config_->runtime->tls.get());
    return connection_->connect(*this);
  }

 private:
  void onUpstreamConnected(UpstreamConnection&) override {
    write();
    if (failed_) sender_.finished(*this);  // destroys this
  }
  void onUpstreamConnectFailed(UpstreamConnection&) override { sender_.finished(*this); }
  void onUpstreamWritable(UpstreamConnection&) override {
    flush();
    if (failed_) sender_.finished(*this);
  }
  void onUpstreamReadable(UpstreamConnection& connection) override {
    size_t count = 0;
    auto io = connection.socket().readInto(input_, 64 * 1024, count);
    if (io == network::StreamSocket::Io::kError) {
      sender_.finished(*this);
      return;
    }
    const bool eof = io == network::StreamSocket::Io::kEof;
    while (evbuffer_get_length(input_) > 0 || eof) {
      const size_t length = evbuffer_get_length(input_);
      std::string_view input(reinterpret_cast<const char*>(evbuffer_pullup(input_, -1)), length);
      if (eof && length == 0 && !eofNoted_) {
        eofNoted_ = true;
        response_.noteEof();
      }
      auto event = response_.next(input);
      evbuffer_drain(input_, length - input.size());
      switch (event) {
        case http1::Parser::Event::kNeedMore:
          if (eof) sender_.finished(*this);
          return;
        case http1::Parser::Event::kHead:
          final_ = response_.head().status >= 200;
          break;
        case http1::Parser::Event::kBody:
        case http1::Parser::Event::kTrailers:
          break;
        case http1::Parser::Event::kComplete:
          if (!final_) break;  // a 1xx: the final answer follows
          if (!eof && evbuffer_get_length(input_) == 0 && response_.head().keepAlive &&
              connection.socket().outputLength() == 0) {
            pool_.release(std::move(connection_), maxDuration_);
          }
          sender_.finished(*this);
          return;
        case http1::Parser::Event::kUpgraded:
        case http1::Parser::Event::kError:
          sender_.finished(*this);
          return;
      }
    }
  }

  void write() {
    ++connection_->requests;
    evbuffer_add(connection_->socket().output(), bytes_.data(), bytes_.size());
    std::string().swap(bytes_);
    connection_->socket().setReadEnabled(true);
    flush();
  }
  void flush() {
    size_t count = 0;
    if (connection_->socket().flush(count) == network::StreamSocket::Io::kError) failed_ = true;
  }

  MirrorSender& sender_;
  event_base* base_;
  std::shared_ptr<WorkerConfig> config_;  // keeps the cluster alive while connecting
  std::string bytes_;
  UpstreamPool& pool_;
  event::Timer timer_;
  evbuffer* input_ = nullptr;
  http1::Parser response_{http1::Parser::Kind::kResponse};
  std::unique_ptr<UpstreamConnection> connection_;
  bool final_ = false;
  bool failed_ = false;
  bool eofNoted_ = false;
  std::chrono::milliseconds maxDuration_{0};  // of the cluster's connections (pool release)
};

MirrorSender::MirrorSender() = default;
MirrorSender::~MirrorSender() = default;

bool MirrorSender::send(event_base* base, const std::shared_ptr<WorkerConfig>& config,
                        const std::string& cluster, std::string request, const std::string& method,
                        std::chrono::milliseconds timeout, UpstreamPool& pool) {
  auto balancer = config->balancers.find(cluster);
  if (balancer == config->balancers.end()) return false;
  if (inFlight_.size() >= kMaxInFlight || bytesInFlight_ + request.size() > kMaxBytesInFlight) {
    balancer->second->cluster().counters->upstreamRqMirrorDropped.fetch_add(
        1, std::memory_order_relaxed);
    return false;
  }
  const int endpoint = balancer->second->pick({});
  if (endpoint < 0) return false;
  try {
    const size_t size = request.size();
    auto owned = std::make_unique<Request>(*this, base, config, std::move(request), method, pool);
    Request* raw = owned.get();
    raw->size = size;
    bytesInFlight_ += size;
    inFlight_.emplace(raw, std::move(owned));
    if (!raw->start(balancer->second->cluster(), static_cast<size_t>(endpoint), timeout)) {
      finished(*raw);
    }
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

void MirrorSender::finished(Request& request) {
  bytesInFlight_ -= request.size;
  inFlight_.erase(&request);
}

}  // namespace braid::dataplane::hcm
