#include "control-plane/runtime/periodic_task.h"

#include <gtest/gtest.h>

#include <atomic>

namespace braid::runtime {
namespace {
using namespace std::chrono_literals;

TEST(PeriodicTask, RunsEveryPeriodUntilDestroyed) {
  std::atomic<int> runs{0};
  {
    PeriodicTask task(10ms, [&] { ++runs; });
    std::this_thread::sleep_for(200ms);
  }
  int seen = runs.load();
  EXPECT_GE(seen, 5);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(runs.load(), seen) << "ran after it was destroyed";
}

TEST(PeriodicTask, ALongPeriodDoesNotDelayDestruction) {
  auto start = std::chrono::steady_clock::now();
  {
    PeriodicTask task(std::chrono::hours(6), [] {});
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

}  // namespace
}  // namespace braid::runtime
