#include "dataplane/upstream/health_checker.h"

#include <event2/event.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <future>
#include <optional>
#include <random>

#include "common/log.h"
#include "dataplane/event/timer.h"
#include "dataplane/network/address.h"
#include "dataplane/network/connector.h"
#include "dataplane/network/unique_fd.h"

namespace braid::dataplane::upstream {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

struct HealthChecker::Target {
  std::string cluster;
  std::string endpoint;  // "ip:port"
  network::ResolvedAddress address;
  HealthCheckConfig config;
  std::string host;          // the Host of HTTP probes: the service, else the cluster name
  bool connectOnly = false;  // mTLS clusters: the sidecar's inbound is probed at L4
  bool healthyPerCp = true;  // the CP's view (EndpointConfig::healthy), for the panic count
  std::shared_ptr<EndpointCounters> counters;
  std::shared_ptr<ClusterCounters> clusterCounters;
};

namespace {

// A response's status line must arrive within this many bytes.
constexpr size_t kMaxStatusLine = 8192;
// What a tcp check reads at most while looking for its receive blocks.
constexpr size_t kMaxReceive = 64 * 1024;

std::mt19937_64& random() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator;
}

milliseconds randomUpTo(milliseconds limit) {
  if (limit.count() <= 0) return milliseconds(0);
  return milliseconds(std::uniform_int_distribution<int64_t>(0, limit.count() - 1)(random()));
}

// Envoy's TCP matcher: every block in order, each after the previous, not necessarily adjacent.
bool receiveMatches(const std::string& data, const std::vector<std::string>& blocks) {
  size_t from = 0;
  for (const auto& block : blocks) {
    size_t at = data.find(block, from);
    if (at == std::string::npos) return false;
    from = at + block.size();
  }
  return true;
}

std::string httpRequest(const HealthChecker::Target& target) {
  const HealthCheckConfig& c = target.config;
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Host", target.host}, {"User-Agent", "braid-health-check"}, {"Connection", "close"}};
  auto same = [](const std::string& a, const std::string& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](char x, char y) { return std::tolower(x) == std::tolower(y); });
  };
  for (const auto& [name, value] : c.setHeaders) {
    std::erase_if(headers, [&](const auto& h) { return same(h.first, name); });
    headers.emplace_back(name, value);
  }
  for (const auto& header : c.addHeaders) headers.push_back(header);
  std::string out = "GET " + c.path + " HTTP/1.1\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  return out + "\r\n";
}

// The status of "HTTP/1.x NNN ..."; nullopt when the line is not a status line.
std::optional<uint32_t> parseStatus(std::string_view line) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return std::nullopt;
  uint32_t status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return std::nullopt;
    status = status * 10 + static_cast<uint32_t>(line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ' && line[12] != '\r') return std::nullopt;
  return status;
}

}  // namespace

class HealthChecker::Session final : private network::Connector::Handler {
 public:
  enum class Outcome { kSuccess, kNetworkFailure, kActiveFailure };

  Session(HealthChecker& owner, event_base* base, Target target)
      : owner_(owner),
        base_(base),
        target_(std::move(target)),
        timer_(base, [this] { tick(); }),
        deadline_(base, [this] { finish(Outcome::kNetworkFailure); }) {
    timer_.schedule(randomUpTo(target_.config.initialJitter));
  }

  ~Session() { closeProbe(); }

  // A new configuration for the same endpoint: the counts carry on, and so does the schedule
  // unless the intervals changed (a probe in flight schedules the next one with the new ones).
  void reconfigure(Target target) {
    const HealthCheckConfig& old = target_.config;
    bool rescheduled = target.config.interval != old.interval ||
                       target.config.noTrafficInterval != old.noTrafficInterval;
    target_ = std::move(target);
    if (rescheduled && connector_ == nullptr && read_ == nullptr) {
      timer_.schedule(
          randomUpTo(std::min(target_.config.interval, target_.config.noTrafficInterval)));
    }
  }
  const Target& target() const { return target_; }

 private:
  void probe() {
    closeProbe();
    lastProbe_ = Clock::now();
    target_.clusterCounters->healthCheckAttempts.fetch_add(1, std::memory_order_relaxed);
    deadline_.schedule(target_.config.timeout);
    network::Connector::Handler& handler = *this;
    connector_ = std::make_unique<network::Connector>(base_, handler);
    if (connector_->start(target_.address, target_.config.timeout) != 0) {
      finish(Outcome::kNetworkFailure);
    }
  }

  void onConnectResult(network::Connector::Result result, network::UniqueFd socket, int) override {
    connector_.reset();  // allowed: the Connector touches nothing after the call
    if (result != network::Connector::Result::kConnected) {
      finish(Outcome::kNetworkFailure);
      return;
    }
    socket_ = std::move(socket);
    const HealthCheckConfig& c = target_.config;
    bool http = c.kind == HealthCheckConfig::Kind::kHttp && !target_.connectOnly;
    std::string out = http ? httpRequest(target_) : target_.connectOnly ? "" : c.send;
    // A fresh connection's send buffer takes a probe this small at once; anything short of
    // that is a failure rather than a reason to buffer.
    if (!out.empty()) {
      ssize_t n = ::send(socket_.get(), out.data(), out.size(), MSG_NOSIGNAL);
      if (n != static_cast<ssize_t>(out.size())) {
        finish(Outcome::kNetworkFailure);
        return;
      }
    }
    if (!http && (target_.connectOnly || c.receive.empty())) {
      finish(Outcome::kSuccess);
      return;
    }
    read_ = event_new(base_, socket_.get(), EV_READ | EV_PERSIST, &Session::onReadable, this);
    if (read_ == nullptr || event_add(read_, nullptr) != 0) finish(Outcome::kNetworkFailure);
  }

  static void onReadable(int fd, short, void* arg) {
    auto* self = static_cast<Session*>(arg);
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {  // closed (or reset) before the answer was complete
      self->finish(Outcome::kNetworkFailure);
      return;
    }
    self->in_.append(buf, static_cast<size_t>(n));
    self->examine();
  }

  void examine() {
    const HealthCheckConfig& c = target_.config;
    if (c.kind == HealthCheckConfig::Kind::kTcp) {
      if (receiveMatches(in_, c.receive)) {
        finish(Outcome::kSuccess);
      } else if (in_.size() > kMaxReceive) {
        finish(Outcome::kNetworkFailure);
      }
      return;
    }
    size_t eol = in_.find("\r\n");
    if (eol == std::string::npos) {
      if (in_.size() > kMaxStatusLine) finish(Outcome::kNetworkFailure);
      return;
    }
    auto status = parseStatus(std::string_view(in_).substr(0, eol));
    if (!status) {
      finish(Outcome::kNetworkFailure);
      return;
    }
    bool expected = std::find(c.expectedStatuses.begin(), c.expectedStatuses.end(), *status) !=
                    c.expectedStatuses.end();
    finish(expected ? Outcome::kSuccess : Outcome::kActiveFailure);
  }

  void closeProbe() {
    connector_.reset();
    if (read_ != nullptr) {
      event_free(read_);
      read_ = nullptr;
    }
    socket_.reset();
    in_.clear();
    deadline_.cancel();
  }

  void finish(Outcome outcome) {
    closeProbe();
    record(outcome);
    const HealthCheckConfig& c = target_.config;
    // Ticks every interval; tick() skips probes while the cluster has no traffic (below).
    milliseconds jitter =
        randomUpTo(c.intervalJitter) +
        randomUpTo(milliseconds(c.interval.count() * c.intervalJitterPercent / 100));
    timer_.schedule(c.interval + jitter);
  }

  // Envoy's no_traffic_interval: while the cluster has never carried a connection, probes run
  // every noTrafficInterval only. Unlike Envoy, the first connection brings the interval back
  // within one interval instead of after the slow wait.
  void tick() {
    const HealthCheckConfig& c = target_.config;
    if (lastProbe_ && !owner_.clusterHasTraffic(target_.cluster) &&
        Clock::now() - *lastProbe_ < c.noTrafficInterval) {
      timer_.schedule(std::min(c.interval, c.noTrafficInterval));
      return;
    }
    probe();
  }

  void record(Outcome outcome) {
    std::atomic<uint8_t>& state = target_.counters->activeHc;
    bool failed = (state.load(std::memory_order_relaxed) & EndpointCounters::kFailedActiveHc) != 0;
    if (outcome == Outcome::kSuccess) {
      failures_ = 0;
      if (failed && ++successes_ >= target_.config.healthyThreshold) {
        successes_ = 0;
        state.fetch_and(static_cast<uint8_t>(~EndpointCounters::kFailedActiveHc));
        log::info("health check: endpoint healthy again",
                  {{"cluster", target_.cluster}, {"endpoint", target_.endpoint}});
        owner_.publishPanic(target_.cluster);
      }
      return;
    }
    target_.clusterCounters->healthCheckFailures.fetch_add(1, std::memory_order_relaxed);
    successes_ = 0;
    if (failed) return;
    if (outcome == Outcome::kActiveFailure || ++failures_ >= target_.config.unhealthyThreshold) {
      failures_ = 0;
      state.fetch_or(EndpointCounters::kFailedActiveHc);
      log::warn("health check: endpoint unhealthy",
                {{"cluster", target_.cluster},
                 {"endpoint", target_.endpoint},
                 {"failure", outcome == Outcome::kActiveFailure ? "active" : "network"}});
      owner_.publishPanic(target_.cluster);
    }
  }

  HealthChecker& owner_;
  event_base* base_;
  Target target_;
  event::Timer timer_;
  event::Timer deadline_;
  std::unique_ptr<network::Connector> connector_;
  network::UniqueFd socket_;
  struct event* read_ = nullptr;
  std::string in_;
  std::optional<Clock::time_point> lastProbe_;
  uint32_t failures_ = 0;   // network failures in a row while healthy
  uint32_t successes_ = 0;  // successes in a row while unhealthy
};

HealthChecker::HealthChecker() : thread_([this] { loop_.run(); }) {}

HealthChecker::~HealthChecker() {
  loop_.post([this] { sessions_.clear(); });
  loop_.stop();
  thread_.join();
}

void HealthChecker::sync() {
  std::promise<void> done;
  loop_.post([&done] { done.set_value(); });
  done.get_future().wait();
}

void HealthChecker::update(const std::map<std::string, ClusterRuntime>& clusters) {
  std::vector<Target> targets;
  for (const auto& [name, cluster] : clusters) {
    const ClusterConfig& config = *cluster.config;
    if (!config.healthCheck) continue;
    for (const auto& endpoint : cluster.endpoints) {
      if (!endpoint.address || !endpoint.counters) continue;
      Target target;
      target.cluster = name;
      target.endpoint = endpoint.key;
      target.address = *endpoint.address;
      target.config = *config.healthCheck;
      target.host = config.service.empty() ? name : config.service;
      target.connectOnly = config.tls.enabled;
      target.healthyPerCp = endpoint.config->healthy;
      target.counters = endpoint.counters;
      target.clusterCounters = cluster.counters;
      targets.push_back(std::move(target));
    }
  }
  loop_.post([this, targets = std::move(targets)]() mutable { applyOnLoop(std::move(targets)); });
}

void HealthChecker::applyOnLoop(std::vector<Target> targets) {
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Session>> next;
  for (auto& target : targets) {
    auto key = std::make_pair(target.cluster, target.endpoint);
    auto found = sessions_.find(key);
    if (found != sessions_.end()) {
      found->second->reconfigure(std::move(target));
      next.emplace(key, std::move(found->second));
      sessions_.erase(found);
    } else {
      next.emplace(key, std::make_unique<Session>(*this, loop_.base(), std::move(target)));
    }
  }
  // No longer checked: back to healthy, out of any panic.
  for (auto& [key, session] : sessions_) session->target().counters->activeHc.store(0);
  sessions_ = std::move(next);
  std::string last;
  for (const auto& [key, session] : sessions_) {
    if (key.first != last) publishPanic(key.first);
    last = key.first;
  }
}

bool HealthChecker::clusterHasTraffic(const std::string& cluster) const {
  // Any connection to any of its endpoints, whichever filter made it (the cluster-wide counter
  // is the TCP proxy's only).
  for (auto it = sessions_.lower_bound({cluster, ""});
       it != sessions_.end() && it->first.first == cluster; ++it) {
    const Target& t = it->second->target();
    if (t.counters->total.load(std::memory_order_relaxed) > 0) return true;
  }
  return false;
}

void HealthChecker::publishPanic(const std::string& cluster) {
  size_t total = 0;
  size_t healthy = 0;
  const HealthCheckConfig* config = nullptr;
  auto first = sessions_.lower_bound({cluster, ""});
  for (auto it = first; it != sessions_.end() && it->first.first == cluster; ++it) {
    const Target& t = it->second->target();
    config = &t.config;
    ++total;
    uint8_t state = t.counters->activeHc.load(std::memory_order_relaxed);
    if (t.healthyPerCp && (state & EndpointCounters::kFailedActiveHc) == 0) ++healthy;
  }
  if (config == nullptr) return;
  bool panic = healthy * 100 < total * config->healthyPanicThreshold;
  uint8_t bits = panic ? static_cast<uint8_t>(
                             EndpointCounters::kHcPanic |
                             (config->failTrafficOnPanic ? EndpointCounters::kHcFailTraffic : 0))
                       : 0;
  for (auto it = first; it != sessions_.end() && it->first.first == cluster; ++it) {
    std::atomic<uint8_t>& state = it->second->target().counters->activeHc;
    uint8_t failed = state.load(std::memory_order_relaxed) & EndpointCounters::kFailedActiveHc;
    state.store(static_cast<uint8_t>(failed | bits), std::memory_order_relaxed);
  }
}

}  // namespace braid::dataplane::upstream
