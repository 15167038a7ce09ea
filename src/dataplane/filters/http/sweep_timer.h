#pragma once

// One timer for the many deadlines of a connection pool (idle timeouts, maximum connection
// durations): armed at the earliest deadline it was asked for, so the pool wakes only when
// something in it may have expired, never on a fixed poll (once more, at most, after it empties).
// The sweep closes what expired and arms the timer again for the earliest deadline left.
// Loop thread only.

#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>

#include "dataplane/event/timer.h"

namespace braid::dataplane::hcm {

class SweepTimer {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::time_point kNever = Clock::time_point::max();

  SweepTimer(event_base* base, std::function<void()> sweep)
      : sweep_(std::move(sweep)), timer_(base, [this] {
          at_ = kNever;
          sweep_();
        }) {}
  SweepTimer(const SweepTimer&) = delete;
  SweepTimer& operator=(const SweepTimer&) = delete;

  // The sweep runs at `deadline` (rounded up to the millisecond) unless already due earlier;
  // kNever does nothing.
  void armAt(Clock::time_point deadline, Clock::time_point now) {
    if (deadline >= at_) return;
    at_ = deadline;
    const auto delay = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    timer_.schedule(std::max(delay, std::chrono::milliseconds(0)));
  }
  void cancel() {
    if (at_ == kNever) return;
    at_ = kNever;
    timer_.cancel();
  }
  bool armed() const { return at_ != kNever; }
  // Expired, give or take the millisecond the timer may fire early by (libevent adds the delay
  // to the loop's cached time).
  static bool due(Clock::time_point deadline, Clock::time_point now) {
    return deadline != kNever && deadline <= now + std::chrono::milliseconds(1);
  }

 private:
  std::function<void()> sweep_;
  event::Timer timer_;
  Clock::time_point at_ = kNever;
};

}  // namespace braid::dataplane::hcm
