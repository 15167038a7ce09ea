#pragma once

#include <chrono>
#include <functional>

struct event;
struct event_base;

namespace braid::dataplane::event {

// A one-shot timer on an event_base; the callback may re-arm it. Loop thread only.
class Timer {
 public:
  Timer(event_base* base, std::function<void()> callback);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // (Re)schedules the callback `delay` from now.
  void schedule(std::chrono::milliseconds delay);
  void cancel();

 private:
  static void onFire(int fd, short what, void* arg);

  struct event* event_ = nullptr;
  std::function<void()> callback_;
};

}  // namespace braid::dataplane::event
