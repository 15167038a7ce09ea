#include "dataplane/event/timer.h"

#include <event2/event.h>

#include <stdexcept>

namespace braid::dataplane::event {

Timer::Timer(event_base* base, std::function<void()> callback)
    : event_(evtimer_new(base, &Timer::onFire, this)), callback_(std::move(callback)) {
  if (event_ == nullptr) throw std::runtime_error("evtimer_new failed");
}

Timer::~Timer() { event_free(event_); }

void Timer::schedule(std::chrono::milliseconds delay) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(delay.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((delay.count() % 1000) * 1000);
  evtimer_add(event_, &tv);
}

void Timer::cancel() { evtimer_del(event_); }

void Timer::onFire(int, short, void* arg) { static_cast<Timer*>(arg)->callback_(); }

}  // namespace braid::dataplane::event
