// braid-openloop: an open-loop HTTP/1.1 keep-alive load generator. Requests go out at fixed
// intended times (rate per second, evenly spaced) whatever the server does, and latency runs from
// the intended time, so a stalled server is charged for every request it delays (coordinated
// omission corrected, as in wrk2).
//   braid-openloop --url http://127.0.0.1:8080/ --rate 1000 --duration 10s [--warmup 1s]
//                  [--connections 8] [--timeout 2s] [--samples FILE]
//   braid-openloop --self-test
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "open_loop.h"
#include "self_test.h"

namespace {

// "10s", "500ms", "2.5s".
std::optional<std::chrono::nanoseconds> parseDuration(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  double scale = unit == "s" ? 1e9 : unit == "ms" ? 1e6 : unit == "us" ? 1e3 : 0;
  if (scale == 0 || value < 0) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<int64_t>(value * scale));
}

double us(int64_t ns) { return static_cast<double>(ns) / 1e3; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"braid-openloop: open-loop HTTP/1.1 keep-alive load generator"};
  std::string url, duration = "10s", warmup = "1s", timeout = "2s";
  braid::bench::OpenLoopOptions options;
  std::string samplesFile;
  bool selfTest = false;
  app.add_option("--url", url, "http://IPV4:PORT/PATH");
  app.add_option("--rate", options.rate, "requests per second")->check(CLI::PositiveNumber);
  app.add_option("--duration", duration, "how long to send (10s, 500ms)");
  app.add_option("--warmup", warmup, "first part of the run sent but not measured");
  app.add_option("--connections", options.connections, "keep-alive connections")
      ->check(CLI::Range(1, 1000));
  app.add_option("--timeout", timeout, "a request unanswered this long is an error");
  app.add_option("--samples", samplesFile,
                 "append each measured latency (us, one a line) to FILE, to merge runs");
  app.add_flag("--self-test", selfTest, "check the generator against an in-process server");
  CLI11_PARSE(app, argc, argv);
  if (selfTest) return braid::bench::runSelfTest() == 0 ? 0 : 1;

  auto parsedUrl = braid::bench::parseUrl(url);
  auto parsedDuration = parseDuration(duration);
  auto parsedWarmup = parseDuration(warmup);
  auto parsedTimeout = parseDuration(timeout);
  if (!parsedUrl || !parsedDuration || !parsedWarmup || !parsedTimeout) {
    std::fprintf(stderr,
                 "braid-openloop: need --url http://IPV4:PORT/PATH and durations such "
                 "as 10s or 500ms\n");
    return 2;
  }
  options.url = *parsedUrl;
  options.duration = *parsedDuration;
  options.warmup = *parsedWarmup;
  options.timeout = *parsedTimeout;

  braid::bench::OpenLoopResult r;
  try {
    r = braid::bench::runOpenLoop(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "braid-openloop: %s\n", e.what());
    return 1;
  }
  if (!samplesFile.empty()) {
    std::FILE* out = std::fopen(samplesFile.c_str(), "a");
    if (out == nullptr) {
      std::perror(samplesFile.c_str());
      return 1;
    }
    for (int64_t ns : r.latencyNs) std::fprintf(out, "%.1f\n", us(ns));
    if (std::fclose(out) != 0) {
      std::perror(samplesFile.c_str());
      return 1;
    }
  }
  using braid::bench::percentile;
  const auto& l = r.latencyNs;
  std::printf("braid-openloop: %s at %.0f req/s for %s (%s warm-up) over %d connections\n",
              url.c_str(), options.rate, duration.c_str(), warmup.c_str(), options.connections);
  std::printf(
      "  requests: %llu scheduled, %llu answered, %llu errors (connect %llu, io %llu, "
      "status %llu, timeout %llu, protocol %llu), %llu unfinished\n",
      static_cast<unsigned long long>(r.scheduled), static_cast<unsigned long long>(r.completed),
      static_cast<unsigned long long>(r.errors()), static_cast<unsigned long long>(r.connectErrors),
      static_cast<unsigned long long>(r.ioErrors), static_cast<unsigned long long>(r.statusErrors),
      static_cast<unsigned long long>(r.timeouts),
      static_cast<unsigned long long>(r.protocolErrors),
      static_cast<unsigned long long>(r.unfinished));
  std::printf("  achieved %.1f req/s; largest backlog %llu requests\n", r.achievedRate(),
              static_cast<unsigned long long>(r.largestBacklog));
  std::printf(
      "  latency from intended send (us, %zu measured): p50 %.1f  p90 %.1f  p99 %.1f  "
      "p99.9 %.1f  max %.1f\n",
      l.size(), us(percentile(l, 50)), us(percentile(l, 90)), us(percentile(l, 99)),
      us(percentile(l, 99.9)), us(l.empty() ? 0 : l.back()));
  std::printf("  send lag behind schedule (us): p50 %.1f  p99 %.1f  max %.1f\n",
              us(percentile(r.sendLagNs, 50)), us(percentile(r.sendLagNs, 99)),
              us(r.sendLagNs.empty() ? 0 : r.sendLagNs.back()));
  // One line for scripts.
  std::printf(
      "RESULT achieved_rps=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f "
      "max_us=%.1f errors=%llu unfinished=%llu\n",
      r.achievedRate(), us(percentile(l, 50)), us(percentile(l, 90)), us(percentile(l, 99)),
      us(percentile(l, 99.9)), us(l.empty() ? 0 : l.back()),
      static_cast<unsigned long long>(r.errors()), static_cast<unsigned long long>(r.unfinished));
  return 0;
}
