#include "dataplane/upstream/health_checker.h"

#include <algorithm>
#include <future>
#include <optional>
#include <random>

#include "common/log.h"
#include "dataplane/event/timer.h"

namespace braid::dataplane::upstream {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

std::mt19937_64& random() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator;
}

milliseconds randomUpTo(milliseconds limit) {
  if (limit.count() <= 0) return milliseconds(0);
  return milliseconds(std::uniform_int_distribution<int64_t>(0, limit.count() - 1)(random()));
}

}  // namespace

class HealthChecker::Session final {
 public:
  using Outcome = HealthProbeOutcome;

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
  // unless the intervals or the TLS contexts (a certificate arrived, roots changed) changed (a
  // probe in flight schedules the next one with the new ones).
  void reconfigure(Target target) {
    const HealthCheckConfig& old = target_.config;
    bool rescheduled = target.config.interval != old.interval ||
                       target.config.noTrafficInterval != old.noTrafficInterval ||
                       target.contexts != target_.contexts;
    target_ = std::move(target);
    if (rescheduled && probe_ == nullptr) {
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
    probe_ =
        std::make_unique<HealthProbe>(base_, target_, [this](Outcome outcome) { finish(outcome); });
    if (!probe_->start()) finish(Outcome::kNetworkFailure);
  }

  void closeProbe() {
    probe_.reset();
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
    // An mTLS cluster before this proxy has its certificate: nothing can be checked (the data
    // path cannot connect either), and it is not the endpoint's fault. Like Envoy, which warms
    // a cluster (secrets first) before checking it: no probe, no verdict. A new certificate
    // reschedules (reconfigure()).
    if (target_.tls.enabled && (target_.contexts == nullptr || target_.tlsClient == nullptr)) {
      timer_.schedule(c.interval);
      return;
    }
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
  // The probe in flight (with its own copy of the target).
  std::unique_ptr<HealthProbe> probe_;
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

void HealthChecker::update(const std::map<std::string, ClusterRuntime>& clusters,
                           tls::TlsContextsPtr contexts) {
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
      target.tls = config.tls;
      if (config.tls.enabled) {
        target.contexts = contexts;
        target.tlsClient = cluster.tlsClient;
      }
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
