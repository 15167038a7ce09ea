// Load tool for bench/cp_scale: simulates N proxies (dp-0 … dp-N-1 in one mesh) on discovery
// streams to one braid-cp, and measures how long a policy change takes to reach all of them.
//   cp_scale_load --target 127.0.0.1:PORT --ca-file DATA_DIR/cp-ca.pem [--count 1000]
//                 [--services 10] [--streams-per-channel 100] [--settle-ms 2000] [--wait-s 30]
//                 [--connect-wait-s 120] [--mesh default]
// Dataplane i has one inbound of service svc-(i % S) on port 10000+i and one outbound to
// svc-((i+1) % S) on port 40000+i, so every proxy's outbound cluster holds N/S endpoints.
//
// Protocol with the calling script, on stdout/stdin:
// 1. opens every stream at once, waits until each has its first configuration, then until no
//    response has arrived for --settle-ms (peers keep being updated while others register),
//    and prints a line starting with "READY";
// 2. reads lines "GO <epoch-ms> <timeout-ms>": the script applied a change at <epoch-ms> that
//    must give every proxy's outbound a connect timeout of <timeout-ms>. It waits until every
//    stream has received such a configuration (or --wait-s passed), prints one "change" line
//    with how many did and the delays, settles again and prints "READY" again;
// 3. at end of input it closes the streams and exits: 0 if every change reached every proxy
//    and no stream ended on its own, else 1.
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cp_scale_proxy.h"

namespace {

using braid::bench::epochMs;
using braid::bench::Progress;
using braid::bench::SimulatedProxy;
namespace dpb = braid::discovery::v1;

struct Options {
  std::string target;
  std::string caFile;
  std::string mesh = "default";
  int count = 1000;
  int services = 10;
  int streamsPerChannel = 100;
  int settleMs = 2000;
  int waitS = 30;
  int connectWaitS = 120;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "cp_scale_load: %s\nusage: cp_scale_load --target HOST:PORT --ca-file PEM "
               "[--count N] [--services S] [--streams-per-channel C] [--settle-ms MS] "
               "[--wait-s S] [--connect-wait-s S] [--mesh NAME]\n",
               why);
  std::exit(2);
}

Options parseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + flag).c_str());
    std::string value = argv[++i];
    auto number = [&] {
      int n = std::atoi(value.c_str());
      if (n <= 0) usage((flag + " wants a positive number").c_str());
      return n;
    };
    if (flag == "--target") {
      o.target = value;
    } else if (flag == "--ca-file") {
      o.caFile = value;
    } else if (flag == "--mesh") {
      o.mesh = value;
    } else if (flag == "--count") {
      o.count = number();
    } else if (flag == "--services") {
      o.services = number();
    } else if (flag == "--streams-per-channel") {
      o.streamsPerChannel = number();
    } else if (flag == "--settle-ms") {
      o.settleMs = number();
    } else if (flag == "--wait-s") {
      o.waitS = number();
    } else if (flag == "--connect-wait-s") {
      o.connectWaitS = number();
    } else {
      usage(("unknown flag " + flag).c_str());
    }
  }
  if (o.target.empty() || o.caFile.empty()) usage("--target and --ca-file are required");
  if (o.count > 25000) usage("--count is at most 25000 (ports 10000+i and 40000+i)");
  return o;
}

std::string dataplaneYaml(const Options& o, int i) {
  std::ostringstream y;
  y << "type: Dataplane\nmesh: " << o.mesh << "\nname: dp-" << i
    << "\nnetworking:\n  address: 127.0.0.1\n  inbound:\n  - port: " << 10000 + i
    << "\n    servicePort: 8080\n    tags: {braid.io/service: svc-" << i % o.services
    << ", braid.io/protocol: tcp}\n  outbound:\n  - port: " << 40000 + i
    << "\n    tags: {braid.io/service: svc-" << (i + 1) % o.services << "}\n";
  return y.str();
}

// Nearest-rank percentile of sorted values.
int64_t percentile(const std::vector<int64_t>& sorted, int p) {
  if (sorted.empty()) return -1;
  size_t rank = (sorted.size() * static_cast<size_t>(p) + 99) / 100;
  return sorted[std::max<size_t>(rank, 1) - 1];
}

std::string summary(std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  std::ostringstream out;
  out << "p50=" << percentile(values, 50) << "ms p99=" << percentile(values, 99)
      << "ms max=" << (values.empty() ? -1 : values.back()) << "ms";
  return out.str();
}

class Bench {
 public:
  explicit Bench(Options o) : options_(std::move(o)) {}

  int run() {
    if (!connect()) return finish(false);
    if (!settle()) return finish(false);
    bool allOk = true;
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream words(line);
      std::string go;
      int64_t changedAt = 0;
      uint32_t timeoutMs = 0;
      if (!(words >> go >> changedAt >> timeoutMs) || go != "GO") {
        std::fprintf(stderr, "cp_scale_load: ignoring input line '%s'\n", line.c_str());
        continue;
      }
      allOk = measureChange(changedAt, timeoutMs) && allOk;
      if (!settle()) return finish(false);
    }
    return finish(allOk);
  }

 private:
  bool connect() {
    std::ifstream caFile(options_.caFile);
    std::stringstream ca;
    ca << caFile.rdbuf();
    if (!caFile || ca.str().empty()) usage(("cannot read " + options_.caFile).c_str());
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ca.str();
    auto credentials = grpc::SslCredentials(tls);
    // One HTTP/2 connection per channel: distinct arguments and a local subchannel pool keep
    // gRPC from folding the channels onto one shared connection.
    int channels = (options_.count + options_.streamsPerChannel - 1) / options_.streamsPerChannel;
    for (int c = 0; c < channels; ++c) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("braid.cp_scale_load.channel", c);
      args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
      stubs_.push_back(dpb::DiscoveryService::NewStub(
          grpc::CreateCustomChannel(options_.target, credentials, args)));
    }
    for (int i = 0; i < options_.count; ++i) {
      proxies_.push_back(std::make_unique<SimulatedProxy>(
          *stubs_[static_cast<size_t>(i / options_.streamsPerChannel)], "dp-" + std::to_string(i),
          dataplaneYaml(options_, i), progress_));
    }
    startedAt_ = epochMs();
    for (auto& p : proxies_) p->start();
    int64_t deadline = startedAt_ + options_.connectWaitS * 1000;
    while (progress_.configured.load() + progress_.ended.load() < options_.count &&
           epochMs() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::vector<int64_t> firstConfig;
    for (auto& p : proxies_) {
      int64_t at = p->firstArrival();
      if (at >= 0) firstConfig.push_back(at - startedAt_);
    }
    std::printf("connected %zu/%d streams over %d channels; first config after start: %s\n",
                firstConfig.size(), options_.count, channels, summary(firstConfig).c_str());
    std::fflush(stdout);
    return static_cast<int>(firstConfig.size()) == options_.count;
  }

  // Waits until no response has arrived for --settle-ms, then tells the script it may proceed.
  bool settle() {
    int64_t began = epochMs();
    int64_t responsesBefore = progress_.responses.load();
    while (epochMs() - progress_.lastArrivalMs.load() < options_.settleMs) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    int64_t quietSince = progress_.lastArrivalMs.load();
    if (progress_.ended.load() > 0) return false;  // finish() reports them
    std::printf(
        "READY last response %lldms after settling began (%lld responses meanwhile, %lld in "
        "all, %.1f per stream)\n",
        static_cast<long long>(std::max<int64_t>(0, quietSince - began)),
        static_cast<long long>(progress_.responses.load() - responsesBefore),
        static_cast<long long>(progress_.responses.load()),
        static_cast<double>(progress_.responses.load()) / options_.count);
    std::fflush(stdout);
    return true;
  }

  // Streams the CP ended are a finding, not noise: report how many and why.
  bool reportEnded() {
    int ended = progress_.ended.load();
    if (ended == 0) return true;
    for (auto& p : proxies_) {
      if (!p->ended()) continue;
      auto status = p->status();
      std::printf("stream ended: %d streams; e.g. code %d: %s\n", ended, status.error_code(),
                  status.error_message().c_str());
      break;
    }
    return false;
  }

  bool measureChange(int64_t changedAt, uint32_t timeoutMs) {
    // Arrival times are taken by the streams themselves; polling only decides when to stop.
    int64_t deadline = changedAt + options_.waitS * 1000;
    std::vector<int64_t> receivedAt(proxies_.size(), -1);
    std::vector<int64_t> delays;
    while (true) {
      for (size_t i = 0; i < proxies_.size(); ++i) {
        if (receivedAt[i] >= 0) continue;
        receivedAt[i] = proxies_[i]->firstArrivalSince(changedAt, timeoutMs);
        if (receivedAt[i] >= 0) delays.push_back(receivedAt[i] - changedAt);
      }
      if (static_cast<int>(delays.size()) == options_.count || epochMs() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::printf("change timeout=%ums: received %zu/%d; delay from the change: %s\n", timeoutMs,
                delays.size(), options_.count, summary(delays).c_str());
    std::fflush(stdout);
    return static_cast<int>(delays.size()) == options_.count;
  }

  int finish(bool ok) {
    ok = reportEnded() && ok;
    for (auto& p : proxies_) p->cancel();
    int64_t deadline = epochMs() + 10000;
    while (progress_.ended.load() < options_.count && epochMs() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (progress_.ended.load() < options_.count) {
      // Reactors still running would outlive their objects: leave without destroying them.
      std::fprintf(stderr, "cp_scale_load: %d streams did not end after cancel\n",
                   options_.count - progress_.ended.load());
      std::_Exit(1);
    }
    // The tool shares the machine with the CP: say what it took.
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto ms = [](const timeval& t) { return t.tv_sec * 1000 + t.tv_usec / 1000; };
    std::printf("cp_scale_load CPU: %ld ms\n", ms(usage.ru_utime) + ms(usage.ru_stime));
    return ok ? 0 : 1;
  }

  Options options_;
  Progress progress_;
  std::vector<std::unique_ptr<dpb::DiscoveryService::Stub>> stubs_;
  std::vector<std::unique_ptr<SimulatedProxy>> proxies_;
  int64_t startedAt_ = 0;
};

}  // namespace

int main(int argc, char** argv) { return Bench(parseOptions(argc, argv)).run(); }
